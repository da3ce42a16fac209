"""Plain text (.txt) in the encodings Chinese offices produce: UTF-8 (with or without BOM),
GB18030/GBK/GB2312, UTF-16 (with BOM, or without one when the NUL pattern shows it).

The encoding is detected, not guessed: strict decodes in a fixed order, each checked for
plausibility, then charset-normalizer as a last resort. Binary files that merely carry a .txt name
are refused before any decoding.
"""
from __future__ import annotations

import codecs
import logging
import re
from pathlib import Path

from indexer.core.document import Block, RawDocument, sha256_bytes
from indexer.pipeline.load import LoadError
from indexer.pipeline.load.quality import MIN_PLAUSIBLE as _MIN_PLAUSIBLE, plausible, too_many_controls

log = logging.getLogger(__name__)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Signatures of formats people save with a wrong suffix, to name them in the error.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive, e.g. .docx"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE file, e.g. .doc/.wps"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"{\\rtf", "an RTF document"),
)
_SAMPLE_BYTES = 64 * 1024
_CHINESE_TEXT = re.compile(r"[\t\n\r\f\x20-\x7e\u00a0-\u00ff\u2000-\u206f\u2160-\u217f\u2460-\u24ff"
                           r"\u25a0-\u25ff\u3000-\u303f\u4e00-\u9fff\uff00-\uffef\ufeff]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n|\u2028|\u2029|\x85")


def load(path: Path, rel_path: str, data: bytes, limits: object = None) -> RawDocument:
    text = decode_text(rel_path, data)
    blocks = split_lines(text)
    if not any(b.text.strip() for b in blocks):
        raise LoadError(rel_path, "file contains no text")
    return RawDocument(path=rel_path, fmt="txt", blocks=blocks, content_hash=sha256_bytes(data))


def not_text(why: str) -> str:
    """The reason for a .txt file that holds binary data (the loader and the dry run's precheck)."""
    return f"binary file, not text ({why})"


def decode_text(rel_path: str, data: bytes) -> str:
    """The file's text, or LoadError saying why it is not readable text."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(rel_path, data.decode(encoding), encoding)
            except UnicodeDecodeError as exc:
                raise LoadError(rel_path, f"cannot decode text: broken {encoding.upper()} ({exc.reason})") from exc
    utf16 = _bomless_utf16(data)
    if utf16 is not None:
        return _checked(rel_path, data.decode(utf16), utf16)
    kind = binary_signature(data)
    if kind:
        raise LoadError(rel_path, not_text(f"looks like {kind}"))
    if b"\x00" in data[:_SAMPLE_BYTES]:
        raise LoadError(rel_path, not_text("contains NUL bytes"))
    if not data.strip():
        return ""  # whitespace only: load() reports it as a file without text
    try:
        # Strict UTF-8 success on non-ASCII bytes is practically never an accident.
        return _checked(rel_path, data.decode("utf-8"), "UTF-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
        # Almost any byte string decodes as GB18030; real GBK text is ideographs and punctuation,
        # not the rare characters and Hangul that other bytes turn into.
        if _chinese_text_share(text[:_SAMPLE_BYTES]) >= _MIN_PLAUSIBLE:
            log.debug("%s: decoded as GB18030", rel_path)
            return _checked(rel_path, text, "GB18030")
    except UnicodeDecodeError:
        pass
    return _checked(rel_path, _detect_with_charset_normalizer(rel_path, data), "detected encoding")


def binary_signature(data: bytes) -> str | None:
    """What known binary format `data` starts with (a file saved with a wrong suffix), if any."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    return None


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without BOM: the NUL bytes that ASCII characters (digits, line breaks) carry give it
    away; the byte order is the one whose decoding reads as Chinese text."""
    sample = data[: _SAMPLE_BYTES & ~1]
    if len(data) % 2 or b"\x00" not in sample:
        return None
    scores: dict[str, float] = {}
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            scores[encoding] = _chinese_text_share(sample.decode(encoding))
        except UnicodeDecodeError:
            continue
    if not scores:
        return None
    encoding, score = max(scores.items(), key=lambda item: item[1])
    return encoding if score >= _MIN_PLAUSIBLE else None


def _chinese_text_share(text: str) -> float:
    """Share of characters that Chinese documents are made of: ASCII, CJK ideographs and punctuation."""
    if not text:
        return 0.0
    usual = sum(1 for ch in text if _CHINESE_TEXT.match(ch))
    return usual / len(text)


def _detect_with_charset_normalizer(rel_path: str, data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        text = str(best)
        if plausible(text):
            log.debug("%s: charset-normalizer chose %s", rel_path, best.encoding)
            return text
    raise LoadError(rel_path, "cannot detect text encoding")


def _checked(rel_path: str, text: str, encoding: str) -> str:
    """Refuse decoded text that is mostly control characters (a binary file that happened to decode)."""
    if not text.strip():
        return ""  # only whitespace (str.strip also removes U+3000): load() says the file has no text
    if too_many_controls(text):
        raise LoadError(rel_path, not_text("control characters"))
    if not plausible(text):
        raise LoadError(rel_path, f"cannot detect text encoding (not plausible as {encoding})")
    return text


def split_lines(text: str) -> list[Block]:
    """One block per source line; blank lines kept; a form feed marks a page break after the line before it."""
    blocks: list[Block] = []
    for line in _LINE_BREAK.split(text.lstrip("\ufeff")):
        pages = line.split("\f")
        for i, piece in enumerate(pages):
            if i > 0 and blocks:
                _mark_page_break(blocks)
            blocks.append(Block(text=piece.rstrip()))
    return blocks


def _mark_page_break(blocks: list[Block]) -> None:
    for block in reversed(blocks):
        if block.text.strip():
            block.page_break_after = True
            return
