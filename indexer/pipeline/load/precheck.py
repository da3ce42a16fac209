"""What a dry run can already tell about a file without parsing it: empty, too large, unreadable, or not
the format its name claims (wrong magic bytes). Uses the loaders' own checks and messages, so a predicted
failure reads exactly like the one the run would report; a file that passes may still fail when parsed."""
from __future__ import annotations

from pathlib import Path

from indexer.pipeline.load import WORD_MAGICS, LoadError, size_problem, unreadable

_HEAD_BYTES = 2048


def predict_failure(path: Path, rel_path: str, size: int, max_bytes: int) -> str | None:
    """The reason `path` will fail to load, when its size and first bytes already show it; else None."""
    problem = size_problem(size, max_bytes)
    if problem:
        return problem
    try:
        with open(path, "rb") as fh:  # the scan passed regular files only: this never blocks
            head = fh.read(_HEAD_BYTES)
    except OSError as exc:
        return unreadable(exc)
    suffix = path.suffix.lower()
    try:
        if suffix == ".pdf":
            from indexer.pipeline.load.pdf_format import check_header

            check_header(rel_path, head)
        elif suffix == ".docx":
            from indexer.pipeline.load.docx_format import CORRUPT

            if not head.startswith(WORD_MAGICS):
                return CORRUPT
        elif suffix == ".txt":
            from indexer.pipeline.load.text import binary_signature, not_text

            kind = binary_signature(head)
            if kind:
                return not_text(f"looks like {kind}")
    except LoadError as exc:
        return exc.reason
    return None
