"""Index: build a new generation from a corpus folder, incrementally, and publish it atomically.

A run compares the corpus with the published catalog by content hash: new, changed, renamed and deleted
files are applied to a copy of the previous generation; only chunks whose text is not in the embedding
cache are embedded. Files that fail keep their previously indexed version and are retried next run.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, NamedTuple

import numpy as np

from indexer.catalog import Catalog, ChunkRow, DocRow
from indexer.chunk import chunk_paragraphs
from indexer.config import Config
from indexer.dedup import duplicate_groups
from indexer.faults import describe_fault, tree_size
from indexer.document import Chunk, Document, DocumentMeta
from indexer.base import analysis
from indexer.fulltext.base import FullTextRecord
from indexer.fulltext.factory import clone_fulltext, create_fulltext, open_fulltext
from indexer.generations import GenerationStore, LockHeld
from indexer.ingest import PIPELINE_VERSION, parse_file
from indexer.integrity import REPAIR_COMMAND, catalog_unreadable, check_published, repair_action
from indexer.load import LoadError
from indexer.load.precheck import predict_failure
from indexer.scan import CorpusFile, scan_corpus
from indexer.vectors import EmbeddingCache, Encoder, VectorIndex, cache_key
from indexer.vectors.cache import is_corruption

log = logging.getLogger(__name__)

REPORT_NAME = "index-report.json"
SLOW_FILE_SECONDS = 5.0  # a file that takes this long to read is named in the log (cron has no progress bar)
EXIT_OK, EXIT_SOME_FAILED, EXIT_RUN_FAILED = 0, 1, 2


@dataclass
class RunReport:
    corpus: str
    started: str
    finished: str = ""
    status: str = "running"  # ok | partial (some files failed) | failed (nothing published) | dry-run
    exit_code: int = EXIT_OK
    generation: str = ""
    previous_generation: str = ""
    full: bool = False
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    renamed: list[list[str]] = field(default_factory=list)  # [old, new]
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    duplicates: list[list[str]] = field(default_factory=list)  # [path, indexed as]
    failures: list[dict] = field(default_factory=list)  # {path, reason, kept_previous}
    skipped: list[dict] = field(default_factory=list)  # {path, reason}: not documents; exit code unchanged
    repairs: list[str] = field(default_factory=list)  # damage found in the index or cache, and what was done
    documents: int = 0
    chunks: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    embedded: int = 0
    embedding_cache_hits: int = 0
    vector_index: str = ""  # "built" anew, or "extended" (the previous generation's graph plus new chunks)
    timings: dict[str, float] = field(default_factory=dict)
    error: str = ""

    def summary(self) -> str:
        lines = [
            f"状态 status: {self.status} (exit {self.exit_code})",
            f"generation: {self.generation or '-'} (previous {self.previous_generation or '-'})",
            f"documents {self.documents}, chunks {self.chunks}; added {len(self.added)}, changed {len(self.changed)},"
            f" renamed {len(self.renamed)}, deleted {len(self.deleted)}, unchanged {self.unchanged}",
            f"chunks +{self.chunks_added} -{self.chunks_removed}; embedded {self.embedded},"
            f" from cache {self.embedding_cache_hits}" + (f"; vector index {self.vector_index}" if self.vector_index else ""),
        ]
        for path, same_as in self.duplicates:
            lines.append(f"duplicate: {path} = {same_as} (indexed once)")
        for f in self.failures:
            kept = " (previous version kept)" if f.get("kept_previous") else ""
            lines.append(f"FAILED: {f['path']}: {f['reason']}{kept}")
        for f in self.skipped:
            lines.append(f"skipped: {f['path']}: {f['reason']}")
        for r in self.repairs:
            lines.append(f"REPAIRED: {r}")
        if self.error:
            lines.append(f"ERROR: {self.error}")
        return "\n".join(lines)


@dataclass
class _Plan:
    """What a run will do, decided before anything is written."""

    to_parse: list[tuple[CorpusFile, str, str, str]] = field(default_factory=list)  # file, doc_id, hash, overrides
    renames: list[tuple[str, CorpusFile]] = field(default_factory=list)  # doc_id, new file
    touched: list[tuple[str, CorpusFile]] = field(default_factory=list)  # unchanged content, new mtime
    deletes: list[str] = field(default_factory=list)  # doc_ids
    aliases: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    unchanged: int = 0
    hidden: list[str] = field(default_factory=list)  # indexed paths under folders that could not be read


class _Parsed(NamedTuple):
    doc_id: str
    file: CorpusFile
    doc: Document
    overrides: str
    chunks: list[Chunk]


# What a report's title says that its metadata already does: the place (leading administrative names),
# the year and the kind of report. A title made only of these is shared, near verbatim, by every report
# of a corpus and tells the model nothing about a paragraph (measured in docs/evaluation.md).
_ADMIN_PREFIX = re.compile(r"^(?:[\u4e00-\u9fff]{1,8}?(?:省|自治区|市|州|盟|县|旗|区|乡|镇|街道|街|办事处|人民政府))+")
_GENERIC_TITLE = re.compile(
    r"人民代表大会|人民政府|办事处|政府信息公开|信息公开|法治政府建设|法治政府|法治建设|政府工作|本年度|年度|全年|关于|"
    r"有关|推进|工作|情况|报告|总结|汇报|思路|计划|要点|及|和|的|第?[0-9一二三四五六七八九十百]+[年届次]|[0-9]+|[^\w]")
INFORMATIVE_TITLE_CHARS = 4


def informative_title(meta: DocumentMeta) -> str:
    """The title when it says more than place, year and report type (a news headline, a statute's
    article), else ""."""
    title = meta.title or ""
    rest = title
    for name in (meta.place, meta.region):
        if name:
            rest = rest.replace(name, "")
    rest = _GENERIC_TITLE.sub("", _ADMIN_PREFIX.sub("", rest))
    return title if len(rest) >= INFORMATIVE_TITLE_CHARS else ""


EMBED_CONTEXTS = ("title+headings", "informative-title", "headings")


def embedding_context(config: Config) -> str:
    """What is put before a chunk's text for the model: "none" or one of EMBED_CONTEXTS."""
    if not config.embed_with_context:
        return "none"
    if config.embed_context not in EMBED_CONTEXTS:
        raise ValueError(f"embed_context: unknown value {config.embed_context!r}; choose from {', '.join(EMBED_CONTEXTS)}")
    return config.embed_context


def context_signature(config: Config) -> bool | str:
    """embedding_context for index signatures; the two old settings keep their old value (True / False) so
    indexes built with them are not rebuilt for nothing."""
    context = embedding_context(config)
    return {"title+headings": True, "none": False}.get(context, context)


def embedding_input(meta: DocumentMeta, heading_path: Iterable[str], text: str, context: bool | str) -> str:
    """The text the model sees: the chunk text, optionally after context that disambiguates it without
    changing what is shown to the user. `context` is "none" / False, "title+headings" / True (title and
    heading path), "informative-title" (the title only when it says more than place, year and report
    type: `informative_title`), or "headings" (the heading path)."""
    if context is True:
        context = "title+headings"
    if not context or context == "none":
        return text
    if context == "title+headings":
        parts = [meta.title, *heading_path]
    elif context == "informative-title":
        parts = [informative_title(meta)]
    elif context == "headings":
        parts = list(heading_path)
    else:
        raise ValueError(f"unknown embedding context {context!r}")
    prefix = " › ".join(p for p in parts if p)
    return f"{prefix}\n{text}" if prefix else text


def checkpoint(stage: str) -> None:
    """Log the start of a stage. REPORTSEARCH_PAUSE_AT=<stage> makes the run wait there for a minute:
    the crash tests use it to kill -9 a run at an exact point (parse, fulltext, embed, faiss, publish)."""
    log.info("stage: %s", stage)
    if os.environ.get("REPORTSEARCH_PAUSE_AT") == stage:
        log.warning("pausing at stage %s (REPORTSEARCH_PAUSE_AT)", stage)
        time.sleep(60)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def _chunk_config_signature(config: Config) -> str:
    return json.dumps({"max": config.max_chunk_chars, "min": config.min_chunk_chars, "ctx": context_signature(config),
                       "pipeline": PIPELINE_VERSION})


class Index:
    """The indexing façade used by the CLI, the scripts and the tests."""

    def __init__(self, config: Config, encoder: Encoder | None = None):
        self.config = config
        self.store = GenerationStore(config.index_dir)
        self._encoder = encoder
        analysis.configure(config.user_dict)  # index and queries must tokenize with the same dictionary

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = Encoder(self.config.model, self.config.embed_batch_size, self.config.encoder_backend)
        return self._encoder

    # -- public --------------------------------------------------------------------------------
    def build(self, full: bool = False, dry_run: bool = False, progress: bool | None = None) -> RunReport:
        """Run one indexing pass. Never raises for bad files; returns the report (also written to disk)."""
        corpus = Path(self.config.corpus_dir)
        report = RunReport(corpus=str(corpus), started=_now(), full=full)
        progress = sys.stderr.isatty() if progress is None else progress
        lock = self.store.lock()
        try:
            lock.acquire()
        except (LockHeld, OSError) as exc:
            # A lock that cannot even be created (read-only or foreign index folder) is a failed run too.
            message = str(exc) if isinstance(exc, LockHeld) else self._fault_message(exc) or str(exc)
            report.status, report.exit_code, report.error = "failed", EXIT_RUN_FAILED, message
            report.finished = _now()
            log.error("%s", message)
            return report  # not written: the running holder owns the report file (or it cannot be written)
        self._building: tuple[str, Path] | None = None
        try:
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
        except Exception as exc:  # the run failed as a whole: nothing was published
            written = self._discard_build()
            message = self._fault_message(exc, written)
            if message:
                log.error("indexing run failed: %s", message)  # the machine's fault, not a bug: no traceback
            else:
                log.exception("indexing run failed")
                message = f"{type(exc).__name__}: {exc}"
            report.status, report.exit_code, report.error = "failed", EXIT_RUN_FAILED, message
            report.generation = ""  # its build was never published (and is gone)
        finally:
            self._discard_build()  # KeyboardInterrupt and the like: leave no build folder behind either
            report.finished = _now()
            if not dry_run:
                self._write_report(report)
            lock.release()
        return report

    def _discard_build(self) -> int:
        """Remove the current run's unpublished build (it may hold the space a full disk needs back);
        returns how many bytes it had written."""
        building, self._building = getattr(self, "_building", None), None
        if building is None:
            return 0
        written = tree_size(building[1])
        self.store.discard(*building)
        return written

    def _fault_message(self, exc: BaseException, written: int = 0) -> str | None:
        cache = self.config.embedding_cache or Path(self.config.index_dir) / "embeddings.sqlite"
        published = self.store.current_path_or_none()
        needed = tree_size(published) if published is not None else 0
        return describe_fault(exc, [self.store.index_dir, Path(cache).parent], written, needed)

    def build_documents(self, documents: Iterable[Document], progress: bool | None = None) -> RunReport:
        """Full build of a new generation from already-parsed documents (evaluation corpora such as STARD,
        benchmarks): same chunking, indexes, catalog and atomic publish as a corpus run."""
        report = RunReport(corpus="(documents)", started=_now(), full=True)
        progress = sys.stderr.isatty() if progress is None else progress
        with self.store.lock():
            t0 = time.perf_counter()
            self.store.remove_debris()
            used: set[str] = set()
            parsed = []
            for doc in documents:
                doc_id = _new_doc_id(doc.path, used)
                used.add(doc_id)
                chunks = chunk_paragraphs(doc.paragraphs, doc_id, self.config, doc_path=doc.path)
                parsed.append(_Parsed(doc_id, CorpusFile(Path(doc.path), doc.path, 0, 0), doc, "{}", chunks))
                report.added.append(doc.path)
            report.timings["parse"] = time.perf_counter() - t0
            name, build_dir = self.store.new_build_dir()
            try:
                report.generation = name
                self._write_generation(build_dir, None, None, _Plan(), parsed, report, progress)
                checkpoint("publish")
                self.store.publish(name, build_dir)
            except BaseException:
                self.store.discard(name, build_dir)
                raise
            self.store.prune(self.config.keep_generations)
        report.status, report.finished = "ok", _now()
        report.timings["total"] = time.perf_counter() - t0
        return report

    def status(self) -> dict:
        """Published generation, when it was built, counts, last run's result, failing files, and the damage
        the integrity check finds (`damaged`: one line per problem; `repair`: the command that fixes it)."""
        published = check_published(self.store, self.config.verify_index_checksums)
        out: dict = {"index_dir": str(self.store.index_dir), "generation": published.name}
        if published.damage:
            out["damaged"] = [str(d) for d in published.damage]
            out["repair"] = REPAIR_COMMAND
        gen = published.path
        if gen is not None and "catalog" not in published.parts:
            cat = Catalog(gen / "catalog.sqlite")
            try:
                info = cat.info()
                out.update(built_at=info.get("built_at", ""), model=info.get("model", ""),
                           documents=cat.document_count(), chunks=cat.chunk_count())
            except sqlite3.DatabaseError as exc:
                out.setdefault("damaged", []).append(f"{gen.name}/catalog.sqlite cannot be read ({exc})")
                out["repair"] = REPAIR_COMMAND
            finally:
                cat.close()
        report = self.store.index_dir / REPORT_NAME
        try:
            last = json.loads(report.read_text(encoding="utf-8"))
        except FileNotFoundError:
            last = None
        except (OSError, ValueError) as exc:
            last = None
            out["last_run_unreadable"] = f"{report} cannot be read ({exc}); the next run rewrites it"
        if last is not None:
            out["last_run"] = {k: last.get(k) for k in ("started", "finished", "status", "exit_code", "generation",
                                                        "error")}
            out["failing_files"] = last.get("failures", [])
            out["skipped_files"] = last.get("skipped", [])
            out["repairs"] = last.get("repairs", [])
        return out

    # -- the run -------------------------------------------------------------------------------
    def _run(self, corpus: Path, report: RunReport, full: bool, dry_run: bool, progress: bool,
             distrust_published: bool = False) -> None:
        t0 = time.perf_counter()
        cfg = self.config
        if not dry_run:
            self.store.remove_debris()
        scan = scan_corpus(corpus, cfg.follow_external_symlinks)
        report.skipped.extend({"path": s.path, "reason": s.reason} for s in scan.skipped)
        overrides, sidecar_problems = _load_sidecars(corpus)
        for path, reason in sidecar_problems:
            report.failures.append({"path": path, "reason": reason, "kept_previous": False})

        t_check = time.perf_counter()
        published = check_published(self.store, cfg.verify_index_checksums)
        report.timings["check"] = time.perf_counter() - t_check
        report.previous_generation = published.name or ""
        if distrust_published and published.path is not None:
            published.damage.append(catalog_unreadable(published.path))
        if published.damage:
            what = published.describe()
            log.warning("published index damaged: %s", what)
            if not distrust_published:
                report.repairs.append(what + ": " + repair_action(published))
        # A damaged catalog (or CURRENT) is never opened: the corpus is the source to rebuild from.
        prev_path = published.path if published.path is not None and not published.unusable else None
        prev = Catalog(prev_path / "catalog.sqlite") if prev_path is not None else None
        try:
            reparse_all = full or prev is None or self._incompatible(prev)
            if prev is not None and reparse_all and not full:
                log.info("index settings or pipeline changed since the last run: re-reading every file")
            plan = self._plan(scan, prev, overrides, reparse_all, report)
            report.timings["scan"] = time.perf_counter() - t0
            if dry_run:
                self._predict_failures(plan, report)
                report.status = "dry-run"
                report.exit_code = EXIT_SOME_FAILED if report.failures else EXIT_OK
                return
            checkpoint("parse")
            parsed = self._parse(plan, prev, report, progress)
            if (prev is not None and not reparse_all and not published.damage
                    and self._nothing_to_publish(plan, parsed, prev)):
                # The published generation already is this state: keep serving it, publish nothing.
                report.generation = report.previous_generation
                report.documents, report.chunks = prev.document_count(), prev.chunk_count()
                report.status = "partial" if report.failures else "ok"
                report.exit_code = EXIT_SOME_FAILED if report.failures else EXIT_OK
                report.timings["total"] = time.perf_counter() - t0
                log.info("no changes: generation %s stays published", report.generation)
                return
            name, build_dir = self.store.new_build_dir()
            self._building = (name, build_dir)
            report.generation = name
            self._write_generation(build_dir, prev_path if not reparse_all else None, prev, plan, parsed,
                                   report, progress, published.parts)
        finally:
            if prev is not None:
                prev.close()
        checkpoint("publish")
        self.store.publish(name, build_dir, before_swap=lambda: checkpoint("swap"))
        self._building = None
        self.store.prune(cfg.keep_generations)
        report.status = "partial" if report.failures else "ok"
        report.exit_code = EXIT_SOME_FAILED if report.failures else EXIT_OK
        report.timings["total"] = time.perf_counter() - t0

    def _predict_failures(self, plan: _Plan, report: RunReport) -> None:
        """Dry run: list the files to be read that will fail for reasons visible without parsing them."""
        known = {f["path"] for f in report.failures}
        for f, doc_id, _digest, _ov in plan.to_parse:
            reason = predict_failure(f.abs_path, f.rel_path, f.size, self.config.max_file_bytes)
            if reason and f.rel_path not in known:
                report.failures.append({"path": f.rel_path, "reason": reason,
                                        "kept_previous": f.rel_path in report.changed})

    @staticmethod
    def _nothing_to_publish(plan: _Plan, parsed: list, prev: Catalog) -> bool:
        # Only new mtimes (a file touched but not changed) are not worth a generation; they are
        # recorded with the next real change, and until then the hash is simply recomputed.
        return not (parsed or plan.renames or plan.deletes) and plan.aliases == prev.aliases()

    def _incompatible(self, prev: Catalog) -> bool:
        info = prev.info()
        # A catalog from before the analyzer signature existed has none: its words are re-cut once.
        return (info.get("model") != self.config.model or info.get("chunking") != _chunk_config_signature(self.config)
                or info.get("analyzer") != _analyzer_signature(self.config)
                or info.get("encoder_backend", "torch") != self.config.encoder_backend)

    def _plan(self, scan, prev: Catalog | None, overrides: dict[str, dict[str, str]], reparse_all: bool,
              report: RunReport) -> _Plan:
        plan = _Plan()
        prev_docs: dict[str, DocRow] = {d.path: d for d in prev.documents()} if prev else {}
        prev_aliases = prev.aliases() if prev else {}
        by_hash: dict[str, DocRow] = {d.content_hash: d for d in prev_docs.values()}
        failed_paths = {f.path for f in scan.failures}
        # Documents under a folder that cannot be listed are unknown this run, not deleted: they keep
        # their indexed version (and their duplicate-file aliases), like an unreadable file does.
        hidden = tuple(d + "/" if d else "" for d in scan.failed_dirs)
        kept_under: dict[str, int] = {}
        for path in prev_docs:
            for d in hidden:
                if path.startswith(d):
                    kept_under[d] = kept_under.get(d, 0) + 1
                    failed_paths.add(path)
                    plan.hidden.append(path)
        for path, alias in prev_aliases.items():
            if path.startswith(hidden):
                plan.aliases[path] = alias
        for failure in scan.failures:
            kept = kept_under.get("" if failure.path == "." else failure.path + "/", 0)
            reason = failure.reason + (f" ({kept} indexed documents under it kept)" if kept else "")
            report.failures.append({"path": failure.path, "reason": reason,
                                    "kept_previous": failure.path in prev_docs or kept > 0})

        # Hash every file, reusing the catalog's hash when size and mtime are unchanged.
        hashed: list[tuple[CorpusFile, str]] = []
        for f in scan.files:
            known = prev_docs.get(f.rel_path)
            if known and known.size == f.size and known.mtime_ns == f.mtime_ns:
                hashed.append((f, known.content_hash))
                continue
            alias = prev_aliases.get(f.rel_path)
            if alias and alias[1] == f.size and alias[2] == f.mtime_ns and prev:
                doc = prev.document(alias[0])
                if doc:
                    hashed.append((f, doc.content_hash))
                    continue
            try:
                hashed.append((f, _sha256_file(f.abs_path)))
            except OSError as exc:
                report.failures.append({"path": f.rel_path,
                                        "reason": f"cannot read file: {exc.strerror or exc}",
                                        "kept_previous": f.rel_path in prev_docs})
                failed_paths.add(f.rel_path)

        groups: dict[str, list[CorpusFile]] = {}
        for f, digest in hashed:
            groups.setdefault(digest, []).append(f)

        present = {f.rel_path for f, _ in hashed} | failed_paths
        claimed_ids: set[str] = set()
        used_ids = {d.doc_id for d in prev_docs.values()}
        for digest, files in groups.items():
            # Keep the path the catalog already knows as the primary copy, so ids and URLs stay put.
            files.sort(key=lambda f: (not (f.rel_path in prev_docs and prev_docs[f.rel_path].content_hash == digest),
                                      f.rel_path))
            primary, copies = files[0], files[1:]
            for c in copies:
                report.duplicates.append([c.rel_path, primary.rel_path])
            ov = json.dumps(overrides.get(primary.rel_path, {}), sort_keys=True, ensure_ascii=False)
            known = prev_docs.get(primary.rel_path)
            moved_from = by_hash.get(digest)
            if known is not None:
                doc_id = known.doc_id
                if known.content_hash == digest and known.overrides == ov and not reparse_all:
                    plan.unchanged += 1
                    if (known.size, known.mtime_ns) != (primary.size, primary.mtime_ns):
                        plan.touched.append((doc_id, primary))
                else:
                    plan.to_parse.append((primary, doc_id, digest, ov))
                    report.changed.append(primary.rel_path)
            elif moved_from is not None and moved_from.path not in present and moved_from.doc_id not in claimed_ids:
                doc_id = moved_from.doc_id
                report.renamed.append([moved_from.path, primary.rel_path])
                if moved_from.overrides == ov and not reparse_all:
                    plan.renames.append((doc_id, primary))
                else:
                    plan.to_parse.append((primary, doc_id, digest, ov))
            else:
                doc_id = _new_doc_id(primary.rel_path, used_ids)
                used_ids.add(doc_id)
                plan.to_parse.append((primary, doc_id, digest, ov))
                report.added.append(primary.rel_path)
            claimed_ids.add(doc_id)
            for c in copies:
                plan.aliases[c.rel_path] = (doc_id, c.size, c.mtime_ns)

        for path, doc in prev_docs.items():
            if doc.doc_id not in claimed_ids and path not in failed_paths:
                plan.deletes.append(doc.doc_id)
                report.deleted.append(path)
        report.unchanged = plan.unchanged
        return plan

    def _parse(self, plan: _Plan, prev: Catalog | None, report: RunReport, progress: bool = False) -> list[_Parsed]:
        """Read and chunk each new or changed file; a file that fails is reported, never the whole run."""
        t0 = time.perf_counter()
        cfg = self.config
        parsed = []
        bar = _progress_bar(len(plan.to_parse), "reading", progress, unit="file")
        for f, doc_id, _digest, ov in plan.to_parse:
            bar(0, f.rel_path)  # on a terminal the bar names the file being read: a slow one is seen at once
            t_file = time.perf_counter()
            try:
                doc = parse_file(f.abs_path, f.rel_path, cfg.max_file_bytes, json.loads(ov) or None,
                                 max_chars=cfg.max_file_chars, max_paragraphs=cfg.max_file_paragraphs)
                chunks = chunk_paragraphs(doc.paragraphs, doc_id, self.config, doc_path=doc.path)
            except Exception as exc:  # LoadError says why; anything else is our bug, but only this file's
                reason = exc.reason if isinstance(exc, LoadError) else f"internal error: {type(exc).__name__}: {exc}"
                if not isinstance(exc, LoadError):
                    log.exception("unexpected error while reading %s", f.rel_path)
                had_previous = prev is not None and prev.document(doc_id) is not None
                report.failures.append({"path": f.rel_path, "reason": reason, "kept_previous": had_previous})
                if f.rel_path in report.added:
                    report.added.remove(f.rel_path)
                log.warning("%s: %s", f.rel_path, reason)
                continue
            finally:
                bar(1)
                took = time.perf_counter() - t_file
                if took >= SLOW_FILE_SECONDS:
                    log.info("slow file: %s took %.1f s to read", f.rel_path, took)
            parsed.append(_Parsed(doc_id, f, doc, ov, chunks))
        report.timings["parse"] = time.perf_counter() - t0
        return parsed

    def _write_generation(self, build_dir: Path, prev_dir: Path | None, prev: Catalog | None, plan: _Plan,
                          parsed: list, report: RunReport, progress: bool, damaged: set[str] = frozenset()) -> None:
        """Write the new generation into `build_dir`: a copy of the previous one (`prev_dir`) with the plan
        applied, or a new one. `damaged` parts of the previous generation are not copied but rebuilt: the
        full text from the catalog, the vectors from the embedding cache."""
        cfg = self.config
        t0 = time.perf_counter()
        catalog_path = build_dir / "catalog.sqlite"
        fulltext_dir = build_dir / "fulltext"
        refill = False
        if prev_dir is not None and prev is not None:
            # Start from a copy of the published state (the backend shares unchanged files).
            _copy_sqlite(prev_dir / "catalog.sqlite", catalog_path)
            catalog = Catalog(catalog_path, readonly=False)
            if "fulltext" in damaged:
                fulltext, refill = create_fulltext(fulltext_dir, cfg), True
            else:
                clone_fulltext(prev_dir / "fulltext", fulltext_dir)
                fulltext = open_fulltext(fulltext_dir, cfg)
        else:
            catalog = Catalog(catalog_path, readonly=False)
            fulltext = create_fulltext(fulltext_dir, cfg)
            if prev is not None:
                # A full rebuild starts empty, but a file that fails now (or lies in a folder that cannot be
                # read) keeps its previous good version.
                kept = [f["path"] for f in report.failures if f.get("kept_previous")] + plan.hidden
                for path in dict.fromkeys(kept):
                    doc_id = catalog.copy_document_from(prev, path)
                    if doc_id:
                        meta = catalog.document(doc_id).meta
                        fulltext.add(_records_from_rows(doc_id, meta, catalog.chunks_of(doc_id)))
        catalog.set_durable(False)  # synced once, by the last commit below, before anything is published
        try:
            indexed_at = _now()
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
                records.extend(_records(doc_id, doc.meta, chunks))
            report.timings["catalog"] = time.perf_counter() - t0
            t1 = time.perf_counter()
            checkpoint("fulltext")
            if refill:  # the previous full text was damaged: index every chunk of the catalog anew
                records = [r for d in catalog.documents()
                           for r in _records_from_rows(d.doc_id, d.meta, catalog.chunks_of(d.doc_id))]
            fulltext.add(records)
            # A rename keeps chunk ids; an alias list is rebuilt each run.
            catalog.set_aliases(plan.aliases)
            fulltext.commit()
            _store_word_offsets(catalog)
            report.timings["fulltext"] = time.perf_counter() - t1

            t2 = time.perf_counter()
            checkpoint("embed")
            ids, vecs = self._embed_all(catalog, report, progress)
            report.timings["embed"] = time.perf_counter() - t2
            t3 = time.perf_counter()
            checkpoint("faiss")
            previous_vectors = prev_dir / "vectors.faiss" if prev_dir is not None and "vectors" not in damaged else None
            index, report.vector_index = VectorIndex.build_from(
                previous_vectors, ids, vecs, vecs.shape[1] if len(vecs) else self.encoder.dim,
                cfg.ann_threshold, cfg.hnsw_m, cfg.hnsw_ef_search, cfg.hnsw_max_stale)
            index.save(build_dir / "vectors.faiss")
            report.timings["faiss"] = time.perf_counter() - t3
            t4 = time.perf_counter()
            catalog.set_dup_groups(duplicate_groups(catalog))
            report.documents = catalog.document_count()
            report.chunks = catalog.chunk_count()
            catalog.set_durable(True)  # this commit flushes every earlier unsynced write of the file
            catalog.set_info({
                "generation": report.generation, "built_at": _now(), "model": cfg.model,
                "encoder_backend": cfg.encoder_backend,
                "dim": index.dim, "chunking": _chunk_config_signature(cfg), "analyzer": _analyzer_signature(cfg),
                "documents": report.documents,
                "chunks": report.chunks, "corpus": str(Path(cfg.corpus_dir).resolve()),
            })
            report.timings["finish"] = time.perf_counter() - t4
        finally:
            fulltext.close()
            catalog.close()

    def _embed_all(self, catalog: Catalog, report: RunReport, progress: bool) -> tuple[np.ndarray, np.ndarray]:
        """Vectors for every chunk of the new generation, embedding only texts not in the cache."""
        cache_path = self.config.embedding_cache or Path(self.config.index_dir) / "embeddings.sqlite"
        cache = EmbeddingCache(cache_path, cache_key(self.config.model, self.config.encoder_backend))
        try:
            metas = {d.doc_id: d.meta for d in catalog.documents()}
            rows: list[ChunkRow] = list(catalog.iter_chunks())
            context = embedding_context(self.config)
            texts = [embedding_input(metas[r.doc_id], r.heading_path, r.text, context)
                     for r in rows]
            ids = np.fromiter((r.chunk_id for r in rows), dtype=np.int64, count=len(rows))
            found = cache.get_many(texts)
            report.embedding_cache_hits = len(found)
            missing = [i for i in range(len(texts)) if i not in found]
            dim = next(iter(found.values())).shape[0] if found else (self.encoder.dim if missing else 0)
            vecs = np.zeros((len(texts), dim), dtype=np.float32)
            for i, v in found.items():
                vecs[i] = v
            if missing:
                log.info("embedding %d new chunks (%d from cache)", len(missing), len(found))
            step = max(self.config.embed_batch_size * 8, 256)
            bar = _progress_bar(len(missing), "embedding", progress)
            paths = {d.doc_id: d.path for d in catalog.documents()} if progress and missing else {}
            for start in range(0, len(missing), step):
                batch = missing[start : start + step]
                bar(0, paths.get(rows[batch[0]].doc_id, ""))  # the file whose chunks are being embedded
                out = self.encoder.encode([texts[i] for i in batch])
                cache.put_many([texts[i] for i in batch], out)  # committed per batch: a killed run resumes
                vecs[batch] = out
                report.embedded += len(batch)
                bar(len(batch))
            return ids, vecs
        finally:
            for aside, reason in cache.moved_aside:
                report.repairs.append(f"embedding cache {cache_path} was damaged ({reason}): moved aside to "
                                      f"{aside}; a new cache was started")
            cache.close()

    def _write_report(self, report: RunReport) -> None:
        """Write index-report.json and .txt, each atomically. When that is impossible (full disk, read-only
        folder) no report is better than the previous run's: it is removed, and nothing half-written stays."""
        path = self.store.index_dir / REPORT_NAME
        text_path = self.store.index_dir / "index-report.txt"
        try:
            self.store.index_dir.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, json.dumps(asdict(report), ensure_ascii=False, indent=2))
            _write_atomically(text_path, report.summary() + "\n")
        except OSError as exc:
            for stale in (path, text_path):
                try:
                    stale.unlink()
                except OSError:
                    pass
            log.error("cannot write the run report %s: %s", path, exc.strerror or exc)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


def _analyzer_signature(config: Config) -> str:
    return analysis.signature(config.user_dict)


def _store_word_offsets(catalog: Catalog) -> None:
    """Store the analyzer's word offsets of every chunk that has none yet (new chunks; all chunks of a
    catalog written before offsets were stored), so highlighting a hit needs no tokenizing at query time.
    The generation's index was cut with the same analyzer (`_incompatible` forces a rebuild otherwise)."""
    analyzer = analysis.default_analyzer()
    for rows in catalog.chunks_without_word_offsets():
        catalog.put_word_offsets((cid, analysis.pack_word_offsets(analyzer.tokenize(text))) for cid, text in rows)


def _records(doc_id: str, meta: DocumentMeta, chunks) -> list[FullTextRecord]:
    return [
        FullTextRecord(
            chunk_id=c.chunk_id, doc_id=doc_id, text=c.text, title=meta.title,
            heading_path=" › ".join(c.heading_path), place=meta.place, level=meta.level, region=meta.region,
            year=meta.year, kind=c.section_kind.value,
        )
        for c in chunks
    ]


def _records_from_rows(doc_id: str, meta: DocumentMeta, rows: list[ChunkRow]) -> list[FullTextRecord]:
    return [
        FullTextRecord(
            chunk_id=r.chunk_id, doc_id=doc_id, text=r.text, title=meta.title,
            heading_path=" › ".join(r.heading_path), place=meta.place, level=meta.level, region=meta.region,
            year=meta.year, kind=r.section_kind,
        )
        for r in rows
    ]


def _new_doc_id(rel_path: str, used: set[str]) -> str:
    salt = 0
    while True:
        doc_id = hashlib.sha1(f"{rel_path}\x00{salt}".encode()).hexdigest()[:12]
        if doc_id not in used:
            return doc_id
        salt += 1


def _copy_sqlite(src: Path, dst: Path) -> None:
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    target = sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _load_sidecars(corpus: Path) -> tuple[dict[str, dict[str, str]], list[tuple[str, str]]]:
    try:
        from indexer.load.sidecar import load_sidecars
    except ImportError:
        return {}, []
    return load_sidecars(corpus)


def _progress_bar(total: int, label: str, interactive: bool, unit: str = "chunk") -> Callable[..., None]:
    """tqdm on a terminal (naming the file at hand); a log line every ~10% under cron.
    Returns update(n, file="")."""
    if total <= 0:
        return lambda n, file="": None
    if interactive:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=label, unit=unit)

        def update(n: int, file: str = "") -> None:
            if file:
                bar.set_postfix_str(file[-60:], refresh=False)
            bar.update(n)
            if bar.n >= total:
                bar.close()

        return update
    done = [0, 0]

    def update(n: int, file: str = "") -> None:
        done[0] += n
        pct = done[0] * 100 // total
        if pct >= done[1] + 10 or done[0] >= total:
            done[1] = pct
            log.info("%s: %d/%d (%d%%)", label, done[0], total, pct)

    return update
