"""A place's reports by year, and two (or more) of its years side by side (issue 30 point 3): the
`Searcher.place` and `Searcher.years` verbs, behind the web's /place pages and `reportsearch years`.

The paragraphs of consecutive chosen years are aligned one to one (search/align.py): meaning from the vectors
the index stores for every chunk (a heading line has no chunk: its text is encoded, once per process), wording
and the heading above. Each row is 新增, 延续 (both texts, the changed characters marked) or 未再提及; the figures
of a 延续 pair that count the same thing (same unit, measure worded alike) are shown across the years (6起 → 9起).
A query scopes the rows to paragraphs containing it (either year), after aligning the whole reports.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from indexer.core.filters import Filters
from indexer.engines.base import Snapshot
from indexer.pipeline.figures.grouping import different, pair_similarity
from indexer.pipeline.lines import TITLE_LEVEL
from indexer.search.align import (
    CONTINUED, DROPPED, LABELS, NEW, AlignParagraph, AlignWeights, Pair, align, bigrams, dice, diff,
)
from indexer.search.limits import check_query
from indexer.search.literal import literal_query
from indexer.search.query import parse_query
from indexer.search.types import QueryError
from indexer.storage.catalog import DocRow

MAX_YEARS = 6  # years compared in one request (each consecutive pair aligned)
MIN_MEASURE_DICE = 0.5  # two figures' measures worded this alike count the same thing


@dataclass(frozen=True)
class YearsRequest:
    place: str
    years: tuple[int, ...] = ()  # two or more of the place's report years; () = its last two
    query: str = ""  # only rows whose paragraph (either year) contains it


@dataclass(frozen=True)
class ReportRef:
    """One report of the place: what the place page lists."""

    doc_id: str
    path: str
    title: str
    year: int | None
    level: str
    region: str
    paragraphs: int
    chunks: int
    figures: int


@dataclass(frozen=True)
class PlaceView:
    place: str
    reports: list[ReportRef]  # by year, then path
    years: list[int]  # distinct known years, ascending
    generation: str


@dataclass(frozen=True)
class Side:
    """One year's paragraph of a row; `segments` are its text as (text, changed) runs."""

    doc_id: str
    year: int | None
    paragraph_index: int
    text: str
    is_heading: bool
    heading_path: list[str]
    chunk_ids: list[int]
    segments: list[tuple[str, bool]]


@dataclass(frozen=True)
class FigureChange:
    """The same measure in two years: 调解矛盾纠纷 156件 → 182件."""

    measure: str  # as the later year words it (the earlier's when they differ is in earlier_measure)
    earlier_measure: str
    unit: str
    earlier: str  # as written
    later: str
    earlier_value: float
    later_value: float
    earlier_paragraph: int
    later_paragraph: int
    earlier_sentence: str
    later_sentence: str
    earlier_chunk: int
    later_chunk: int
    # each sentence's offsets in its chunk's text (the document view marks it: a value opens its sentence)
    earlier_sentence_start: int = 0
    earlier_sentence_end: int = 0
    later_sentence_start: int = 0
    later_sentence_end: int = 0


@dataclass(frozen=True)
class YearRow:
    label: str  # 新增 / 延续 / 未再提及
    score: float
    earlier: Side | None
    later: Side | None
    figures: list[FigureChange]


@dataclass(frozen=True)
class YearComparison:
    earlier: ReportRef
    later: ReportRef
    rows: list[YearRow]
    counts: dict[str, int]  # label -> rows shown
    figures: list[FigureChange]  # every row's, in row order


@dataclass
class YearsResponse:
    place: str
    query: str
    years: list[int]  # the years compared
    reports: list[ReportRef]  # every report of the place
    comparisons: list[YearComparison]  # one per consecutive pair of `years`
    generation: str
    threshold: float
    took_ms: float = 0.0
    note: str | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# -- the place -------------------------------------------------------------------------------------------
def place_reports(snap: Snapshot, place: str) -> list[DocRow]:
    """The place's documents by year (unknown last), then path; KeyError when it has none."""
    docs = [d for d in snap.document_list() if d.meta.place == place]
    if not docs:
        raise KeyError(place)
    return sorted(docs, key=lambda d: (d.meta.year is None, d.meta.year or 0, d.path))


def report_ref(snap: Snapshot, doc: DocRow) -> ReportRef:
    chunks = snap.document_chunks(doc.doc_id)
    m = doc.meta
    return ReportRef(doc_id=doc.doc_id, path=doc.path, title=m.title, year=m.year, level=m.level,
                     region=m.region, paragraphs=len(snap.paragraphs(doc.doc_id)), chunks=len(chunks),
                     figures=sum(len(f) for f in snap.figures(c.chunk_id for c in chunks).values()))


def place_view(snap: Snapshot, place: str) -> PlaceView:
    docs = place_reports(snap, place)
    return PlaceView(place=place, reports=[report_ref(snap, d) for d in docs],
                     years=sorted({d.meta.year for d in docs if d.meta.year is not None}), generation=snap.name)


# -- the comparison --------------------------------------------------------------------------------------
def check_years_request(req: YearsRequest, max_query_chars: int) -> None:
    check_query(req.query, max_query_chars)
    if not req.place.strip():
        raise QueryError("place", "请指定地方名称。")
    if len(req.years) == 1:
        raise QueryError("years", "历年对比需要两个不同的年份。")
    if len(req.years) > MAX_YEARS:
        raise QueryError("years", f"一次最多对比 {MAX_YEARS} 个年份。")
    if len(set(req.years)) != len(req.years):
        raise QueryError("years", "对比的年份不能重复。")


def chosen_reports(docs: list[DocRow], years: Sequence[int], place: str) -> tuple[list[DocRow], str | None]:
    """One report per chosen year (the first by path when a year has several: the note says so)."""
    by_year: dict[int, list[DocRow]] = {}
    for d in docs:
        if d.meta.year is not None:
            by_year.setdefault(d.meta.year, []).append(d)
    known = sorted(by_year)
    if len(known) < 2:
        only = f"只有 {known[0]} 年一份" if known else "没有标明年份的"
        raise QueryError("years", f"{place}{only}报告，无法进行历年对比。")
    wanted = sorted(years) if years else known[-2:]
    for year in wanted:
        if year not in by_year:
            # the parameter the user gave this year in (from=2024&to=2023 is sorted, but 2023 came as `to`)
            param = "years" if len(wanted) > 2 else ("from" if year == years[0] else "to")
            raise QueryError(param, f"{place}没有 {year} 年的报告（有 {'、'.join(map(str, known))} 年）。")
    several = [y for y in wanted if len(by_year[y]) > 1]
    note = (f"{'、'.join(map(str, several))} 年有多份报告，取路径在前的一份。" if several else None)
    return [by_year[y][0] for y in wanted], note


def compare(snap: Snapshot, earlier: DocRow, later: DocRow, encode: Callable[[list[str]], np.ndarray],
            threshold: float, scope: set[int] | None, measure_threshold: float,
            weights: AlignWeights = AlignWeights(),
            measure_vectors: Callable[[list[str]], np.ndarray] | None = None) -> YearComparison:
    """The aligned rows of two reports; `scope`: only rows with a chunk among these ids (None: every row);
    two figures' measures count the same thing when the 数据 view would group them (their similarity there
    reaches `measure_threshold`: pipeline/figures/grouping.py, with its vetoes) or their cores are equal
    (`measure_core`). `measure_vectors`: the measures' vectors (the build stores them), else `encode`."""
    left, right = ReportSide(snap, earlier, encode), ReportSide(snap, later, encode)
    pairs = align(left.align_paragraphs, right.align_paragraphs, threshold, weights)
    used: set[tuple[str, int, int]] = set()
    rows: list[YearRow] = []
    before, after = left.all_figures(scope), right.all_figures(scope)
    # every measure a pair could be asked about (a continued row may have one side outside the scope)
    earlier_all, later_all = left.all_figures(None), right.all_figures(None)
    units = {f[0].unit for f in earlier_all} & {f[0].unit for f in later_all}
    measures = sorted({f[0].measure for f in earlier_all + later_all if f[0].unit in units and f[0].measure})
    vectors = dict(zip(measures, (measure_vectors or encode)(measures))) if measures else {}  # one batch
    places = (earlier.meta.place, later.meta.place)

    def meaning(a: str, b: str) -> float:
        return _meaning_alike(a, b, vectors, measure_threshold, places)

    def alike(a: str, b: str) -> float:
        worded = dice(bigrams(a), bigrams(b))  # within a continued paragraph pair: worded alike is enough
        return worded if worded >= MIN_MEASURE_DICE and not different(a, b) else meaning(a, b)

    for p in pairs:
        if scope is not None and not (left.in_scope(p.earlier, scope) or right.in_scope(p.later, scope)):
            continue
        rows.append(_row(p, left, right, alike, used))
    # Then the same measure anywhere else in the two reports (a paragraph split or merged, a topic moved).
    # Only measures alike in meaning (the figures view's grouping threshold): 第一产业产值 / 第二产业产值 are
    # worded alike but count different things, and outside a continued paragraph nothing else tells them apart.
    elsewhere = figure_changes(before, after, meaning, used)
    figures = sorted([f for r in rows for f in r.figures] + elsewhere, key=lambda f: (f.later_paragraph, f.earlier_paragraph))
    counts = {label: sum(r.label == label for r in rows) for label in LABELS}
    return YearComparison(earlier=report_ref(snap, earlier), later=report_ref(snap, later), rows=rows, counts=counts,
                          figures=figures)


class ReportSide:
    """One report's paragraphs, their vectors and figures, read from the snapshot once."""

    def __init__(self, snap: Snapshot, doc: DocRow, encode: Callable[[list[str]], np.ndarray]):
        self.doc = doc
        self.paragraphs = {p.index: p for p in snap.paragraphs(doc.doc_id)
                           if p.text.strip() and not (p.is_heading and p.heading_level == TITLE_LEVEL)}
        self.chunks: dict[int, list] = {}
        for c in snap.document_chunks(doc.doc_id):
            self.chunks.setdefault(c.paragraph_index, []).append(c)
        self.figures = snap.figures(c.chunk_id for cs in self.chunks.values() for c in cs)
        vectors: dict[int, np.ndarray] = {}
        for index, cs in self.chunks.items():
            found = [v for c in cs if (v := snap.vector(c.chunk_id)) is not None]
            if found:
                mean = np.mean(np.stack(found), axis=0)
                vectors[index] = mean / (np.linalg.norm(mean) or 1.0)
        # A heading line has no chunk, hence no stored vector: it takes the mean of the paragraphs under it
        # (what the section is about, with no model call); only a heading with nothing under it is encoded.
        for i, p in self.paragraphs.items():
            if i not in vectors and p.is_heading:
                under = [vectors[k] for k, q in self.paragraphs.items()
                         if k > i and k in vectors and p.text in q.heading_path]
                if under:
                    mean = np.mean(np.stack(under), axis=0)
                    vectors[i] = mean / (np.linalg.norm(mean) or 1.0)
        missing = [i for i in self.paragraphs if i not in vectors]
        if missing:
            for i, v in zip(missing, encode([self.paragraphs[i].text for i in missing])):
                vectors[i] = np.asarray(v, dtype=np.float32)
        self.align_paragraphs = [
            AlignParagraph(index=p.index, text=p.text, is_heading=p.is_heading,
                           heading=p.heading_path[-1] if p.heading_path else "", vector=vectors[p.index])
            for p in sorted(self.paragraphs.values(), key=lambda p: p.index)
        ]

    def in_scope(self, index: int | None, scope: set[int]) -> bool:
        return index is not None and any(c.chunk_id in scope for c in self.chunks.get(index, []))

    def side(self, index: int, segments: list[tuple[str, bool]] | None = None) -> Side:
        p = self.paragraphs[index]
        return Side(doc_id=self.doc.doc_id, year=self.doc.meta.year, paragraph_index=index, text=p.text,
                    is_heading=p.is_heading, heading_path=list(p.heading_path),
                    chunk_ids=[c.chunk_id for c in self.chunks.get(index, [])],
                    segments=segments if segments is not None else [(p.text, False)])

    def paragraph_figures(self, index: int) -> list[tuple]:
        """(figure, chunk id, sentence, paragraph index) of a paragraph, in text order."""
        out = []
        for c in self.chunks.get(index, []):
            for f in self.figures.get(c.chunk_id, []):
                out.append((f, c.chunk_id, c.text[f.sentence_start:f.sentence_end], index))
        return out

    def all_figures(self, scope: set[int] | None) -> list[tuple]:
        return [f for index in sorted(self.chunks) if scope is None or self.in_scope(index, scope)
                for f in self.paragraph_figures(index)]


# Words around a measure that do not change what is counted: the report's own place and its area (营仔镇镇内,
# 全区), the year (全年), achieving/summing verbs (实现, 累计), a year-on-year marker (同比). Without them
# 实现生产总值 and 营仔镇镇内生产总值 are one measure; nothing that tells two measures apart is among them.
_LEADING = re.compile(r"^(?:全年|今年|年内|[全本](?:镇|乡|区|县|市|街道?)|(?:镇|乡|区|县|市|街道)(?:内|域)|辖区内?"
                      r"|实现|完成|累计|共计|共|达到|达)")
_INNER = re.compile(r"同比|较上年|比上年")


def measure_core(measure: str, places: Sequence[str] = ()) -> str:
    """The measure without the words around it that do not change what is counted (_LEADING, _INNER)."""
    core = _INNER.sub("", measure)
    for place in places:
        if place and core.startswith(place):
            core = core[len(place):]
    while (cut := _LEADING.sub("", core, count=1)) != core and cut:
        core = cut
    return core


def _meaning_alike(a: str, b: str, vectors: dict[str, np.ndarray], threshold: float,
                   places: Sequence[str] = ()) -> float:
    """How alike two measures are in meaning (0 when not alike enough): as the 数据 view's grouping scores a
    pair (cosine + a share of wording, vetoed when they differ in kind, numerals, negation or a contrast:
    增加 / 减少, 受理 / 办结), or the same once the words that do not change what is counted are set aside."""
    if a == b:
        return 1.0
    if different(a, b):
        return 0.0
    core = measure_core(a, places)
    if core == measure_core(b, places) and len(core) >= 2:  # not a bare 率 left of 完成率 / 实现率
        return 1.0
    score = float(pair_similarity(a, b, vectors[a], vectors[b]))
    return score if score >= threshold else 0.0


def _row(p: Pair, left: ReportSide, right: ReportSide, alike: Callable[[str, str], float],
         used: set[tuple[str, int, int]]) -> YearRow:
    if p.label == CONTINUED:
        a, b = diff(left.paragraphs[p.earlier].text, right.paragraphs[p.later].text)
        return YearRow(CONTINUED, p.score, left.side(p.earlier, a), right.side(p.later, b),
                       figure_changes(left.paragraph_figures(p.earlier), right.paragraph_figures(p.later), alike, used))
    if p.label == NEW:
        return YearRow(NEW, p.score, None, right.side(p.later), [])
    return YearRow(DROPPED, p.score, left.side(p.earlier), None, [])


Located = tuple  # (figure row, chunk id, sentence, paragraph index)


def figure_changes(before: list[Located], after: list[Located], alike: Callable[[str, str], float],
                   used: set[tuple[str, int, int]]) -> list[FigureChange]:
    """The figures that count the same thing in both lists: same unit and measures alike, paired one to one,
    most alike first; figures already in `used` ("e"/"l", chunk, seq) are skipped and the chosen added."""
    candidates = []
    for i, (fe, ce, _, _) in enumerate(before):
        if ("e", ce, fe.seq) in used or not fe.measure:
            continue
        for j, (fl, cl, _, _) in enumerate(after):
            if ("l", cl, fl.seq) in used or fe.unit != fl.unit or not fl.measure:
                continue
            score = alike(fe.measure, fl.measure)
            if score > 0:
                candidates.append((-score, j, i))
    chosen = []
    for _, j, i in sorted(candidates):
        (fe, ce, _, _), (fl, cl, _, _) = before[i], after[j]
        if ("e", ce, fe.seq) in used or ("l", cl, fl.seq) in used:
            continue
        used.update({("e", ce, fe.seq), ("l", cl, fl.seq)})
        chosen.append((j, i))
    out = []
    for j, i in sorted(chosen):
        (fe, ce, se, pe), (fl, cl, sl, pl) = before[i], after[j]
        out.append(FigureChange(
            measure=fl.measure, earlier_measure=fe.measure, unit=fl.unit, earlier=fe.as_written, later=fl.as_written,
            earlier_value=fe.value, later_value=fl.value, earlier_paragraph=pe, later_paragraph=pl,
            earlier_sentence=se, later_sentence=sl, earlier_chunk=ce, later_chunk=cl,
            earlier_sentence_start=fe.sentence_start, earlier_sentence_end=fe.sentence_end,
            later_sentence_start=fl.sentence_start, later_sentence_end=fl.sentence_end,
        ))
    return out


def scope_ids(snap: Snapshot, query: str, place: str) -> set[int] | None:
    """The chunks of the place containing the query (None: no query, every row)."""
    if not query.strip():
        return None
    return set(snap.matching(literal_query(parse_query(query)), Filters(place=(place,))))
