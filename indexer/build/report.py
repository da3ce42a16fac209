"""The report of one indexing run: what changed, what failed and why, what was repaired, how long each
stage took. Printed for operators (`summary`), written next to the index as JSON and text for cron, and
read back by `status`."""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from indexer.storage.layout import LOCK as LOCK_NAME
from indexer.storage.layout import REPORT as REPORT_NAME

log = logging.getLogger(__name__)

REPORT_TEXT_NAME = "index-report.txt"
EXIT_OK, EXIT_SOME_FAILED, EXIT_RUN_FAILED = 0, 1, 2


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


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
    sentences: int = 0  # sentence vectors stored (0: sentence matching off)
    sentences_embedded: int = 0  # of which newly encoded
    figures_scanned: int = 0  # chunks whose figures were extracted in this run (new chunks; all after an upgrade)
    vector_index: str = ""  # "built" anew, or "extended" (the previous generation's graph plus new chunks)
    timings: dict[str, float] = field(default_factory=dict)
    error: str = ""

    def fail(self, path: str, reason: str, kept_previous: bool) -> None:
        self.failures.append({"path": path, "reason": reason, "kept_previous": kept_previous})

    def settle(self) -> None:
        """Status and exit code of a run that got to its end: partial (exit 1) when any file failed."""
        self.status = "partial" if self.failures else "ok"
        self.exit_code = EXIT_SOME_FAILED if self.failures else EXIT_OK

    def set_failed(self, message: str) -> None:
        self.status, self.exit_code, self.error = "failed", EXIT_RUN_FAILED, message

    def summary(self) -> str:
        lines = [
            f"状态 status: {self.status} (exit {self.exit_code})",
            f"generation: {self.generation or '-'} (previous {self.previous_generation or '-'})",
            f"documents {self.documents}, chunks {self.chunks}; added {len(self.added)}, changed {len(self.changed)},"
            f" renamed {len(self.renamed)}, deleted {len(self.deleted)}, unchanged {self.unchanged}",
            f"chunks +{self.chunks_added} -{self.chunks_removed}; embedded {self.embedded},"
            f" from cache {self.embedding_cache_hits}" + (f"; vector index {self.vector_index}" if self.vector_index else "")
            + (f"; sentence vectors {self.sentences} ({self.sentences_embedded} embedded)" if self.sentences else ""),
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


def write_report(index_dir: Path, report: RunReport) -> None:
    """Write index-report.json and .txt, each atomically. When that is impossible (full disk, read-only
    folder) no report is better than the previous run's: it is removed, and nothing half-written stays."""
    path = index_dir / REPORT_NAME
    text_path = index_dir / REPORT_TEXT_NAME
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, json.dumps(asdict(report), ensure_ascii=False, indent=2))
        _write_atomically(text_path, report.summary() + "\n")
    except OSError as exc:
        for stale in (path, text_path):
            try:
                stale.unlink()
            except OSError:
                pass
        log.error("cannot write the run report %s: %s", path, exc.strerror or exc)


def last_run_status(index_dir: Path) -> dict:
    """The `status` fields that come from the last run's report (none when no run wrote one)."""
    report = index_dir / REPORT_NAME
    out: dict = {}
    try:
        last = json.loads(report.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return out
    except (OSError, ValueError) as exc:
        out["last_run_unreadable"] = f"{report} cannot be read ({exc}); the next run rewrites it"
        return out
    out["last_run"] = {k: last.get(k) for k in ("started", "finished", "status", "exit_code", "generation", "error")}
    if last.get("status") == "running" and not _lock_holder_alive(index_dir):
        # Written when the run started, never replaced by its end: killed (kill -9, OOM, a reboot).
        out["last_run"].update(status="interrupted", exit_code=None, error=(
            "the run never finished (killed, or the machine stopped); nothing it did was published, "
            "the next run starts over"))
    out["failing_files"] = last.get("failures", [])
    out["skipped_files"] = last.get("skipped", [])
    out["repairs"] = last.get("repairs", [])
    return out


def _lock_holder_alive(index_dir: Path) -> bool:
    """Whether the index lock names a live process (a run in progress). Read only, never locked: `status`
    must not get in the way of a run starting."""
    try:
        holder = json.loads((index_dir / LOCK_NAME).read_text(encoding="utf-8") or "{}")
        os.kill(int(holder["pid"]), 0)
    except PermissionError:
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(text, encoding="utf-8", errors="backslashreplace")  # a stray surrogate never loses the report
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


def progress_bar(total: int, label: str, interactive: bool, unit: str = "chunk") -> Callable[..., None]:
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
