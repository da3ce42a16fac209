"""What one search reads about its candidate chunks, and the folds over them: one copy per boilerplate
group, one hit per place.

The small values of every candidate (document, boilerplate group, place) come from the snapshot's `facts`;
chunk rows, documents and word offsets only for the few hits that need them (the shown page; the candidates
checked for shared stock sentences), each loaded once.
"""
from __future__ import annotations

from typing import Iterable

from indexer.core import analysis
from indexer.core.querytree import ParsedQuery
from indexer.storage.catalog import ChunkRow, DocRow
from indexer.engines.base import Snapshot
from indexer.search.fuse import Fused
from indexer.search.highlight import query_spans


class Candidates:
    def __init__(self, snap: Snapshot, parsed: ParsedQuery | None, fused: list[Fused]):
        self.snap, self.parsed = snap, parsed
        self.facts = snap.facts([f.chunk_id for f in fused])  # ids the snapshot does not have are left out
        self.rows: dict[int, ChunkRow] = {}
        self.docs: dict[str, DocRow] = {}
        self._offsets: dict[int, bytes] = {}
        self._offsets_read: set[int] = set()
        self._spans: dict[int, list[tuple[int, int]]] = {}

    def doc_id(self, cid: int) -> str:
        return self.facts[cid].doc_id

    def group(self, cid: int) -> int | None:
        return self.facts[cid].dup_group

    def place_key(self, cid: int) -> str:
        """A place to group by; a document without a known place counts as its own place."""
        facts = self.facts[cid]
        return facts.place or f"doc:{facts.doc_id}"

    def load(self, ids: Iterable[int], offsets: bool = True) -> None:
        """Fetch the rows and (for a query with words, unless not wanted) word offsets of these chunks, one
        snapshot call each."""
        ids = list(ids)
        want = [i for i in ids if i not in self.rows]
        if want:
            self.rows.update(self.snap.chunks(want))
        if offsets and self.parsed is not None and self.parsed.terms:
            want = [i for i in ids if i not in self._offsets_read]
            if want:
                self._offsets.update(self.snap.word_offsets(want))
                self._offsets_read.update(want)

    def load_docs(self, doc_ids: Iterable[str]) -> None:
        """Fetch these documents' rows (only shown hits and listed copies need them), one snapshot call."""
        want = {d for d in doc_ids if d not in self.docs}
        if want:
            self.docs.update(self.snap.documents(want))

    def doc(self, cid: int) -> DocRow:
        doc_id = self.doc_id(cid)
        if doc_id not in self.docs:
            self.load_docs([doc_id])
        return self.docs[doc_id]

    def spans(self, cid: int) -> list[tuple[int, int]]:
        """The query's literal matches in the chunk (exactly highlight.tokenized_spans)."""
        spans = self._spans.get(cid)
        if spans is None:
            self.load([cid])
            blob = self._offsets.get(cid)
            offsets = analysis.unpack_word_offsets(blob) if blob is not None else None
            spans = self._spans[cid] = query_spans(self.rows[cid].text, self.parsed, offsets)
        return spans


def one_copy_per_group(fused: list[Fused], cand: Candidates) -> list[Fused]:
    """The best-ranked copy of each boilerplate group (near-identical paragraphs of several reports) stands
    for it; who else has it is listed on the shown hit (shared.list_group_members)."""
    seen: set[int] = set()
    out = []
    for f in fused:
        g = cand.group(f.chunk_id)
        if g is None or g not in seen:
            if g is not None:
                seen.add(g)
            out.append(f)
    return out


def best_per_place(fused: list[Fused], cand: Candidates, literal: set[int] = frozenset(),
                   literal_places: set[str] | None = None) -> list[Fused]:
    """One hit per place (a document without a known place counts as its own place): its best-ranked literal
    match where it has one (every place with one is listed: `fused` holds every literal match), else its
    best-ranked hit (an official term, or near in meaning); in the order of the chosen hits.
    `literal_places` (the places with a literal match among all results) makes it a fold of a prefix of the
    results: the places it lists are then the first of those the whole list gives, in the same order."""
    if literal_places is None:
        literal_places = {cand.place_key(f.chunk_id) for f in fused if f.chunk_id in literal}
    seen: set[str] = set()
    out = []
    for f in fused:
        key = cand.place_key(f.chunk_id)
        if key not in seen and (f.chunk_id in literal or key not in literal_places):
            seen.add(key)
            out.append(f)
    return out
