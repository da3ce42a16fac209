""".doc/.wps reader: LibreOffice converts the file to .docx, which the .docx reader then reads.

Each conversion gets its own LibreOffice profile directory, so parallel runs (and a desktop LibreOffice the
user has open) do not block each other on the shared profile lock.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from indexer.core.document import RawDocument, sha256_bytes
from indexer.pipeline.load import DEFAULT_LIMITS, LoadError, ReadLimits
from indexer.pipeline.load.docx_format import read_docx

log = logging.getLogger(__name__)

CONVERT_TIMEOUT_S = 120
NEEDS_LIBREOFFICE = (
    "reading .doc/.wps needs LibreOffice: install it (apt-get install libreoffice-writer-nogui) and re-run"
)


def find_soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return None


def load(path: Path, rel_path: str, data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> RawDocument:
    """An old binary Word/WPS file (the dispatcher also sends here a .docx that is really one), via LibreOffice."""
    fmt = path.suffix.lower().lstrip(".") or "doc"
    blocks, hints = read_docx(convert_to_docx(rel_path, data, path.suffix.lower() or ".doc"), rel_path, limits)
    return RawDocument(path=rel_path, fmt=fmt, blocks=blocks, content_hash=sha256_bytes(data), hints=hints)


def convert_to_docx(rel_path: str, data: bytes, suffix: str) -> bytes:
    """The .docx bytes LibreOffice makes of `data`; LoadError when it is missing, fails or hangs."""
    soffice = find_soffice()
    if soffice is None:
        raise LoadError(rel_path, NEEDS_LIBREOFFICE)
    with tempfile.TemporaryDirectory(prefix="reportsearch-lo-") as tmp:
        work = Path(tmp)
        source = work / f"input{suffix}"
        source.write_bytes(data)
        out_dir = work / "out"
        profile = (work / "profile").as_uri()
        command = [soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--nolockcheck",
                   "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(out_dir), str(source)]
        # Own session: on a timeout the whole LibreOffice process group (oosplash + soffice.bin) is killed.
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**os.environ, "HOME": tmp}, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=CONVERT_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise LoadError(rel_path, f"LibreOffice did not convert the file within {CONVERT_TIMEOUT_S} s") from exc
        target = out_dir / "input.docx"
        if not target.exists():
            detail = (stderr or stdout).decode("utf-8", "replace").strip().splitlines()
            reason = detail[-1] if detail else f"exit code {proc.returncode}"
            raise LoadError(rel_path, f"LibreOffice could not convert the file ({reason})")
        return target.read_bytes()
