"""The local engine's per-generation in-memory columns of what every query needs about every chunk (its
document, facet values, boilerplate group), like a search engine's doc values.

A query looks at up to a few hundred candidates but shows ten: facet counts, grouping by place, boilerplate
collapsing and filters need only these few small values, which here cost microseconds per candidate instead
of SQLite rows with text (~5 ms per query at 100k chunks). Built once when a generation is opened
(~0.1 s and ~20 bytes per chunk); a published generation never changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from indexer.core.facets import DOC_FACET_FIELDS as DOC_FACETS
from indexer.core.facets import FACET_FIELDS as FACETS
from indexer.core.facets import UNKNOWN
from indexer.core.filters import Filters
from indexer.storage.catalog import Catalog
from indexer.engines.base import NO_GROUP, ChunkFacts, FoldKeys


@dataclass(frozen=True)
class _Coded:
    """A column as small integer codes into a table of distinct values (the value at code 0 is "none")."""

    codes: np.ndarray
    values: list

    def code_of(self, wanted: Sequence) -> np.ndarray:
        lookup = {v: i for i, v in enumerate(self.values)}
        lookup[UNKNOWN] = 0  # no value (code 0)
        return np.array([lookup[v] for v in wanted if v in lookup], dtype=self.codes.dtype)


def _coded(raw: Sequence) -> _Coded:
    values: list = [None]
    index: dict = {}
    codes = np.empty(len(raw), dtype=np.int32)
    for i, v in enumerate(raw):
        if v is None or v == "":
            codes[i] = 0
            continue
        c = index.get(v)
        if c is None:
            c = index[v] = len(values)
            values.append(v)
        codes[i] = c
    return _Coded(codes, values)


class ChunkColumns:
    def __init__(self, catalog: Catalog):
        docs, chunks = catalog.facet_rows()
        self.doc_ids: list[str] = [d[0] for d in docs]
        doc_row = {d: i for i, d in enumerate(self.doc_ids)}
        self._doc_facets = {name: _coded([d[i + 1] for d in docs]) for i, name in enumerate(DOC_FACETS)}
        self.chunk_ids = np.fromiter((c[0] for c in chunks), dtype=np.int64, count=len(chunks))
        self.doc_of = np.fromiter((doc_row[c[1]] for c in chunks), dtype=np.int32, count=len(chunks))
        self._kind = _coded([c[2] for c in chunks])
        self.dup_group = np.fromiter((NO_GROUP if c[3] is None else c[3] for c in chunks), dtype=np.int64,
                                     count=len(chunks))
        # the same as small codes 0..groups-1 (group ids are chunk ids: 63-bit hashes), for tables and bincounts
        self.group_code = np.full(len(chunks), NO_GROUP, dtype=np.int64)
        grouped = self.dup_group != NO_GROUP
        self.group_code[grouped] = np.unique(self.dup_group[grouped], return_inverse=True)[1]
        self.groups = int(self.group_code.max()) + 1 if len(chunks) else 0

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def positions(self, ids: Sequence[int]) -> np.ndarray:
        """Row of each id in the columns, -1 for an id the catalog does not have."""
        ids = np.asarray(ids, dtype=np.int64)
        # sorted needles search ~2x faster; a search's ids come mostly sorted (its tail is by id): timsort
        order = np.argsort(ids, kind="stable")
        at = np.empty(len(ids), dtype=np.int64)
        at[order] = np.searchsorted(self.chunk_ids, ids[order])
        at[at >= len(self.chunk_ids)] = 0
        return np.where(self.chunk_ids[at] == ids, at, -1) if len(self.chunk_ids) else np.full(len(ids), -1)

    def facts(self, ids: Sequence[int]) -> dict[int, ChunkFacts]:
        """The façade's small values of these chunks (ids the catalog does not have are left out)."""
        ids = np.asarray(ids, dtype=np.int64)
        positions = self.positions(ids)
        keep = positions >= 0
        ids, rows = ids[keep], positions[keep]
        docs = self.doc_of[rows]
        values = {name: [col.values[c] for c in col.codes[docs].tolist()] for name, col in self._doc_facets.items()}
        kinds = [self._kind.values[c] for c in self._kind.codes[rows].tolist()]
        groups = self.dup_group[rows].tolist()
        return {cid: ChunkFacts(doc_id=self.doc_ids[d], dup_group=None if g == NO_GROUP else g,
                                place=p or "", level=lv or "", region=r or "", year=y, kind=k or "")
                for cid, d, g, p, lv, r, y, k in zip(ids.tolist(), docs.tolist(), groups, values["place"],
                                                    values["level"], values["region"], values["year"], kinds)}

    def fold_keys(self, ids: Sequence[int]) -> FoldKeys:
        """Each id's boilerplate group code and place code (the place's code in the place column; a document
        without a place is its own place: -1 - its row), as `Snapshot.fold_keys`."""
        positions = self.positions(ids)
        present = positions >= 0
        if not len(self):
            none = np.full(len(positions), NO_GROUP, dtype=np.int64)
            return FoldKeys(present, none, none.copy())
        rows = np.where(present, positions, 0)
        docs = self.doc_of[rows].astype(np.int64)
        place = self._doc_facets["place"].codes[docs].astype(np.int64)
        group = np.where(present, self.group_code[rows], NO_GROUP)
        return FoldKeys(present, group, np.where(place > 0, place, -1 - docs))

    def facet_counts(self, positions: np.ndarray, fields: Sequence[str] = FACETS,
                     copies_once: bool = False) -> dict[str, list[tuple[str, int]]]:
        """Chunks per facet value over these rows (each row once): count descending, then value -- the
        order of `Catalog.facet_values`. With `copies_once`, the chunks of one boilerplate group count once
        per value, as a search shows them (one copy of the group among the hits having that value)."""
        seen = np.zeros(len(self), dtype=bool)
        seen[positions[positions >= 0]] = True
        rows = np.flatnonzero(seen)  # each row once, without sorting them
        docs = self.doc_of[rows]
        group = self.group_code[rows]
        grouped = (group != NO_GROUP) if copies_once else np.zeros(len(rows), dtype=bool)
        group, span = group[grouped], max(self.groups, 1)
        out: dict[str, list[tuple[str, int]]] = {}
        for name in fields:
            col = self._kind if name == "kind" else self._doc_facets[name]
            codes = (col.codes[rows] if name == "kind" else col.codes[docs]).astype(np.int64)
            counts = np.bincount(codes[~grouped], minlength=len(col.values))
            if grouped.any():  # a group counts once per value: its distinct (value, group) pairs
                counts += np.bincount(_distinct(codes[grouped] * span + group) // span, minlength=len(col.values))
            found = [(col.values[c] if c else UNKNOWN, int(counts[c])) for c in np.flatnonzero(counts).tolist()
                     if c or name != "kind"]
            # by text, as the catalog orders them (a year column holds ints and, for 未知, a str)
            out[name] = [(str(v), n) for v, n in sorted(found, key=lambda vn: (-vn[1], str(vn[0])))]
        return out

    def filter_ids(self, filters: Filters) -> np.ndarray:
        """Chunk ids passing `filters`, ascending (the order of the columns, which is the catalog's)."""
        keep_doc = np.ones(len(self.doc_ids), dtype=bool)
        for name in DOC_FACETS:
            wanted = getattr(filters, name)
            if wanted:
                col = self._doc_facets[name]
                keep_doc &= np.isin(col.codes, col.code_of(wanted))
        keep = keep_doc[self.doc_of]
        if filters.kind:
            keep &= np.isin(self._kind.codes, self._kind.code_of(filters.kind))
        return self.chunk_ids[keep]


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (np.unique's hashing is ~4x slower at a common word's ~16,000)."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values
