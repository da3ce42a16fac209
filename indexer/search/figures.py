"""The figures of the paragraphs matching a query (issue 30): place × year × measure × value, each with its
document, chunk and sentence; the `Searcher.figures` verb, behind the web's /api/figures and `reportsearch figures`.

Which paragraphs: every one that contains what the user typed (search/literal.py, asked of the engine exactly:
`Snapshot.matching`), with the search's filters; not the ranking's top k, nor hits only near in meaning, so the
table is complete and each row can be checked by reading its sentence. Every figure of those paragraphs is a row
(stored by the build, pipeline/figures). Measures that are the same thing in different words are grouped
(pipeline/figures/grouping.py, with the embedding model); each row names its group, so the grouping is shown.
"""
from __future__ import annotations

import dataclasses
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence, overload

import numpy as np

from indexer.core.facets import FACET_FIELDS
from indexer.core.filters import Filters
from indexer.core.lru import LruCache
from indexer.engines.base import Snapshot
from indexer.engines.figure_columns import FigureColumns
from indexer.pipeline.figures.grouping import group_measures
from indexer.search.limits import check_query
from indexer.search.literal import literal_query
from indexer.search.query import parse_query
from indexer.search.types import QueryError
from indexer.storage.vectors import Encoder
from indexer.storage.vectors.encoder import cache_key

FIGURE_SORTS = ("place", "year", "value", "measure")


@dataclass(frozen=True)
class FiguresRequest:
    query: str
    filters: Filters = Filters()
    sort: str = "place"  # one of FIGURE_SORTS; ties stay in place, year, reading order
    descending: bool = False


@dataclass(frozen=True)
class FigureHit:
    """One figure: where it was said (place, year, document, chunk, sentence) and what it says."""

    place: str
    year: int | None
    level: str
    region: str
    title: str
    doc_id: str
    path: str
    chunk_id: int
    paragraph_index: int
    heading_path: tuple[str, ...]
    measure: str  # as the paragraph words it
    group: str  # the measure's group: its most frequent member ("" for a figure without a measure)
    value: float
    value_high: float | None  # upper end of a range
    unit: str
    qualifier: str
    as_written: str
    sentence: str
    sentence_start: int  # offsets in the chunk's text: the sentence, and the number as written
    sentence_end: int
    start: int
    end: int


@dataclass(frozen=True)
class MeasureGroup:
    label: str  # the member with most rows
    measures: list[str]  # every wording in the group, most rows first
    rows: int


@dataclass
class FiguresResponse:
    query: str
    filters: dict[str, list]  # the active filters, by field
    sort: str
    descending: bool
    paragraphs: int  # matching paragraphs (chunks), with or without figures
    rows: Sequence[FigureHit]  # FigureRows: each made when read
    groups: list[MeasureGroup]  # most rows first
    generation: str
    took_ms: float = 0.0
    note: str | None = None  # e.g. that only the most frequent measures were grouped
    total: int = field(init=False)

    def __post_init__(self) -> None:
        self.total = len(self.rows)

    def to_dict(self, start: int = 0, stop: int | None = None) -> dict:
        """As JSON-ready values, with the rows[start:stop] only (a page: converting every row costs)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in ("rows", "groups")}
        data["rows"] = [dataclasses.asdict(r) for r in self.rows[start:stop]]
        data["groups"] = [dataclasses.asdict(g) for g in self.groups]
        return data


def value_text(value: float, value_high: float | None = None) -> str:
    """A figure's value as the CLI and the CSV write it: 156, 262000, 98.5, 5-10 (a range)."""
    def plain(v: float) -> str:
        return f"{v:.6f}".rstrip("0").rstrip(".")
    return plain(value) if value_high is None else f"{plain(value)}-{plain(value_high)}"


def check_figures_request(req: FiguresRequest, max_query_chars: int) -> None:
    check_query(req.query, max_query_chars)
    if not req.query.strip():
        raise QueryError("q", "请输入检索词：数据表列出含有检索词的段落中的数字。")
    if req.sort not in FIGURE_SORTS:
        raise QueryError("sort", f"排序只能是 {' / '.join(FIGURE_SORTS)}。")


class MeasureGrouper:
    """Groups of measures by meaning (pipeline/figures/grouping.py) for the figures table. Each measure's vector
    is the one the build stored with the generation (`Snapshot.measure_vectors`, storage/catalog.py), else
    encoded once per process (a generation built before they were stored; an engine that stores none); each
    set of measures is grouped once: a popular query's set repeats exactly. Keyed by the model, as the
    embedding cache is: an index's adapted model has vectors of its own."""

    def __init__(self, encoder: Callable[[], Encoder], threshold: float, size: int = 20000):
        self._encoder = encoder  # the encoder of the snapshot being read (Searcher.encoder)
        self.threshold = threshold
        self._vectors: LruCache[tuple[str, str], np.ndarray] = LruCache(size)
        self._groups: LruCache[tuple[str, tuple[str, ...]], list[list[str]]] = LruCache(256)
        self.encoded = 0  # measures this process ran the model over

    def groups(self, snap: Snapshot, measures: Sequence[str]) -> list[list[str]]:
        encoder = self._encoder()
        model = cache_key(encoder.name, encoder.backend)
        return self._groups.get_or_make((model, tuple(measures)), lambda key: group_measures(
            key[1], _MeasureVectors(self, snap, model, encoder), self.threshold))

    def vectors_of(self, snap: Snapshot, texts: Sequence[str]) -> np.ndarray:
        """`vectors` with the snapshot's encoder: what the years view pairs figures with, so a measure has the
        same vector in the 数据 table and across years."""
        encoder = self._encoder()
        return self.vectors(snap, cache_key(encoder.name, encoder.backend), encoder, texts)

    def vectors(self, snap: Snapshot, model: str, encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised rows, one per text: remembered, else stored by the build, else encoded now."""
        found = {t: v for t in texts if (v := self._vectors.get((model, t))) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        stored = getattr(snap, "measure_vectors", None)
        if missing and stored is not None:
            for t, v in stored(model, missing).items():
                self._vectors.put((model, t), v)
                found[t] = v
            missing = [t for t in missing if t not in found]
        if missing:
            self.encoded += len(missing)
            for t, v in zip(missing, np.asarray(encoder.encode(missing), dtype=np.float32)):
                self._vectors.put((model, t), v)
                found[t] = v
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)


@dataclass(frozen=True)
class _MeasureVectors:
    """The `TextEncoder` grouping.py asks for, over one snapshot's stored vectors."""

    grouper: MeasureGrouper
    snap: Snapshot
    model: str
    encoder: Encoder

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.grouper.vectors(self.snap, self.model, self.encoder, texts)


class FigureRows(Sequence[FigureHit]):
    """A table's rows in a chosen order, each `FigureHit` made when it is asked for: a page shows 50 of up to
    ~13,000 rows (making them all was most of a first table's time at 100k chunks); the exports read them all."""

    def __init__(self, columns: FigureColumns, positions: np.ndarray, labels: list[str]):
        self._columns = columns
        self._positions = positions
        self._labels = labels  # each measure code's group label

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, i: int) -> FigureHit: ...
    @overload
    def __getitem__(self, i: slice) -> list[FigureHit]: ...
    def __getitem__(self, i: int | slice) -> FigureHit | list[FigureHit]:
        if isinstance(i, slice):
            return [self._hit(j) for j in self._positions[i].tolist()]
        return self._hit(int(self._positions[i]))

    def __iter__(self) -> Iterator[FigureHit]:
        return (self._hit(j) for j in self._positions.tolist())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FigureRows({len(self)} rows)"

    def _hit(self, j: int) -> FigureHit:
        cols = self._columns
        f, chunk = cols.figures[j], cols.chunks[j]
        doc = cols.docs[chunk.doc]
        m = doc.meta
        return FigureHit(
            place=m.place, year=m.year, level=m.level, region=m.region, title=m.title, doc_id=doc.doc_id,
            path=doc.path, chunk_id=chunk.chunk_id, paragraph_index=chunk.paragraph_index,
            heading_path=chunk.heading_path, measure=f.measure, group=self._labels[int(cols.measure_codes[j])],
            value=f.value, value_high=f.value_high, unit=f.unit, qualifier=f.qualifier, as_written=f.as_written,
            sentence=cols.sentences[j], sentence_start=f.sentence_start, sentence_end=f.sentence_end,
            start=f.start, end=f.end,
        )


@dataclass(frozen=True)
class FiguresTable:
    """One request's figures (positions in the columns, in reading order: place, year, document, paragraph),
    each measure's group and the groups, before sorting: what FiguresCache keeps."""

    paragraphs: int
    columns: FigureColumns
    positions: np.ndarray
    labels: list[str]  # the group label of each of the columns' measure codes ("" for none)
    groups: list[MeasureGroup]
    note: str | None

    def __len__(self) -> int:
        return len(self.positions)

    def rows(self, sort: str, descending: bool) -> FigureRows:
        """The rows by the chosen column; ties keep the reading order (a stable sort, as Python's, descending
        too)."""
        at = self.positions
        if sort == "place":
            key = self.columns.place_rank[at]
        elif sort == "year":
            key = self.columns.year_rank[at]
        elif sort == "value":
            key = self.columns.values[at]
        else:  # measure: by group, then the measure as worded
            measures = self.columns.measures
            ranked = sorted(range(len(measures)), key=lambda c: (self.labels[c], measures[c]))
            rank = np.empty(len(measures), dtype=np.int64)
            rank[ranked] = np.arange(len(measures))
            key = rank[self.columns.measure_codes[at]]
        order = np.argsort(-key if descending else key, kind="stable")
        return FigureRows(self.columns, at[order], self.labels)


def figures_table(snap: Snapshot, req: FiguresRequest, grouper: MeasureGrouper, limit: int) -> FiguresTable:
    """Every figure in the paragraphs matching the request, in reading order (place, year, document, paragraph),
    each with its measure's group; the groups; and how many paragraphs matched (with or without figures)."""
    ids = snap.matching(literal_query(parse_query(req.query)), req.filters)
    columns, positions = figure_columns(snap, ids)
    counts = np.bincount(columns.measure_codes[positions], minlength=len(columns.measures))
    found = Counter({columns.measures[c]: int(counts[c]) for c in np.flatnonzero(counts).tolist() if c})
    label_of, groups, note = measure_groups(snap, found, grouper, limit)
    labels = [label_of.get(m, "") for m in columns.measures]
    return FiguresTable(len(ids), columns, positions, labels, groups, note)


def figure_columns(snap: Snapshot, ids: Sequence[int]) -> tuple[FigureColumns, np.ndarray]:
    """The figures of these chunks: positions in the generation's figure columns where the engine keeps them
    (local), else columns made from the rows of these chunks alone (Milvus stores no figures: its snapshot derives
    them from the text). Only the chunks that have figures are read (a chunk row costs: its JSON and text)."""
    whole = getattr(snap, "figure_columns", None)
    columns = whole() if whole is not None else None
    if columns is not None:
        return columns, columns.rows_of(ids)
    figures = snap.figures(ids)
    chunks = snap.chunks(figures)
    columns = FigureColumns.from_rows(figures, chunks, snap.documents({c.doc_id for c in chunks.values()}))
    return columns, np.arange(len(columns))


def measure_groups(snap: Snapshot, counts: Counter, grouper: MeasureGrouper,
                   limit: int) -> tuple[dict[str, str], list[MeasureGroup], str | None]:
    """Each measure's group label; the groups, most rows first; a note when some measures were left ungrouped
    (more than `limit` distinct ones: only the most frequent are clustered)."""
    frequent = [m for m, _ in sorted(counts.items(), key=lambda mn: (-mn[1], mn[0]))]
    clustered = grouper.groups(snap, frequent[:limit]) + [[m] for m in frequent[limit:]]
    label_of: dict[str, str] = {}
    groups = []
    for members in clustered:
        members = sorted(members, key=lambda m: (-counts[m], m))
        for m in members:
            label_of[m] = members[0]
        groups.append(MeasureGroup(members[0], members, sum(counts[m] for m in members)))
    groups.sort(key=lambda g: (-g.rows, g.label))
    note = None
    if len(frequent) > limit:
        note = f"共 {len(frequent)} 种指标，只合并了出现最多的 {limit} 种；其余各自成组。"
    return label_of, groups, note


class FiguresCache:
    """The tables of the last few requests (query + filters), per snapshot and its build/sync info: the 数据 page
    is re-sorted, paged and exported, and popular queries come back. Bounded by entries and by rows in all
    (`[figures] table_cache_entries`, `table_cache_rows`); a larger table is not kept. A local generation's
    table is positions into its figure columns (8 bytes a row); an engine without them (Milvus) keeps each
    table's own rows (~1 KB a row)."""

    def __init__(self, entries: int = 16, max_rows: int = 60_000):
        self.entries = entries
        self.max_rows = max_rows
        self._items: OrderedDict[tuple, FiguresTable] = OrderedDict()
        self._rows = 0
        self._lock = threading.Lock()

    def get_or_make(self, snap: Snapshot, req: FiguresRequest, make: Callable[[], FiguresTable]) -> FiguresTable:
        # A Milvus snapshot can be synced in place: its info (synced_at) is part of the key.
        key = (snap.name, tuple(sorted(snap.info.items())), req.query, req.filters)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        table = make()  # outside the lock: two threads may both make it, the last one is kept
        if self.entries > 0 and len(table) <= self.max_rows:
            with self._lock:
                old = self._items.pop(key, None)
                self._rows += len(table) - (len(old) if old else 0)
                self._items[key] = table
                while len(self._items) > self.entries or self._rows > self.max_rows:
                    self._rows -= len(self._items.popitem(last=False)[1])
        return table


def active_filters(filters: Filters) -> dict[str, list]:
    return {name: list(getattr(filters, name)) for name in FACET_FIELDS if getattr(filters, name)}

