"""Write one generation into its build folder: catalog, full text, vectors, in that order, from the plan
of the run (a copy of the previous generation with the changes applied) or from nothing (a full build)."""
from __future__ import annotations

import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from indexer.core import analysis
from indexer.storage.catalog import Catalog, ChunkRow
from indexer.storage.catalog_rows import figure_rows
from indexer.core.config import Config
from indexer.storage.dedup import duplicate_groups
from indexer.core.document import Chunk, Document, DocumentMeta
from indexer.build.terms import collect_terms
from indexer.build.embedding_input import context_signature, embedding_context, embedding_input
from indexer.core.faults import pause_if_asked, tree_size
from indexer.storage.fulltext.base import FullTextIndex as FullText, FullTextRecord
from indexer.storage.fulltext.factory import clone_fulltext, create_fulltext, open_fulltext
from indexer.pipeline.figures import EXTRACTOR_VERSION
from indexer.pipeline.ingest import PIPELINE_VERSION
from indexer.storage.layout import GenerationLayout
from indexer.build.plan import Plan
from indexer.build.report import RunReport, now, progress_bar
from indexer.pipeline.scan import CorpusFile
from indexer.storage.vectors import EmbeddingCache, Encoder, VectorIndex, cache_key
from indexer.storage.vectors.cache import embedding_cache_path, take_damage_note
from indexer.storage.vectors.sentence_vectors import chunk_sentences, write_sentence_vectors
from indexer.storage.vectors.term_table import write_term_table

log = logging.getLogger(__name__)


class Parsed(NamedTuple):
    doc_id: str
    file: CorpusFile
    doc: Document
    overrides: str
    chunks: list[Chunk]


def checkpoint(stage: str) -> None:
    """Log the start of a stage; a fault test may pause the run there (core/faults.py `pause_if_asked`)."""
    log.info("stage: %s", stage)
    pause_if_asked(stage)


def chunk_config_signature(config: Config) -> str:
    return json.dumps({"max": config.analysis.max_chunk_chars, "min": config.analysis.min_chunk_chars,
                       "ctx": context_signature(config), "pipeline": PIPELINE_VERSION})


def analyzer_signature(config: Config) -> str:
    return analysis.signature(config.analysis.user_dict)


class GenerationWriter:
    """Writes the new generation of one run; `encoder` is called only when a chunk must be embedded."""

    def __init__(self, config: Config, encoder: Callable[[], Encoder]):
        self.config = config
        self._encoder = encoder
        # The size the generation being written will have, as far as known: raised before each large file
        # is written, so a full disk's message can say how much a whole generation needs (a first build has
        # no published generation to measure).
        self.expected_bytes = 0

    def write(self, build_dir: Path, prev_dir: Path | None, prev: Catalog | None, plan: Plan,
              parsed: list[Parsed], report: RunReport, progress: bool, damaged: set[str] = frozenset()) -> None:
        """Write the new generation into `build_dir`: a copy of the previous one (`prev_dir`) with the plan
        applied, or a new one. `damaged` parts of the previous generation are not copied but rebuilt: the
        full text from the catalog, the vectors from the embedding cache."""
        t0 = time.perf_counter()
        self.expected_bytes = 0
        target = GenerationLayout(build_dir)
        catalog, fulltext, refill = self._open(target, prev_dir, prev, plan, report, damaged)
        catalog.set_durable(False)  # synced once, by the last commit below, before anything is published
        try:
            records = _apply(catalog, fulltext, plan, parsed, report)
            report.timings["catalog"] = time.perf_counter() - t0
            self._write_fulltext(catalog, fulltext, records, refill, plan, report)
            t_fig = time.perf_counter()
            checkpoint("figures")
            report.figures_scanned = store_figures(catalog)
            self.store_measure_vectors(catalog, report, progress)
            report.timings["figures"] = time.perf_counter() - t_fig
            index = self._write_vectors(catalog, target, prev_dir, report, progress, damaged)
            self._finish(catalog, index, report)
        finally:
            fulltext.close()
            catalog.close()

    def _open(self, target: GenerationLayout, prev_dir: Path | None, prev: Catalog | None, plan: Plan,
              report: RunReport, damaged: set[str]) -> tuple[Catalog, FullText, bool]:
        """The new generation's catalog and full text, opened for writing; and whether the full text must
        be refilled from the whole catalog (the previous one was damaged)."""
        cfg = self.config
        if prev_dir is not None and prev is not None:
            # Start from a copy of the published state (the backend shares unchanged files).
            previous = GenerationLayout(prev_dir)
            _copy_sqlite(previous.catalog, target.catalog)
            catalog = Catalog(target.catalog, readonly=False)
            if "fulltext" in damaged:
                return catalog, create_fulltext(target.fulltext, cfg), True
            clone_fulltext(previous.fulltext, target.fulltext)
            return catalog, open_fulltext(target.fulltext, cfg), False
        catalog = Catalog(target.catalog, readonly=False)
        fulltext = create_fulltext(target.fulltext, cfg)
        if prev is not None:
            # A full rebuild starts empty, but a file that fails now (or lies in a folder that cannot be
            # read) keeps its previous good version.
            kept = [f["path"] for f in report.failures if f.get("kept_previous")] + plan.hidden
            for path in dict.fromkeys(kept):
                doc_id = catalog.copy_document_from(prev, path)
                if doc_id:
                    meta = catalog.document(doc_id).meta
                    fulltext.add(records_of(doc_id, meta, catalog.chunks_of(doc_id)))
        return catalog, fulltext, False

    def _write_fulltext(self, catalog: Catalog, fulltext: FullText, records: list[FullTextRecord], refill: bool,
                        plan: Plan, report: RunReport) -> None:
        t1 = time.perf_counter()
        checkpoint("fulltext")
        if refill:  # the previous full text was damaged: index every chunk of the catalog anew
            records = [r for d in catalog.documents() for r in records_of(d.doc_id, d.meta, catalog.chunks_of(d.doc_id))]
        fulltext.add(records)
        # A rename keeps chunk ids; an alias list is rebuilt each run.
        catalog.set_aliases(plan.aliases)
        fulltext.commit()
        _store_word_offsets(catalog)
        report.timings["fulltext"] = time.perf_counter() - t1

    def _write_vectors(self, catalog: Catalog, target: GenerationLayout, prev_dir: Path | None, report: RunReport,
                       progress: bool, damaged: set[str]) -> VectorIndex:
        cfg = self.config
        t2 = time.perf_counter()
        checkpoint("embed")
        ids, vecs = self._embed_all(catalog, report, progress)
        report.timings["embed"] = time.perf_counter() - t2
        t3 = time.perf_counter()
        checkpoint("faiss")
        previous = GenerationLayout(prev_dir).vectors if prev_dir is not None and "vectors" not in damaged else None
        index, report.vector_index = VectorIndex.build_from(
            previous, ids, vecs, vecs.shape[1] if len(vecs) else self._encoder().dim,
            cfg.index.ann_threshold, cfg.index.hnsw_m, cfg.index.hnsw_ef_search, cfg.index.hnsw_max_stale,
            cfg.index.hnsw_ef_construction)
        # float32 vectors and int64 ids (a graph needs more, the sentence vectors come on top: raised later)
        self.expected_bytes = tree_size(target.root) + vecs.nbytes + 8 * len(ids)
        index.save(target.vectors)
        report.timings["faiss"] = time.perf_counter() - t3
        if cfg.rewrite.bridge_terms > 0:  # before the sentence vectors: their size estimate then holds the table
            t5 = time.perf_counter()
            checkpoint("terms")
            self._write_terms(catalog, target, report, progress)
            report.timings["terms"] = time.perf_counter() - t5
        if cfg.sentences.rerank != "off":
            t4 = time.perf_counter()
            checkpoint("sentences")
            self._write_sentence_vectors(catalog, target, report, progress)
            report.timings["sentences"] = time.perf_counter() - t4
        return index

    def store_measure_vectors(self, catalog: Catalog, report: RunReport, progress: bool) -> None:
        """A vector for each distinct measure of the figures that has none yet (the 数据 table groups measures
        by them: search/figures.py MeasureGrouper), through the embedding cache: a measure seen by any earlier
        build costs a cache read. Kept in the catalog, so an incremental run or a repair copies them over."""
        model = cache_key(self.config.embedding.model, self.config.embedding.backend)
        missing = catalog.measures_without_vectors(model)
        vecs, _, embedded = self._cached_embeddings(missing, report, progress, "embedding measures") \
            if missing else (np.zeros((0, 0), dtype=np.float32), 0, 0)
        catalog.put_measure_vectors(model, missing, vecs)
        if missing:
            log.info("measure vectors: %d stored (%d encoded)", len(missing), embedded)

    def _write_terms(self, catalog: Catalog, target: GenerationLayout, report: RunReport, progress: bool) -> None:
        """The corpus's official terms and their vectors (build/terms.py), collected anew from every chunk each
        run (an incremental run too: the table always matches the generation), embedding only new terms."""
        analyzer = analysis.get_analyzer(self.config.analysis.user_dict)
        kinds = collect_terms((row.text for row in catalog.iter_chunks()), analyzer=analyzer)
        vecs, _, embedded = self._cached_embeddings(list(kinds), report, progress, "embedding terms")
        # float16 vectors and the terms as JSON (~30 bytes each), on top of what is written already
        self.expected_bytes = max(self.expected_bytes, tree_size(target.root)) + 2 * vecs.size + 32 * len(kinds)
        write_term_table(target.terms, target.term_vectors, kinds, vecs)
        log.info("term table: %d terms (%d embedded)", len(kinds), embedded)

    def _write_sentence_vectors(self, catalog: Catalog, target: GenerationLayout, report: RunReport,
                                progress: bool) -> None:
        """Every chunk's sentence vectors (vectors/sentence_vectors.py), embedding only sentences not in the
        cache; bare sentence text, as the search side encodes it when a generation has none."""
        ids: list[int] = []
        counts: list[int] = []
        texts: list[str] = []
        for row in catalog.iter_chunks():
            sents = chunk_sentences(row.text)
            ids.append(row.chunk_id)
            counts.append(len(sents))
            texts.extend(sents)
        # Shortest first: each encoder call then holds sentences of about one length, so its batches carry
        # little padding (a fifth fewer tokens encoded on eval-townships and STARD, docs/evaluation.md).
        unique = sorted(dict.fromkeys(texts), key=len)
        vecs, _, embedded = self._cached_embeddings(unique, report, progress, "embedding sentences")
        report.sentences, report.sentences_embedded = len(texts), embedded
        row_of = {t: i for i, t in enumerate(unique)}
        # float16 vectors and an (id, start, end) int64 row per chunk, on top of what is written already
        self.expected_bytes = max(self.expected_bytes, tree_size(target.root)) + 2 * len(texts) * vecs.shape[1] \
            + 24 * len(ids)
        write_sentence_vectors(target.sentence_vectors, target.sentence_spans, ids, counts,
                               vecs[[row_of[t] for t in texts]])

    def _finish(self, catalog: Catalog, index: VectorIndex, report: RunReport) -> None:
        cfg = self.config
        t4 = time.perf_counter()
        catalog.set_dup_groups(duplicate_groups(catalog))
        report.documents = catalog.document_count()
        report.chunks = catalog.chunk_count()
        catalog.set_durable(True)  # this commit flushes every earlier unsynced write of the file
        catalog.set_info({
            "generation": report.generation, "built_at": now(), "model": cfg.embedding.model,
            "encoder_backend": cfg.embedding.backend,
            "dim": index.dim, "chunking": chunk_config_signature(cfg), "analyzer": analyzer_signature(cfg),
            "documents": report.documents,
            "chunks": report.chunks, "corpus": str(Path(cfg.corpus_dir).resolve()),
        })
        report.timings["finish"] = time.perf_counter() - t4

    def _embed_all(self, catalog: Catalog, report: RunReport, progress: bool) -> tuple[np.ndarray, np.ndarray]:
        """Vectors for every chunk of the new generation, embedding only texts not in the cache."""
        metas = {d.doc_id: d.meta for d in catalog.documents()}
        rows: list[ChunkRow] = list(catalog.iter_chunks())
        context = embedding_context(self.config)
        texts = [embedding_input(metas[r.doc_id], r.heading_path, r.text, context) for r in rows]
        ids = np.fromiter((r.chunk_id for r in rows), dtype=np.int64, count=len(rows))
        paths = {d.doc_id: d.path for d in catalog.documents()} if progress else {}
        files = [paths.get(r.doc_id, "") for r in rows] if progress else None
        vecs, hits, embedded = self._cached_embeddings(texts, report, progress, "embedding", files)
        report.embedding_cache_hits, report.embedded = hits, report.embedded + embedded
        return ids, vecs

    def _cached_embeddings(self, texts: list[str], report: RunReport, progress: bool, label: str,
                           files: list[str] | None = None) -> tuple[np.ndarray, int, int]:
        """One row per text, from the embedding cache or encoded (and cached, per batch) when missing; and
        how many came from the cache and how many were encoded."""
        cache_path = embedding_cache_path(self.config)
        cache = EmbeddingCache(cache_path, cache_key(self.config.embedding.model, self.config.embedding.backend))
        try:
            found = cache.get_many(texts)
            missing = [i for i in range(len(texts)) if i not in found]
            dim = next(iter(found.values())).shape[0] if found else (self._encoder().dim if missing else 0)
            vecs = np.zeros((len(texts), dim), dtype=np.float32)
            for i, v in found.items():
                vecs[i] = v
            if missing:
                log.info("%s: %d new texts (%d from cache)", label, len(missing), len(found))
                self._embed_missing(cache, texts, missing, [files[i] for i in missing] if files else None,
                                    vecs, progress, label)
            return vecs, len(found), len(missing)
        finally:
            for aside, reason in cache.moved_aside:
                report.repairs.append(f"embedding cache {cache_path} was damaged ({reason}): moved aside to "
                                      f"{aside}; a new cache was started")
            if cache.moved_aside:
                take_damage_note(cache_path)  # said above
            cache.close()

    def _embed_missing(self, cache: EmbeddingCache, texts: list[str], missing: list[int], files: list[str] | None,
                       vecs: np.ndarray, progress: bool, label: str) -> None:
        step = max(self.config.embedding.batch_size * 8, 256)
        bar = progress_bar(len(missing), label, progress)
        for start in range(0, len(missing), step):
            batch = missing[start : start + step]
            bar(0, files[start] if files else "")  # the file whose chunks are being embedded
            out = self._encoder().encode([texts[i] for i in batch])
            cache.put_many([texts[i] for i in batch], out)  # committed per batch: a killed run resumes
            vecs[batch] = out
            bar(len(batch))


def _apply(catalog: Catalog, fulltext: FullText, plan: Plan, parsed: list[Parsed],
           report: RunReport) -> list[FullTextRecord]:
    """Apply the plan to the catalog (and deletions to the full text); returns the full-text records of
    the parsed documents, to be added."""
    indexed_at = now()
    for doc_id in plan.deletes:
        removed = catalog.delete_document(doc_id)
        fulltext.delete(removed)
        report.chunks_removed += len(removed)
    for doc_id, f in plan.renames:
        catalog.move_document(doc_id, f.rel_path, f.size, f.mtime_ns)
    for doc_id, f in plan.touched:
        catalog.touch_document(doc_id, f.size, f.mtime_ns)
    records: list[FullTextRecord] = []
    for doc_id, f, doc, ov, chunks in parsed:
        catalog.put_document(doc_id, doc, f.size, f.mtime_ns, ov, indexed_at)
        old_ids = [c.chunk_id for c in catalog.chunks_of(doc_id)]
        removed, added = catalog.replace_chunks(doc_id, chunks)
        report.chunks_removed += len(removed)
        report.chunks_added += len(added)
        fulltext.delete(old_ids)  # re-add all: metadata used by filters may have changed
        records.extend(records_of(doc_id, doc.meta, chunks))
    return records


def _store_word_offsets(catalog: Catalog) -> None:
    """Store the analyzer's word offsets of every chunk that has none yet (new chunks; all chunks of a
    catalog written before offsets were stored), so highlighting a hit needs no tokenizing at query time.
    The generation's index was cut with the same analyzer (`Index._incompatible` forces a rebuild otherwise)."""
    analyzer = analysis.default_analyzer()
    for rows in catalog.chunks_without_word_offsets():
        catalog.put_word_offsets((cid, analysis.pack_word_offsets(analyzer.tokenize(text))) for cid, text in rows)


def store_figures(catalog: Catalog) -> int:
    """Extract and store the figures of every chunk that has none stored yet (the new and changed documents'
    chunks; every chunk of a catalog written before figures were stored, or by another extractor version);
    the stored ones of unchanged chunks are carried over with the catalog. Returns the chunks scanned."""
    catalog.drop_orphan_figures()
    scanned = 0
    for rows in catalog.chunks_without_figures(EXTRACTOR_VERSION):
        catalog.put_figures([cid for cid, _ in rows], (f for cid, text in rows for f in figure_rows(cid, text)),
                            EXTRACTOR_VERSION)
        scanned += len(rows)
    return scanned


def records_of(doc_id: str, meta: DocumentMeta, chunks: list[Chunk] | list[ChunkRow]) -> list[FullTextRecord]:
    """Full-text records of a document's chunks, freshly cut (Chunk) or read back from the catalog (ChunkRow)."""
    return [
        FullTextRecord(
            chunk_id=c.chunk_id, doc_id=doc_id, text=c.text, title=meta.title,
            heading_path=" › ".join(c.heading_path), place=meta.place, level=meta.level, region=meta.region,
            year=meta.year, kind=getattr(c.section_kind, "value", c.section_kind),
        )
        for c in chunks
    ]


def _copy_sqlite(src: Path, dst: Path) -> None:
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    target = sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
