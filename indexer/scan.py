"""Find the report files under a corpus folder, safely (symlink loops, unreadable folders, temp files)."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from indexer.load import is_supported

log = logging.getLogger(__name__)

SIDECAR_NAMES = frozenset({"meta.csv"})


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
    failures: list[FileFailure] = field(default_factory=list)


def _is_ignored(name: str) -> bool:
    # Hidden files, Word's lock files (~$报告.docx) and editor backups are never reports.
    return name.startswith((".", "~$")) or name.endswith("~")


def scan_corpus(root: Path) -> ScanResult:
    """List supported files under `root`, following symlinks but never looping."""
    result = ScanResult()
    root = root.resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {root}")
    seen_dirs: set[tuple[int, int]] = set()

    def on_error(exc: OSError) -> None:
        rel = _relative(Path(exc.filename or root), root)
        result.failures.append(FileFailure(rel, f"cannot read folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=on_error):
        here = Path(dirpath)
        st = here.stat()
        if (st.st_dev, st.st_ino) in seen_dirs:
            result.failures.append(FileFailure(_relative(here, root), "symlink loop: folder already visited"))
            dirnames[:] = []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not _is_ignored(d))
        for name in sorted(filenames):
            if _is_ignored(name):
                continue
            path = here / name
            rel = _relative(path, root)
            if not is_supported(path):
                if name not in SIDECAR_NAMES:
                    log.debug("skipping unsupported file %s", rel)
                continue
            try:
                fst = path.stat()  # follows symlinks; a loop or dangling link raises here
            except OSError as exc:
                reason = "symlink loop" if exc.errno == 40 else f"cannot read file: {exc.strerror or exc}"
                result.failures.append(FileFailure(rel, reason))
                continue
            if not os.access(path, os.R_OK):
                result.failures.append(FileFailure(rel, "cannot read file: permission denied"))
                continue
            result.files.append(CorpusFile(path, rel, fst.st_size, fst.st_mtime_ns))
    return result


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
