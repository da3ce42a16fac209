"""What one search reads about the chunks it shows: chunk rows (with their document and boilerplate group),
documents and word offsets -- only for the few hits that need them (the shown page; the candidates checked
for shared stock sentences), each loaded once. What a search computes over all its results (counts, folds)
works on arrays instead (search/resultset.py).
"""
from __future__ import annotations

from typing import Iterable

from indexer.core import analysis
from indexer.core.querytree import ParsedQuery
from indexer.storage.catalog import ChunkRow, DocRow
from indexer.engines.base import Snapshot
from indexer.search.highlight import query_spans


class Candidates:
    def __init__(self, snap: Snapshot, parsed: ParsedQuery | None):
        self.snap, self.parsed = snap, parsed
        self.rows: dict[int, ChunkRow] = {}
        self.docs: dict[str, DocRow] = {}
        self._offsets: dict[int, bytes] = {}
        self._offsets_read: set[int] = set()
        self._spans: dict[int, list[tuple[int, int]]] = {}

    def _row(self, cid: int) -> ChunkRow:
        if cid not in self.rows:
            self.load([cid], offsets=False)
        return self.rows[cid]

    def doc_id(self, cid: int) -> str:
        return self._row(cid).doc_id

    def group(self, cid: int) -> int | None:
        return self._row(cid).dup_group

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

