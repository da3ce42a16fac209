"""Generations: every indexing run builds a complete new index state in its own folder and publishes it
with one atomic step, so readers never see a half-built index or parts of two states.

Layout under the index folder:
    CURRENT                  name of the published generation (replaced with os.replace)
    generations/g000007/     one generation (its files: indexer/storage/layout.py)
    generations/g000008.build-<pid>/   a run in progress (debris if that run was killed)
    index.lock               held (flock) by the running indexer; holds its PID and start time
Readers hold a shared flock on generations/<name>/READY while they use a generation, so old generations
are deleted only when no process reads them.
"""
from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from indexer.storage.layout import CURRENT, LOCK, READY, GenerationLayout  # noqa: F401  (re-exported)
from indexer.storage.manifest import write_manifest

log = logging.getLogger(__name__)

_GEN_RE = re.compile(r"^g(\d{6,})$")
_BUILD_RE = re.compile(r"^g(\d{6,})\.build-(\d+)$")


def _number(name: str) -> int:
    return int(_GEN_RE.match(name).group(1))


class LockHeld(RuntimeError):
    """Another indexing run holds the lock."""


class IndexUnavailable(RuntimeError):
    """No usable published index (none yet, or damaged): the message says what to run."""


class CurrentUnreadable(RuntimeError):
    """CURRENT exists but does not name a generation (empty, garbage, or a name that is no generation's)."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """Flush every file under `path` (and the folders) to disk before publishing it."""
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


@dataclass
class IndexLock:
    """An exclusive lock on the index folder. flock is released by the kernel when the holder dies,
    so a crashed run (even kill -9) never leaves a lock that blocks the next one."""

    path: Path
    fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_holder(fd)
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise LockHeld(
                    f"another indexing run is in progress (PID {holder.get('pid', '?')}, "
                    f"started {holder.get('started', '?')}); lock file {self.path}"
                ) from exc
            raise
        previous = _read_holder(fd)
        if previous.get("pid") and not _pid_alive(int(previous["pid"])):
            log.warning("taking over the lock left by a crashed run (PID %s, started %s)",
                        previous["pid"], previous.get("started", "?"))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}).encode(), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "IndexLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _read_holder(fd: int) -> dict:
    try:
        data = os.pread(fd, 4096, 0)
        return json.loads(data) if data.strip() else {}
    except (OSError, ValueError):
        return {}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class GenerationStore:
    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        self.gen_root = self.index_dir / "generations"

    # -- reading -------------------------------------------------------------------------------
    def current_name(self) -> str | None:
        """The published generation's name; None when nothing was published yet.
        Raises CurrentUnreadable when CURRENT exists but does not hold a generation name."""
        path = self.index_dir / CURRENT
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            name = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise CurrentUnreadable(f"{path} is damaged (not text: {raw[:16]!r})") from None
        if not name:
            raise CurrentUnreadable(f"{path} is damaged (empty)")
        if not _GEN_RE.match(name):
            raise CurrentUnreadable(f"{path} is damaged (holds {name[:40]!r}, not a generation name)")
        return name

    def current_name_or_none(self) -> str | None:
        """current_name(), with an unreadable CURRENT counted as no published generation (for the writer,
        which then builds a new one from the corpus)."""
        try:
            return self.current_name()
        except CurrentUnreadable:
            return None

    def current_path(self) -> Path | None:
        name = self.current_name()
        return self.gen_root / name if name else None

    def current_path_or_none(self) -> Path | None:
        name = self.current_name_or_none()
        return self.gen_root / name if name else None

    def names(self) -> list[str]:
        if not self.gen_root.is_dir():
            return []
        return sorted(p.name for p in self.gen_root.iterdir() if _GEN_RE.match(p.name))

    # -- writing (only while holding the IndexLock) --------------------------------------------
    def lock(self) -> IndexLock:
        return IndexLock(self.index_dir / LOCK)

    def remove_debris(self) -> list[str]:
        """Delete build folders left by killed runs (the caller holds the lock, so none is live), and complete
        generations newer than the published one: a run killed between renaming its build folder and swapping
        CURRENT leaves one that was never published (runs publish in order, so anything newer than CURRENT
        is such a leftover). With no readable CURRENT nothing is judged unpublished."""
        removed = []
        current = self.current_name_or_none()
        if self.gen_root.is_dir():
            for p in self.gen_root.iterdir():
                unpublished = current is not None and _GEN_RE.match(p.name) and _number(p.name) > _number(current)
                if _BUILD_RE.match(p.name) or p.name.endswith(".deleting") or unpublished:
                    shutil.rmtree(p, ignore_errors=True)
                    removed.append(p.name)
        tmp = self.index_dir / (CURRENT + ".tmp")
        if tmp.exists():
            tmp.unlink()
        if removed:
            log.info("removed debris of interrupted runs: %s", ", ".join(removed))
        return removed

    def new_build_dir(self) -> tuple[str, Path]:
        self.gen_root.mkdir(parents=True, exist_ok=True)
        numbers = [int(_GEN_RE.match(n).group(1)) for n in self.names()]
        current = self.current_name_or_none()
        if current and _GEN_RE.match(current):
            numbers.append(int(_GEN_RE.match(current).group(1)))
        name = f"g{(max(numbers) + 1) if numbers else 1:06d}"
        path = self.gen_root / f"{name}.build-{os.getpid()}"
        path.mkdir()
        return name, path

    def discard(self, name: str, build_dir: Path) -> None:
        """Remove a failed run's build folder, and its generation folder if it was renamed but never
        published: a failed run leaves nothing behind (on a full disk it frees the space at once)."""
        shutil.rmtree(build_dir, ignore_errors=True)
        final = self.gen_root / name
        if final.exists() and self.current_name_or_none() != name:
            shutil.rmtree(final, ignore_errors=True)
        try:
            (self.index_dir / (CURRENT + ".tmp")).unlink()
        except OSError:
            pass

    def publish(self, name: str, build_dir: Path, before_swap: Callable[[], None] | None = None) -> Path:
        """Make a finished build the published generation, atomically. `before_swap` runs between the
        rename of the build folder and the swap of CURRENT (the crash tests pause a run there)."""
        write_manifest(build_dir)
        (build_dir / READY).write_text(json.dumps({"published": time.time()}), encoding="utf-8")
        fsync_tree(build_dir)
        final = self.gen_root / name
        os.rename(build_dir, final)
        _fsync_dir(self.gen_root)
        if before_swap is not None:
            before_swap()
        tmp = self.index_dir / (CURRENT + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.index_dir / CURRENT)
        _fsync_dir(self.index_dir)
        log.info("published generation %s", name)
        return final

    def prune(self, keep: int) -> list[str]:
        """Delete published generations beyond the newest `keep`, skipping any that a reader still holds.
        Only generations up to the published one count: one newer than CURRENT was never published."""
        current = self.current_name_or_none()
        names = [n for n in self.names() if current is None or _number(n) <= _number(current)]
        old = [n for n in names[: max(0, len(names) - max(keep, 1))] if n != current]
        deleted = []
        for name in old:
            path = self.gen_root / name
            ready = path / READY
            try:
                fd = os.open(ready, os.O_RDONLY)
            except FileNotFoundError:
                fd = None
            try:
                if fd is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except OSError:
                        log.info("generation %s is still in use by a reader; keeping it for now", name)
                        continue
                # Rename first so a half-deleted folder is recognisable as debris.
                doomed = path.with_name(name + ".deleting")
                os.rename(path, doomed)
                shutil.rmtree(doomed, ignore_errors=True)
                deleted.append(name)
            finally:
                if fd is not None:
                    os.close(fd)
        return deleted


class ReaderHold:
    """A reader's shared claim on a generation folder (prevents pruning while it is used)."""

    def __init__(self, gen_path: Path):
        self.fd = os.open(gen_path / READY, os.O_RDONLY)
        fcntl.flock(self.fd, fcntl.LOCK_SH)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
