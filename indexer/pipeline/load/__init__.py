"""Load: read one file of any supported format into a RawDocument of blocks.

Each format lives in its own module with a `load(path: Path, rel_path: str, data: bytes) -> RawDocument`
function; this module picks one by suffix and turns every failure into a LoadError that names the file.
"""
from __future__ import annotations

import importlib
import logging
import stat
from dataclasses import dataclass
from pathlib import Path

from indexer.core.document import RawDocument

log = logging.getLogger(__name__)

# suffix -> module under indexer.pipeline.load
FORMAT_MODULES: dict[str, str] = {
    ".txt": "text",
    ".docx": "docx_format",
    ".pdf": "pdf_format",
    ".html": "html_format",
    ".htm": "html_format",
    ".doc": "legacy_format",
    ".wps": "legacy_format",
}
SUPPORTED_SUFFIXES = frozenset(FORMAT_MODULES)
# Word files are often saved under the other family's suffix (an old binary .doc renamed .docx, a .docx
# named .doc): the bytes, not the suffix, say which reader fits. Sniffed here, once, for all Word suffixes.
_WORD_SUFFIXES = frozenset({".docx", ".doc", ".wps"})
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
WORD_MAGICS = (ZIP_MAGIC, OLE_MAGIC)


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on what reading one file may unpack, checked while it is unpacked (a 1 MB .docx can hold a
    1 GiB document.xml): with these defaults reading any single file stays under ~500 MB of memory."""

    unpacked_bytes: int = 32 * 1024 * 1024  # one XML part of a package, decompressed (max_unpacked_bytes)
    paragraphs: int = 20_000  # max_file_paragraphs; a package may hold twice as many raw (often empty) ones
    # XML tags of one part: lxml needs ~130 bytes per tag, so 2 million is ~300 MB of tree.
    markup_tags: int = 2_000_000
    # Tags of an HTML page: BeautifulSoup needs ~650 bytes per tag (a 13 MB page of a million <p> took 1.3 GB).
    html_tags: int = 400_000
    chars: int = 2_000_000  # max_file_chars; a PDF's characters are counted page by page as they are read
    # One decoded PDF content stream (page, form, CMap): PDFium holds ~100 bytes per character it shows, so
    # 2 MiB of one-byte characters is ~200 MB. Real report pages are 10-100 KB; embedded fonts get unpacked_bytes.
    pdf_stream_bytes: int = 2 * 1024 * 1024
    # A PDF is read in a child process capped at this much address space and time (max_pdf_memory_bytes,
    # max_pdf_seconds): a form drawn thousands of times expands to gigabytes inside PDFium, out of reach of
    # the counts above. 0 reads PDFs in this process, unbounded. A PDF just under max_file_chars needs ~460 MiB.
    pdf_memory_bytes: int = 512 * 1024 * 1024
    pdf_seconds: float = 120.0


DEFAULT_LIMITS = ReadLimits()


class LoadError(Exception):
    """A file could not be read. `reason` is one line for the operator, in plain words."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def size_problem(size: int, max_bytes: int) -> str | None:
    """Why a file of `size` bytes is not read (empty, over `max_bytes`), or None: the one wording of these
    reasons, which the run and the dry run's precheck both report."""
    if size == 0:
        return "empty file (0 bytes)"
    if size > max_bytes:
        return f"file too large ({size:,} bytes > limit {max_bytes:,})"
    return None


def unreadable(exc: OSError) -> str:
    """The reason for a file the system would not let us read (scan, hashing, loading, the precheck)."""
    return f"cannot read file: {exc.strerror or exc}"


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def _reader_module(suffix: str, data: bytes) -> str:
    """The loader module for a file, by suffix; for Word files, by their bytes when those are unambiguous."""
    if suffix in _WORD_SUFFIXES:
        if data.startswith(ZIP_MAGIC):
            return "docx_format"
        if data.startswith(OLE_MAGIC):
            return "legacy_format"
    return FORMAT_MODULES[suffix]


def load_file(path: Path, rel_path: str, max_bytes: int, limits: ReadLimits = DEFAULT_LIMITS) -> RawDocument:
    """Read `path` (shown to users as `rel_path`) or raise LoadError."""
    suffix = path.suffix.lower()
    module_name = FORMAT_MODULES.get(suffix)
    if module_name is None:
        raise LoadError(rel_path, f"unsupported file type {suffix or '(none)'}")
    try:
        st = path.stat()
    except OSError as exc:
        raise LoadError(rel_path, unreadable(exc)) from exc
    if stat.S_ISDIR(st.st_mode):
        raise LoadError(rel_path, "cannot read file: it is a folder")
    if not stat.S_ISREG(st.st_mode):  # reading a FIFO would block the run forever
        raise LoadError(rel_path, "not a regular file (FIFO, socket or device); not read")
    problem = size_problem(st.st_size, max_bytes)
    if problem:
        raise LoadError(rel_path, problem)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(rel_path, unreadable(exc)) from exc
    module_name = _reader_module(suffix, data)
    try:
        module = importlib.import_module(f"indexer.pipeline.load.{module_name}")
    except ImportError as exc:
        raise LoadError(rel_path, f"no reader for {suffix} files is installed ({exc})") from exc
    try:
        raw = module.load(path, rel_path, data, limits)
    except LoadError:
        raise
    except MemoryError as exc:  # a bomb a reader's own limits did not catch: this file fails, not the run
        raise LoadError(rel_path, f"cannot parse {suffix} file: out of memory") from exc
    except Exception as exc:  # a parser library's own error: report it, never crash the run
        log.debug("loader failed on %s", rel_path, exc_info=True)
        raise LoadError(rel_path, f"cannot parse {suffix} file: {type(exc).__name__}: {exc}") from exc
    if module_name != "text":  # .txt is checked while its encoding is detected
        from indexer.pipeline.load.quality import junk_reason

        reason = junk_reason("\n".join(b.text for b in raw.blocks))
        if reason:
            raise LoadError(rel_path, reason)
    return raw
