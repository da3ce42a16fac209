"""Find the report files under a corpus folder, safely: symlink loops, links out of the corpus, unreadable
folders, special files (FIFOs, sockets, devices) and temp files never hang or break a run."""
from __future__ import annotations

import errno
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from indexer.pipeline.load import is_supported, unreadable

log = logging.getLogger(__name__)

SIDECAR_NAMES = frozenset({"meta.csv"})
_SPECIAL_KINDS = ((stat.S_ISFIFO, "a FIFO/named pipe"), (stat.S_ISSOCK, "a socket"),
                  (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


@dataclass(frozen=True)
class CorpusFile:
    abs_path: Path
    rel_path: str  # '/'-separated, relative to the corpus root
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class FileFailure:
    path: str  # relative to the corpus root where possible
    reason: str


@dataclass
class ScanResult:
    files: list[CorpusFile] = field(default_factory=list)
    # Documents that exist but cannot be read: the run reports them as failed (exit code 1).
    failures: list[FileFailure] = field(default_factory=list)
    # Folders that could not be listed ("" is the corpus root): what was indexed under them is kept.
    failed_dirs: list[str] = field(default_factory=list)
    # Not documents: symlink loops, links out of the corpus, special files. Listed, never read, and they do
    # not change the exit code (they would otherwise fail every run until someone removes them).
    skipped: list[FileFailure] = field(default_factory=list)


def _is_ignored(name: str) -> bool:
    # Hidden files, Word's lock files (~$报告.docx) and editor backups are never reports.
    return name.startswith((".", "~$")) or name.endswith("~")


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def scan_corpus(root: Path, follow_external_symlinks: bool = False) -> ScanResult:
    """List supported regular files under `root`. A symlinked file inside the corpus is listed (a copy of its
    target); a symlinked folder inside it is not walked (its files are listed under their own paths). A link
    that leads out of the corpus is skipped unless `follow_external_symlinks` (content from elsewhere must not
    become searchable by accident)."""
    result = ScanResult()
    root = root.resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {root}")
    seen_dirs: set[tuple[int, int]] = set()

    def on_error(exc: OSError) -> None:
        rel = _relative(Path(exc.filename or root), root)
        rel = "" if rel == "." else rel
        result.failed_dirs.append(rel)
        result.failures.append(FileFailure(rel or ".", f"cannot read folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=on_error):
        here = Path(dirpath)
        st = here.stat()
        if (st.st_dev, st.st_ino) in seen_dirs:
            result.skipped.append(FileFailure(_relative(here, root), "symlink loop: folder already visited"))
            dirnames[:] = []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        dirnames[:] = [d for d in sorted(dirnames) if _walk_into(here, d, root, follow_external_symlinks, result)]
        for name in sorted(filenames):
            _add_file(here, name, root, follow_external_symlinks, result)
    for s in result.skipped:
        log.warning("skipped %s: %s", s.path, s.reason)
    return result


def _walk_into(here: Path, d: str, root: Path, follow_external_symlinks: bool, result: ScanResult) -> bool:
    """Whether to walk the sub-folder `d` of `here`; a symlinked one that loops or leaves the corpus is
    recorded as skipped."""
    if _is_ignored(d):
        return False
    sub = here / d
    if not sub.is_symlink():
        return True
    target = os.path.realpath(sub)
    if _inside(os.path.realpath(here), target):
        result.skipped.append(FileFailure(_relative(sub, root), "symlink loop: links to a folder above it"))
        return False
    if _inside(target, str(root)):
        # Its files are indexed under their own paths (not under whichever name sorts first).
        log.debug("not walking %s: links to %s inside the corpus", _relative(sub, root), target)
        return False
    if not follow_external_symlinks:
        result.skipped.append(FileFailure(_relative(sub, root), _outside_reason(target)))
        return False
    return True


def _add_file(here: Path, name: str, root: Path, follow_external_symlinks: bool, result: ScanResult) -> None:
    """List the file `name` of `here` if it is a supported, readable, regular file inside the corpus;
    otherwise record why not (failed: a document that cannot be read; skipped: not a document)."""
    if _is_ignored(name):
        return
    path = here / name
    rel = _relative(path, root)
    if not is_supported(path):
        if name not in SIDECAR_NAMES:
            log.debug("skipping unsupported file %s", rel)
        return
    try:
        fst = path.stat()  # follows symlinks; a loop or dangling link raises here
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            result.skipped.append(FileFailure(rel, "symlink loop"))
        elif exc.errno == errno.ENOENT and path.is_symlink():
            # A link whose target is gone is no document (it would fail every run until someone removes it).
            target = path_text(os.readlink(path))
            result.skipped.append(FileFailure(rel, f"dangling symlink: its target {target} does not exist"))
        else:
            result.failures.append(FileFailure(rel, unreadable(exc)))
        return
    if not follow_external_symlinks and path.is_symlink():
        target = os.path.realpath(path)
        if not _inside(target, str(root)):
            result.skipped.append(FileFailure(rel, _outside_reason(target)))
            return
    if not stat.S_ISREG(fst.st_mode):
        # Opening a FIFO blocks until someone writes to it: never open anything but a regular file.
        kind = next((k for test, k in _SPECIAL_KINDS if test(fst.st_mode)), "not a regular file")
        result.skipped.append(FileFailure(rel, f"not a regular file ({kind}); not read"))
        return
    if not os.access(path, os.R_OK):
        result.failures.append(FileFailure(rel, "cannot read file: permission denied"))
        return
    result.files.append(CorpusFile(path, rel, fst.st_size, fst.st_mtime_ns))


def _outside_reason(target: str) -> str:
    return (f"symlink to {target}, outside the corpus: not followed "
            "(set follow_external_symlinks = true to index it)")


def path_text(name: str) -> str:
    """A file system path as text that is valid UTF-8 everywhere it goes (catalog, report, terminal, web):
    bytes that are not UTF-8 (GBK names copied from Windows shares arrive as surrogate escapes) are shown
    escaped, `\\xb2\\xe2` (a name that spells such an escape literally is the only possible confusion). Stable
    across runs; the file itself is still read through its original bytes (CorpusFile.abs_path)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _relative(path: Path, root: Path) -> str:
    try:
        return path_text(path.relative_to(root).as_posix())
    except ValueError:
        return path_text(path.as_posix())
