"""The engine seam: what the `Searcher` façade asks of a storage engine, and nothing more.

Everything above this seam is shared by every engine: query parsing, rewriting, the routing/fusion plan,
the semantic floor, boilerplate collapsing, grouping by place, facet counting over candidates, shared
sentences, highlighting, and the CLI / web / eval. Below it an engine answers with chunk ids, scores and
rows. Two engines implement it:

- local (indexer/engines/local/engine.py): one published generation = SQLite catalog + Whoosh/tantivy + FAISS;
- milvus (indexer/engines/milvus/): one collection behind an alias, BM25 + dense in Milvus.

A `Snapshot` is one consistent read view (local: a generation folder; Milvus: the collection the alias
pointed to when it was opened). The façade acquires one per query and never mixes two.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Protocol, Sequence

import numpy as np

from indexer.core.facets import UNKNOWN
from indexer.core.filters import Filters
from indexer.core.querytree import ParsedQuery
from indexer.storage.generations import IndexUnavailable

if TYPE_CHECKING:
    from indexer.storage.catalog import ChunkRow, DocRow
    from indexer.storage.catalog_rows import FigureRow
    from indexer.core.document import Paragraph
    from indexer.storage.vectors.term_table import TermTable

Ranked = list[tuple[int, float]]  # (chunk id, score), best first
FacetCounts = dict[str, list[tuple[str, int]]]  # field -> [(value, count)], count descending, then value
NO_GROUP = -1  # FoldKeys.group of a chunk in no boilerplate group


class IndexNotFound(IndexUnavailable):
    """Nothing has been published yet, or the published snapshot cannot be opened (damaged); the message
    says what to run."""


class IndexDamaged(IndexNotFound):
    """The published snapshot opened but its files are damaged (found when a query failed on them)."""

    def __init__(self, damage: list[str], repair: str = "reportsearch index --full"):
        super().__init__(f"index damaged: {'; '.join(damage)}, run `{repair}`")
        self.damage = damage
        self.repair = repair


@dataclass(frozen=True, slots=True)
class ChunkFacts:
    """The few small values the façade needs about every candidate (not only the shown page): which
    document, which boilerplate group, and the facet values. Cheap to fetch for a few hundred ids."""

    doc_id: str
    dup_group: int | None
    place: str
    level: str
    region: str
    year: int | None
    kind: str


@dataclass(frozen=True, slots=True)
class FoldKeys:
    """What the folds of a result list (one copy per boilerplate group, one hit per place) compare, for every
    result at once: arrays aligned with the ids asked for. A search asks once, for all its results, so the
    codes need only be comparable within one answer."""

    present: np.ndarray  # bool: the snapshot has the chunk (the others are no results)
    group: np.ndarray  # int64: equal codes (>= 0) = the same boilerplate group (ChunkFacts.dup_group), NO_GROUP: none
    place: np.ndarray  # int64: equal codes = the same place; a document without a known place is its own place


class Snapshot(Protocol):
    name: str  # generation / collection name, reported in responses
    info: dict[str, str]  # build settings (model, dims, backend, …)

    # -- retrieval
    def keyword(self, query: ParsedQuery, limit: int, filters: Filters) -> Ranked: ...
    def matching(self, query: ParsedQuery, filters: Filters) -> list[int]:
        """Every chunk id the full-text side matches for this query and filters, unordered: exact, never a
        top k (the literal matches that counts, facets and per-place lists are built from)."""
        ...
    def semantic(self, vector: np.ndarray, limit: int, filters: Filters,
                 within: Sequence[int] | None = None) -> Ranked: ...  # `within`: only these (already filtered) ids
    def vector(self, chunk_id: int) -> np.ndarray | None: ...
    def sentence_vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray] | None:
        """Each chunk's stored sentence vectors (vectors/sentence_vectors.py); None when this snapshot stores
        none (the search then encodes the candidates' sentences itself)."""
        ...
    def term_table(self) -> "TermTable | None":
        """The corpus's official terms with their vectors (vectors/term_table.py), for the bridge
        (search/bridge.py); None when this snapshot stores none (the search then has no bridge)."""
        ...

    # -- candidates and rows
    def facts(self, ids: Sequence[int]) -> dict[int, ChunkFacts]: ...  # ids it does not have are left out
    def fold_keys(self, ids: np.ndarray) -> FoldKeys: ...  # every result's group and place, as arrays
    def facet_counts(self, ids: Sequence[int], fields: Sequence[str], copies_once: bool) -> FacetCounts:
        """Chunks per value of each field over these ids (each id once); with `copies_once` the chunks of
        one boilerplate group count once per value (group = ChunkFacts.dup_group). Asked of the engine, not
        counted over `facts` above the seam: local answers from its columns in microseconds."""
        ...
    def chunks(self, ids: Iterable[int]) -> dict[int, "ChunkRow"]: ...
    def word_offsets(self, ids: Iterable[int]) -> dict[int, bytes]: ...
    def figures(self, ids: Iterable[int]) -> dict[int, list["FigureRow"]]:
        """chunk id -> its figures (pipeline/figures) in text order, for the given chunks that have any."""
        ...
    def documents(self, doc_ids: Iterable[str]) -> dict[str, "DocRow"]: ...
    def document_list(self) -> list["DocRow"]: ...  # every document, by path (`show <path>`)
    def document_chunks(self, doc_id: str) -> list["ChunkRow"]: ...
    def paragraphs(self, doc_id: str) -> list["Paragraph"]: ...
    def aliases_of(self, doc_id: str) -> list[str]: ...
    def dup_members(self, groups: Iterable[int]) -> dict[int, list[tuple[int, str]]]: ...

    # -- whole-corpus figures
    def facet_values(self, filters: Filters) -> FacetCounts: ...
    def counts(self) -> tuple[int, int]: ...  # (documents, chunks)

    def close(self) -> None: ...


class Engine(Protocol):
    """Opens snapshots and tells when a newer one has been published (the façade then switches,
    search/snapshots.py). Both raise IndexNotFound with a message naming what to run."""

    def stamp(self) -> object | None: ...  # cheap; changes when a new snapshot is published; None: nothing yet
    def published(self) -> str: ...  # name of the published snapshot (IndexNotFound: none, or unreadable)
    def open(self, name: str) -> Snapshot: ...  # open that snapshot (IndexNotFound when it cannot be)
    def close(self) -> None: ...  # its connections (snapshots already handed out are closed by their holders)


def count_facets(facts: Iterable[tuple[int, ChunkFacts]], fields: Sequence[str], copies_once: bool) -> FacetCounts:
    """`Snapshot.facet_counts` for an engine without columnar fast paths: chunks per value, count descending
    then value (the local engine's order); with `copies_once` a boilerplate group counts once per value."""
    out: FacetCounts = {}
    pairs = list(facts)
    for name in fields:
        seen: dict[str, set] = {}
        for cid, f in pairs:
            value = getattr(f, name)
            if value is None or value == "":
                value = UNKNOWN  # a document value nobody could tell counts as one of its own
            key = f.dup_group if copies_once and f.dup_group is not None else ("chunk", cid)
            seen.setdefault(str(value), set()).add(key)
        out[name] = sorted(((v, len(keys)) for v, keys in seen.items()), key=lambda vn: (-vn[1], vn[0]))
    return out


def fold_keys_of(ids: np.ndarray, facts: dict[int, ChunkFacts]) -> FoldKeys:
    """`Snapshot.fold_keys` for an engine without columnar fast paths, from the chunks' `facts`."""
    places: dict[str, int] = {}
    groups: dict[int, int] = {}
    present = np.zeros(len(ids), dtype=bool)
    group = np.full(len(ids), NO_GROUP, dtype=np.int64)
    place = np.zeros(len(ids), dtype=np.int64)
    for i, cid in enumerate(ids.tolist()):
        f = facts.get(cid)
        if f is None:
            continue
        present[i] = True
        if f.dup_group is not None:
            group[i] = groups.setdefault(f.dup_group, len(groups))
        place[i] = places.setdefault(f.place or f"doc:{f.doc_id}", len(places))
    return FoldKeys(present, group, place)
