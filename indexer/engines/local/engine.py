"""The local engine: published generations of SQLite catalog + Whoosh/tantivy full text + FAISS vectors.

A snapshot is one opened generation folder (immutable once published) with the in-memory columns of every
chunk's small values (engines/columns.py); the engine tells, with one stat of CURRENT, when a newer
generation was published.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from indexer.core.filters import Filters
from indexer.core.lru import LruCache
from indexer.core.querytree import ParsedQuery
from indexer.storage.catalog import Catalog, ChunkRow, DocRow
from indexer.storage.catalog_rows import FigureRow, figure_rows
from indexer.core.config import Config
from indexer.core.document import Paragraph
from indexer.engines.figure_columns import FigureColumns
from indexer.engines.base import ChunkFacts, FacetCounts, FoldKeys, IndexDamaged, IndexNotFound, Ranked
from indexer.engines.local.columns import ChunkColumns
from indexer.storage.fulltext.factory import open_fulltext
from indexer.storage.generations import CURRENT, CurrentUnreadable, GenerationLayout, GenerationStore, ReaderHold
from indexer.storage.vectors import VectorIndex
from indexer.storage.vectors.sentence_vectors import SentenceVectors
from indexer.storage.vectors.term_table import TermTable, load_term_table


class LocalSnapshot:
    """One opened generation; holds a reader's claim on its folder until closed (no pruning under it)."""

    def __init__(self, name: str, path: Path, config: Config):
        self.name = name
        self.path = path
        self.hold = ReaderHold(path)
        layout = GenerationLayout(path)
        try:
            self.catalog = Catalog(layout.catalog, readonly=True)
            self.info = self.catalog.info()
            self.fulltext = open_fulltext(layout.fulltext, config)
            self.vectors = VectorIndex.load(layout.vectors)
            self.columns = ChunkColumns(self.catalog)
            self.sentences = SentenceVectors.load(layout.sentence_vectors, layout.sentence_spans)
        except Exception:
            self.hold.release()
            raise
        self._filter_ids: LruCache[Filters, np.ndarray] = LruCache(64)
        self._figure_columns: FigureColumns | None = None
        self._figure_lock = threading.Lock()
        self._terms: tuple[TermTable | None] | None = None  # loaded on first use (a one-element box: None is a value)

    def damage(self, checksums: bool = False) -> list[str]:
        """What is wrong with this generation's files (empty: whole), one line each; sizes and counts only
        unless `checksums` (indexer/storage/integrity.py)."""
        from indexer.storage.integrity import check_generation

        return [str(d) for d in check_generation(self.path, checksums)]

    def filter_ids(self, filters: Filters) -> np.ndarray:
        """Chunk ids passing `filters`, cached: a generation never changes and users reuse a few facet values."""
        return self._filter_ids.get_or_make(filters, self.columns.filter_ids)

    # -- retrieval
    def keyword(self, query: ParsedQuery, limit: int, filters: Filters) -> Ranked:
        return self.fulltext.search(query, limit=limit, filters=filters)

    def matching(self, query: ParsedQuery, filters: Filters) -> list[int]:
        return self.fulltext.match_ids(query, filters)

    def semantic(self, vector: np.ndarray, limit: int, filters: Filters,
                 within: Sequence[int] | None = None) -> Ranked:
        allowed = None
        if within is not None:
            allowed = np.fromiter(within, dtype=np.int64, count=len(within))
        elif not filters.is_empty():
            allowed = self.filter_ids(filters)
        return self.vectors.search(vector, limit, allowed)

    def vector(self, chunk_id: int) -> np.ndarray | None:
        try:
            return self.vectors.vector(chunk_id)
        except KeyError:
            return None

    def sentence_vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray] | None:
        return None if self.sentences is None else self.sentences.of(ids)

    def term_table(self) -> TermTable | None:
        if self._terms is None:  # a race loads it twice, harmlessly
            layout = GenerationLayout(self.path)
            self._terms = (load_term_table(layout.terms, layout.term_vectors),)
        return self._terms[0]

    # -- candidates and rows
    def facts(self, ids: Sequence[int]) -> dict[int, ChunkFacts]:
        return self.columns.facts(ids)

    def fold_keys(self, ids: np.ndarray) -> FoldKeys:
        return self.columns.fold_keys(ids)

    def facet_counts(self, ids: Sequence[int], fields: Sequence[str], copies_once: bool) -> FacetCounts:
        return self.columns.facet_counts(self.columns.positions(ids), fields, copies_once)

    def chunks(self, ids: Iterable[int]) -> dict[int, ChunkRow]:
        return self.catalog.chunks_by_id(ids)

    def word_offsets(self, ids: Iterable[int]) -> dict[int, bytes]:
        return self.catalog.word_offsets(ids)

    def figures(self, ids: Iterable[int]) -> dict[int, list[FigureRow]]:
        ids = list(ids)
        stored = self.catalog.figures(ids)
        if stored is None:  # a generation written before figures were stored: derived from the text
            return {cid: rows for cid, row in self.catalog.chunks_by_id(ids).items()
                    if (rows := figure_rows(cid, row.text))}
        return stored

    def figure_columns(self) -> FigureColumns | None:
        """The generation's whole figures table as columns, loaded on first use (the 数据 page's tables are
        array work over it); None for a generation written before figures were stored."""
        with self._figure_lock:
            if self._figure_columns is None:
                stored = self.catalog.all_figures()
                if stored is None:
                    return None
                chunks = self.catalog.chunks_by_id(stored)
                docs = self.catalog.documents_by_id({c.doc_id for c in chunks.values()})
                self._figure_columns = FigureColumns.from_rows(stored, chunks, docs)
            return self._figure_columns

    def measure_vectors(self, model: str, measures: Sequence[str]) -> dict[str, np.ndarray]:
        """The build's vectors of these figure measures (model: the embedding cache's key), those it stored."""
        return self.catalog.measure_vectors(model, measures)

    def documents(self, doc_ids: Iterable[str]) -> dict[str, DocRow]:
        return self.catalog.documents_by_id(doc_ids)

    def document_list(self) -> list[DocRow]:
        return self.catalog.documents()

    def document_chunks(self, doc_id: str) -> list[ChunkRow]:
        return self.catalog.chunks_of(doc_id)

    def paragraphs(self, doc_id: str) -> list[Paragraph]:
        return self.catalog.paragraphs(doc_id)

    def aliases_of(self, doc_id: str) -> list[str]:
        return self.catalog.aliases_of(doc_id)

    def dup_members(self, groups: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
        return self.catalog.dup_members(groups)

    # -- whole-corpus figures
    def facet_values(self, filters: Filters) -> FacetCounts:
        return self.catalog.facet_values(filters=filters)

    def counts(self) -> tuple[int, int]:
        return self.catalog.document_count(), self.catalog.chunk_count()

    def close(self) -> None:
        self.fulltext.close()
        self.catalog.close()
        self.hold.release()


class LocalEngine:
    def __init__(self, config: Config):
        self.config = config
        self.store = GenerationStore(config.index_dir)

    def stamp(self) -> tuple | None:
        try:
            st = os.stat(self.store.index_dir / CURRENT)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def published(self) -> str | None:
        try:
            name = self.store.current_name()
        except CurrentUnreadable as exc:
            raise IndexNotFound(f"index damaged: {exc}; run `reportsearch index --full`") from exc
        if name is None:
            raise IndexNotFound(f"no index in {self.store.index_dir}: run `reportsearch index` first")
        return name

    def open(self, name: str) -> LocalSnapshot:
        try:
            return LocalSnapshot(name, self.store.gen_root / name, self.config)
        except Exception as exc:  # missing or damaged files: sqlite3, FAISS and Whoosh each raise their own
            from indexer.storage.integrity import check_generation

            damage = [str(d) for d in check_generation(self.store.gen_root / name)]
            if damage:  # the check names the damaged file, the library's error rarely does
                raise IndexDamaged(damage) from exc
            raise IndexNotFound(f"index damaged: published generation {name} cannot be opened "
                                f"({type(exc).__name__}: {exc}); run `reportsearch index --full`") from exc

    def close(self) -> None:
        """Nothing held: each snapshot owns its files."""
