"""Failures of the machine rather than of the data or the code: a full disk, a read-only file system, a
folder the indexer may not write. Each becomes one line that says what to fix (exit code 2), not a traceback.

Fault injection, for the tests that kill or starve a run at an exact point: `REPORTSEARCH_PAUSE_AT=<stage>`
makes a run wait at that stage (`pause_if_asked`) for a minute, or until it gets SIGUSR1. Stages: parse,
fulltext, embed, faiss, sentences, publish, swap (indexer/build), milvus-chunks, milvus-documents, milvus-alias,
milvus-drop (indexer/engines/milvus/sync.py). The test waits for the log line "pausing at stage <stage>", then
kills the process (kill -9) or changes its machine (fills the disk) and sends SIGUSR1 to let it go on.
"""
from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import signal
import threading
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

PAUSE_AT_ENV = "REPORTSEARCH_PAUSE_AT"
PAUSE_SECONDS = 60  # a test that never sends SIGUSR1 still ends

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
READ_ONLY = (errno.EROFS,)
DENIED = (errno.EACCES, errno.EPERM)
_SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_FULL, _SQLITE_IOERR = 8, 14, 13, 10
# FAISS reports write errors as RuntimeError with the C library's message in the text.
_MESSAGES = (("No space left on device", errno.ENOSPC), ("Disk quota exceeded", errno.EDQUOT),
             ("Read-only file system", errno.EROFS), ("Permission denied", errno.EACCES))
# numpy's writers (np.save, tofile) report a short write without an errno: the device took no more.
_SHORT_WRITE = re.compile(r"^\d+ requested and \d+ written$")
_PROBE, _PROBE_READ_ONLY = -1, -2  # ask the folders what is wrong (SQLite rarely says which file)


def fault_errno(exc: BaseException) -> int | None:
    """The errno of a machine fault behind `exc` (also inside sqlite3 and FAISS errors), else None."""
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in DISK_FULL + READ_ONLY + DENIED:
            return e.errno
        if isinstance(e, OSError) and e.errno is None and _SHORT_WRITE.match(str(e)):
            return errno.ENOSPC
        if isinstance(e, sqlite3.Error):
            code = (getattr(e, "sqlite_errorcode", 0) or 0) & 0xFF
            if code == _SQLITE_FULL:
                return errno.ENOSPC
            if code == _SQLITE_READONLY:
                # A read-only mount, or a folder/file the user may not write (SQLite cannot create its
                # journal): only the folders can tell which.
                return _PROBE_READ_ONLY
            if code in (_SQLITE_CANTOPEN, _SQLITE_IOERR):
                return _PROBE  # some file could not be opened or written: find out which folder below
        if isinstance(e, RuntimeError):
            for text, number in _MESSAGES:
                if text in str(e):
                    return number
    return None


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def describe_fault(exc: BaseException, folders: list[Path], written: int = 0, needed: int = 0) -> str | None:
    """One line for a machine fault (None when `exc` is not one). `folders` are where the run writes
    (index folder, embedding cache folder); `written` is how much the failed build had written, `needed`
    an estimate of a whole generation (the published one's size)."""
    number = fault_errno(exc)
    if number is None:
        return None
    path = _path_of(exc)
    if number in (_PROBE, _PROBE_READ_ONLY):  # SQLite did not say why: look at the folders
        found = _probe(folders)
        if found is None and number == _PROBE_READ_ONLY:
            found = errno.EACCES, path or (str(folders[-1]) if folders else "?")  # a file, not a folder
        if found is None:
            return None
        number, path = found
    where = path or (str(folders[0]) if folders else "?")
    if number in DISK_FULL:
        folder = Path(where) if Path(where).is_dir() else Path(where).parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        free = shutil.disk_usage(folder).free
        need = max(needed, written)
        need_text = (f"a new generation needs about {_mb(need)}" if need
                     else "the index needs more space")
        return (f"disk full: no space left on device writing {where}; {need_text}"
                f" (this run had written {_mb(written)}), {_mb(free)} free now. Free some space"
                " and run the indexer again")
    setting = "index_dir" if not folders or _inside(where, folders[0]) else "embedding_cache"
    if number in READ_ONLY:
        return f"read-only file system: cannot write {where}; remount it read-write or set {setting} elsewhere"
    return (f"permission denied: cannot write {where}; give the indexing user write access or set {setting} "
            "elsewhere")


def _inside(path: str, folder: Path) -> bool:
    return os.path.abspath(path).startswith(os.path.abspath(folder).rstrip(os.sep) + os.sep) or \
        os.path.abspath(path) == os.path.abspath(folder)


def _path_of(exc: BaseException) -> str | None:
    for e in _chain(exc):
        if isinstance(e, OSError) and e.filename:
            return str(e.filename)
    return None


def _probe(folders: list[Path]) -> tuple[int, str] | None:
    """Which folder cannot be written, and why."""
    for folder in folders:
        f = Path(folder)
        while not f.exists() and f != f.parent:
            f = f.parent
        try:
            if os.statvfs(f).f_flag & os.ST_RDONLY:
                return errno.EROFS, str(f)
            if not os.access(f, os.W_OK):
                return errno.EACCES, str(f)
            if shutil.disk_usage(f).free < 1 << 20:
                return errno.ENOSPC, str(f)
        except OSError:
            continue
    return None


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 10_000_000 else f"{n / 1e6:.2f} MB"


def tree_size(path: Path) -> int:
    """Bytes of the files under `path` (0 if it is gone)."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def pause_if_asked(stage: str) -> None:
    """Wait at `stage` when REPORTSEARCH_PAUSE_AT names it, until SIGUSR1 or PAUSE_SECONDS (see above)."""
    if os.environ.get(PAUSE_AT_ENV) != stage:
        return
    if threading.current_thread() is not threading.main_thread():
        _pause_by_mask(stage)
        return
    # A handler, not a blocked signal: the kernel may hand a process-wide SIGUSR1 to any thread (FAISS's and
    # torch's workers too), and one that has it unblocked would die of it; a handler runs whichever got it.
    resumed = threading.Event()
    previous = signal.signal(signal.SIGUSR1, lambda *_: resumed.set())  # before the line a test waits for
    log.warning("pausing at stage %s (%s; SIGUSR1 resumes)", stage, PAUSE_AT_ENV)
    try:
        resumed.wait(PAUSE_SECONDS)
    finally:
        signal.signal(signal.SIGUSR1, previous)


def _pause_by_mask(stage: str) -> None:
    """The pause outside the main thread (where no handler can be set): SIGUSR1 blocked here and awaited."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    log.warning("pausing at stage %s (%s; SIGUSR1 resumes)", stage, PAUSE_AT_ENV)
    try:
        signal.sigtimedwait({signal.SIGUSR1}, PAUSE_SECONDS)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
