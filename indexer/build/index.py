"""Index: build a new generation from a corpus folder, incrementally, and publish it atomically.

A run compares the corpus with the published catalog by content hash: new, changed, renamed and deleted
files are applied to a copy of the previous generation; only chunks whose text is not in the embedding
cache are embedded. Files that fail keep their previously indexed version and are retried next run.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import sys
import time
from pathlib import Path
from typing import Iterable

from indexer.core import analysis
from indexer.storage.catalog import Catalog
from indexer.pipeline.chunk import chunk_paragraphs
from indexer.core.config import Config
from indexer.core.document import Document
from indexer.core.faults import describe_fault, tree_size
from indexer.storage.generations import GenerationLayout, GenerationStore, LockHeld
from indexer.pipeline.ingest import parse_file
from indexer.storage.integrity import REPAIR_COMMAND, catalog_unreadable, check_published, last_published, repair_action
from indexer.pipeline.load import LoadError
from indexer.pipeline.load.precheck import predict_failure
from indexer.build.plan import Plan, fail_copies, make_plan, new_doc_id
from indexer.build.report import (
    EXIT_OK, EXIT_SOME_FAILED, RunReport, last_run_status, now, progress_bar, write_report)
from indexer.pipeline.scan import CorpusFile, scan_corpus
from indexer.storage.vectors import Encoder
from indexer.storage.vectors.cache import embedding_cache_path, is_corruption, take_damage_note
from indexer.storage.vectors.models import effective_model
from indexer.build.write import GenerationWriter, Parsed, analyzer_signature, checkpoint, chunk_config_signature

log = logging.getLogger(__name__)

SLOW_FILE_SECONDS = 5.0  # a file that takes this long to read is named in the log (cron has no progress bar)


class Index:
    """The indexing façade used by the CLI, the scripts and the tests."""

    def __init__(self, config: Config, encoder: Encoder | None = None):
        model = effective_model(config)  # the index's adapted encoder, when `reportsearch adapt` made one
        if model != config.embedding.model:
            config = config.with_overrides({"embedding.model": model})
        if encoder is not None and encoder.name != model:
            encoder = None  # a shared base encoder must not write vectors recorded as the adapted model's
        self.config = config
        self.store = GenerationStore(config.index_dir)
        self._encoder = encoder
        self._building: tuple[str, Path] | None = None
        self.writer = GenerationWriter(config, lambda: self.encoder)
        analysis.configure(config.analysis.user_dict)  # index and queries must tokenize with the same dictionary

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = Encoder.from_config(self.config)
        return self._encoder

    # -- public --------------------------------------------------------------------------------
    def build(self, full: bool = False, dry_run: bool = False, progress: bool | None = None) -> RunReport:
        """Run one indexing pass. Never raises for bad files; returns the report (also written to disk)."""
        corpus = Path(self.config.corpus_dir)
        report = RunReport(corpus=str(corpus), started=now(), full=full)
        progress = sys.stderr.isatty() if progress is None else progress
        lock = self.store.lock()
        try:
            lock.acquire()
        except (LockHeld, OSError) as exc:
            # A lock that cannot even be created (read-only or foreign index folder) is a failed run too.
            message = str(exc) if isinstance(exc, LockHeld) else self._fault_message(exc) or str(exc)
            report.set_failed(message)
            report.finished = now()
            log.error("%s", message)
            return report  # not written: the running holder owns the report file (or it cannot be written)
        self._building = None
        if not dry_run:  # "running": a run killed from now on stays visible (and what was published before it)
            report.previous_generation = last_published(self.store) or ""
            write_report(self.store.index_dir, report)
        try:
            report = self._run_or_rebuild(corpus, report, full, dry_run, progress)
        except Exception as exc:  # the run failed as a whole: nothing was published
            written = self._discard_build()
            message = self._fault_message(exc, written)
            if message:
                log.error("indexing run failed: %s", message)  # the machine's fault, not a bug: no traceback
            else:
                log.exception("indexing run failed")
                message = f"{type(exc).__name__}: {exc}"
            report.set_failed(message)
            report.generation = ""  # its build was never published (and is gone)
        finally:
            self._discard_build()  # KeyboardInterrupt and the like: leave no build folder behind either
            report.finished = now()
            if not dry_run:
                write_report(self.store.index_dir, report)
            lock.release()
        return report

    def _run_or_rebuild(self, corpus: Path, report: RunReport, full: bool, dry_run: bool,
                        progress: bool) -> RunReport:
        try:
            self._run(corpus, report, full, dry_run, progress)
        except Exception as exc:
            if not is_corruption(exc) or dry_run:
                raise
            # The published catalog passed the check but is damaged deeper inside (a generation published
            # before manifests existed): never read it again; rebuild from the corpus.
            self._discard_build()
            log.warning("the published index is damaged (%s): rebuilding from the corpus", exc)
            report = RunReport(corpus=str(corpus), started=report.started, full=full)
            report.repairs.append(f"published generation unreadable ({exc}): rebuilt from the corpus")
            self._run(corpus, report, full, dry_run, progress, distrust_published=True)
        return report

    def _discard_build(self) -> int:
        """Remove the current run's unpublished build (it may hold the space a full disk needs back);
        returns how many bytes it had written."""
        building, self._building = self._building, None
        if building is None:
            return 0
        written = tree_size(building[1])
        self.store.discard(*building)
        return written

    def _fault_message(self, exc: BaseException, written: int = 0) -> str | None:
        published = self.store.current_path_or_none()
        needed = max(tree_size(published) if published is not None else 0, self.writer.expected_bytes)
        return describe_fault(exc, [self.store.index_dir, embedding_cache_path(self.config).parent], written, needed)

    def build_documents(self, documents: Iterable[Document], progress: bool | None = None) -> RunReport:
        """Full build of a new generation from already-parsed documents (evaluation corpora such as STARD,
        benchmarks): same chunking, indexes, catalog and atomic publish as a corpus run."""
        report = RunReport(corpus="(documents)", started=now(), full=True)
        progress = sys.stderr.isatty() if progress is None else progress
        with self.store.lock():
            t0 = time.perf_counter()
            self.store.remove_debris()
            used: set[str] = set()
            parsed = []
            for doc in documents:
                doc_id = new_doc_id(doc.path, used)
                used.add(doc_id)
                chunks = chunk_paragraphs(doc.paragraphs, doc_id, self.config, doc_path=doc.path)
                parsed.append(Parsed(doc_id, CorpusFile(Path(doc.path), doc.path, 0, 0), doc, "{}", chunks))
                report.added.append(doc.path)
            report.timings["parse"] = time.perf_counter() - t0
            name, build_dir = self.store.new_build_dir()
            try:
                report.generation = name
                self.writer.write(build_dir, None, None, Plan(), parsed, report, progress)
                checkpoint("publish")
                self.store.publish(name, build_dir)
            except BaseException:
                self.store.discard(name, build_dir)
                raise
            self.store.prune(self.config.index.keep_generations)
        report.status, report.finished = "ok", now()
        report.timings["total"] = time.perf_counter() - t0
        return report

    def status(self) -> dict:
        """Published generation, when it was built, counts, last run's result, failing files, and the damage
        the integrity check finds (`damaged`: one line per problem; `repair`: the command that fixes it)."""
        published = check_published(self.store, self.config.index.verify_checksums)
        out: dict = {"index_dir": str(self.store.index_dir), "generation": published.name}
        if published.damage:
            out["damaged"] = [str(d) for d in published.damage]
            out["repair"] = REPAIR_COMMAND
        gen = published.path
        if gen is not None and "catalog" not in published.parts:
            layout = GenerationLayout(gen)
            cat = Catalog(layout.catalog)
            try:
                info = cat.info()
                out.update(built_at=info.get("built_at", ""), model=info.get("model", ""),
                           documents=cat.document_count(), chunks=cat.chunk_count())
                out["fulltext_backend"] = _backend_of(layout.fulltext)
            except sqlite3.DatabaseError as exc:
                out.setdefault("damaged", []).append(f"{gen.name}/{layout.CATALOG} cannot be read ({exc})")
                out["repair"] = REPAIR_COMMAND
            finally:
                cat.close()
        out.update(last_run_status(self.store.index_dir))
        return out

    # -- the run -------------------------------------------------------------------------------
    def _run(self, corpus: Path, report: RunReport, full: bool, dry_run: bool, progress: bool,
             distrust_published: bool = False) -> None:
        t0 = time.perf_counter()
        if not dry_run:
            self.store.remove_debris()
        scan = scan_corpus(corpus, self.config.ingest.follow_external_symlinks)
        report.skipped.extend({"path": s.path, "reason": s.reason} for s in scan.skipped)
        overrides, sidecar_problems = _load_sidecars(corpus)
        for path, reason in sidecar_problems:
            report.fail(path, reason, False)
        published = self._check_published(report, distrust_published)
        if not dry_run:
            earlier = take_damage_note(embedding_cache_path(self.config))  # moved aside by a search, say
            if earlier:
                report.repairs.append(f"embedding cache {embedding_cache_path(self.config)} was found damaged on "
                                      f"{earlier}; a new cache was started")
        # A damaged catalog (or CURRENT) is never opened: the corpus is the source to rebuild from.
        prev_path = published.path if published.path is not None and not published.unusable else None
        prev = Catalog(GenerationLayout(prev_path).catalog) if prev_path is not None else None
        try:
            reparse_all = full or prev is None or self._incompatible(prev)
            if prev is not None and reparse_all and not full:
                log.info("index settings or pipeline changed since the last run: re-reading every file")
            plan = make_plan(scan, prev.documents() if prev else [], prev.aliases() if prev else {}, overrides,
                             reparse_all, report)
            report.timings["scan"] = time.perf_counter() - t0
            if dry_run:
                self._predict_failures(plan, report)
                report.status = "dry-run"
                report.exit_code = EXIT_SOME_FAILED if report.failures else EXIT_OK
                return
            checkpoint("parse")
            parsed = self._parse(plan, prev, report, progress)
            if (prev is not None and not reparse_all and not published.damage
                    and self._nothing_to_publish(plan, parsed, prev) and self._sentences_as_configured(prev_path)):
                # The published generation already is this state: keep serving it, publish nothing.
                report.generation = report.previous_generation
                report.documents, report.chunks = prev.document_count(), prev.chunk_count()
                report.settle()
                report.timings["total"] = time.perf_counter() - t0
                log.info("no changes: generation %s stays published", report.generation)
                return
            name, build_dir = self.store.new_build_dir()
            self._building = (name, build_dir)
            report.generation = name
            self.writer.write(build_dir, prev_path if not reparse_all else None, prev, plan, parsed,
                              report, progress, published.parts)
        finally:
            if prev is not None:
                prev.close()
        self._publish(name, build_dir, report, t0)

    def _sentences_as_configured(self, generation: Path) -> bool:
        """Whether the generation stores sentence vectors exactly when sentence matching is on (turning the
        setting on or off publishes a new generation, from the embedding cache, without re-reading files)."""
        stored = GenerationLayout(generation).sentence_vectors.exists()
        return stored == (self.config.sentences.rerank != "off")

    def _check_published(self, report: RunReport, distrust_published: bool):
        """The published generation and the damage found in it (said in the report as a repair)."""
        t_check = time.perf_counter()
        published = check_published(self.store, self.config.index.verify_checksums)
        report.timings["check"] = time.perf_counter() - t_check
        report.previous_generation = published.name or report.previous_generation
        if distrust_published and published.path is not None:
            published.damage.append(catalog_unreadable(published.path))
        if published.damage:
            what = published.describe()
            log.warning("published index damaged: %s", what)
            if not distrust_published:
                report.repairs.append(what + ": " + repair_action(published))
        return published

    def _publish(self, name: str, build_dir: Path, report: RunReport, t0: float) -> None:
        checkpoint("publish")
        self.store.publish(name, build_dir, before_swap=lambda: checkpoint("swap"))
        self._building = None
        self.store.prune(self.config.index.keep_generations)
        report.settle()
        report.timings["total"] = time.perf_counter() - t0

    def _predict_failures(self, plan: Plan, report: RunReport) -> None:
        """Dry run: list the files to be read that will fail for reasons visible without parsing them."""
        known = {f["path"] for f in report.failures}
        failed: dict[str, tuple[str, str]] = {}
        for f, doc_id, _digest, _ov in plan.to_parse:
            reason = predict_failure(f.abs_path, f.rel_path, f.size, self.config.ingest.max_file_bytes)
            if reason and f.rel_path not in known:
                report.fail(f.rel_path, reason, f.rel_path in report.changed)
                failed[doc_id] = (f.rel_path, reason)
        fail_copies(plan, failed, {}, set(), report)

    @staticmethod
    def _nothing_to_publish(plan: Plan, parsed: list, prev: Catalog) -> bool:
        # Only new mtimes (a file touched but not changed) are not worth a generation; they are
        # recorded with the next real change, and until then the hash is simply recomputed.
        return not (parsed or plan.renames or plan.deletes) and plan.aliases == prev.aliases()

    def _incompatible(self, prev: Catalog) -> bool:
        info = prev.info()
        # A catalog from before the analyzer signature existed has none: its words are re-cut once.
        return (info.get("model") != self.config.embedding.model
                or info.get("chunking") != chunk_config_signature(self.config)
                or info.get("analyzer") != analyzer_signature(self.config)
                or info.get("encoder_backend", "torch") != self.config.embedding.backend)

    def _parse(self, plan: Plan, prev: Catalog | None, report: RunReport, progress: bool = False) -> list[Parsed]:
        """Read and chunk each new or changed file; a file that fails is reported, never the whole run."""
        t0 = time.perf_counter()
        cfg = self.config
        parsed = []
        failed: dict[str, tuple[str, str]] = {}  # doc id -> (path, reason): its identical copies fail too
        bar = progress_bar(len(plan.to_parse), "reading", progress, unit="file")
        for f, doc_id, _digest, ov in plan.to_parse:
            bar(0, f.rel_path)  # on a terminal the bar names the file being read: a slow one is seen at once
            t_file = time.perf_counter()
            try:
                doc = parse_file(f.abs_path, f.rel_path, cfg.ingest.max_file_bytes, json.loads(ov) or None,
                                 max_chars=cfg.ingest.max_file_chars, max_paragraphs=cfg.ingest.max_file_paragraphs,
                                 max_unpacked=cfg.ingest.max_unpacked_bytes,
                                 pdf_memory=cfg.ingest.max_pdf_memory_bytes, pdf_seconds=cfg.ingest.max_pdf_seconds)
                chunks = chunk_paragraphs(doc.paragraphs, doc_id, self.config, doc_path=doc.path)
            except Exception as exc:  # LoadError says why; anything else is our bug, but only this file's
                reason = exc.reason if isinstance(exc, LoadError) else f"internal error: {type(exc).__name__}: {exc}"
                if not isinstance(exc, LoadError):
                    log.exception("unexpected error while reading %s", f.rel_path)
                report.fail(f.rel_path, reason, prev is not None and prev.document(doc_id) is not None)
                failed[doc_id] = (f.rel_path, reason)
                if f.rel_path in report.added:
                    report.added.remove(f.rel_path)
                log.warning("%s: %s", f.rel_path, reason)
                continue
            finally:
                bar(1)
                took = time.perf_counter() - t_file
                if took >= SLOW_FILE_SECONDS:
                    log.info("slow file: %s took %.1f s to read", f.rel_path, took)
            parsed.append(Parsed(doc_id, f, doc, ov, chunks))
        kept = {i for i in failed if prev is not None and prev.document(i) is not None}
        fail_copies(plan, failed, prev.aliases() if prev is not None else {}, kept, report)
        report.timings["parse"] = time.perf_counter() - t0
        return parsed


def _load_sidecars(corpus: Path) -> tuple[dict[str, dict[str, str]], list[tuple[str, str]]]:
    try:
        from indexer.pipeline.load.sidecar import load_sidecars
    except ImportError:
        return {}, []
    return load_sidecars(corpus)


def _backend_of(fulltext_dir: Path) -> str:
    """The full-text backend that wrote a generation ("" when its folder is missing or unreadable)."""
    from indexer.storage.fulltext.factory import detect_backend

    try:
        return detect_backend(fulltext_dir)
    except OSError:
        return ""
