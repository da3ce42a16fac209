""".pdf reader: characters with positions → lines → columns → paragraphs, minus page furniture.

PDFium (pypdfium2) supplies the characters: it is fast and reads the CID/CFF fonts that Chinese PDFs use,
where pdfminer sometimes returns nothing. Everything after that is geometry, in `pdf_layout`.
"""
from __future__ import annotations

import ctypes
import logging
import re
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from indexer.core.document import RawDocument, sha256_bytes
from indexer.pipeline.load import DEFAULT_LIMITS, LoadError, ReadLimits
from indexer.pipeline.load.pdf_layout import layout_blocks
from indexer.pipeline.load.pdf_lines import Char, PageChars
from indexer.pipeline.load.pdf_process import read_isolated
from indexer.pipeline.load.pdf_streams import StreamTooLarge, check_streams

log = logging.getLogger(__name__)

_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<meta|<\?xml|<!--|<div|<script|<title)", re.I)
_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD


def load(path: Path, rel_path: str, data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> RawDocument:
    check_header(rel_path, data)
    if limits.pdf_memory_bytes <= 0:  # no cap wanted (or no fork, e.g. on Windows): read in this process
        return read_pdf(rel_path, data, limits)
    return read_isolated(rel_path, data, limits)


def read_pdf(rel_path: str, data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> RawDocument:
    """The PDF's text as blocks, read in this process; LoadError when it is not readable or passes a limit."""
    try:
        check_streams(data, limits.pdf_stream_bytes, limits.unpacked_bytes)
    except StreamTooLarge as exc:
        raise LoadError(rel_path, str(exc)) from exc
    pages = read_chars(rel_path, data, limits)
    total = sum(1 for page in pages for ch in page.chars if not ch.text.isspace())
    if total < max(20, 5 * len(pages)):
        raise LoadError(rel_path, "no text layer (scanned PDF?) — needs OCR")
    blocks, hints = layout_blocks(pages)
    return RawDocument(path=rel_path, fmt="pdf", blocks=blocks, content_hash=sha256_bytes(data), hints=hints)


def check_header(rel_path: str, data: bytes) -> None:
    """LoadError unless the first bytes are a PDF's (also used by the dry run's precheck)."""
    if b"%PDF-" in data[:1024]:
        return
    if _HTML_START.match(data[:2048].lstrip(b"\xef\xbb\xbf")):
        raise LoadError(rel_path, "not a PDF file (looks like HTML)")
    if data.startswith(b"PK\x03\x04"):
        raise LoadError(rel_path, "not a PDF file (looks like a zip/.docx file)")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise LoadError(rel_path, "not a PDF file (looks like an old Word .doc file)")
    raise LoadError(rel_path, "not a PDF file (no %PDF header)")


def read_chars(rel_path: str, data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> list[PageChars]:
    """Every page's characters in top-down coordinates; LoadError for encrypted or broken files, and as soon
    as the pages or characters pass the limits (a page of text holds at least one paragraph's worth, so more
    pages than max_file_paragraphs cannot be a report; characters are counted before they are copied)."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _PASSWORD_ERROR or "password" in str(exc).lower():
            raise LoadError(rel_path, "encrypted PDF") from exc
        raise LoadError(rel_path, f"corrupt PDF (cannot be opened: {exc})") from exc
    pages: list[PageChars] = []
    try:
        count = len(document)
        if count > limits.paragraphs:
            raise LoadError(rel_path, f"too many pages: {count:,} > limit {limits.paragraphs:,} "
                                      "(setting max_file_paragraphs)")
        _check_char_count(rel_path, document, limits.chars)
        for number in range(count):
            page = document[number]
            try:
                pages.append(_page_chars(page, number))
            finally:
                page.close()
    finally:
        document.close()
    return pages


def _check_char_count(rel_path: str, document: pdfium.PdfDocument, limit: int) -> None:
    """LoadError as soon as the pages' characters pass `limit`, counted by PDFium alone (~0.4 µs a character)
    before any is copied into Python (~6 µs and ~200 bytes a character). The count includes the spaces
    PDFium generates between words and lines."""
    total = 0
    for number in range(len(document)):
        page = document[number]
        try:
            textpage = page.get_textpage()
            total += textpage.count_chars()
            textpage.close()
        finally:
            page.close()
        if total > limit:
            raise LoadError(rel_path, f"too much text: more than {limit:,} characters by page {number + 1} "
                                      "(setting max_file_chars)")


def _page_chars(page: pdfium.PdfPage, number: int) -> PageChars:
    width, height = page.get_size()
    textpage = page.get_textpage()
    chars: list[Char] = []
    try:
        raw = textpage.raw
        ox, oy = ctypes.c_double(), ctypes.c_double()
        left, right = ctypes.c_double(), ctypes.c_double()
        bottom, top = ctypes.c_double(), ctypes.c_double()
        for i in range(textpage.count_chars()):
            if pdfium_c.FPDFText_IsGenerated(raw, i) == 1:
                continue  # spaces/newlines PDFium invents; spacing is rebuilt from geometry instead
            code = pdfium_c.FPDFText_GetUnicode(raw, i)
            if code in (0, 0xFFFE, 0xFFFF) or code in (10, 13) or 0xD800 <= code <= 0xDFFF:
                continue
            if not pdfium_c.FPDFText_GetCharOrigin(raw, i, ctypes.byref(ox), ctypes.byref(oy)):
                continue
            pdfium_c.FPDFText_GetCharBox(raw, i, ctypes.byref(left), ctypes.byref(right),
                                         ctypes.byref(bottom), ctypes.byref(top))
            size = pdfium_c.FPDFText_GetFontSize(raw, i) or (top.value - bottom.value) or 10.0
            x0 = ox.value  # the origin, not the glyph's ink box: ink starts late on narrow glyphs
            # Advance width is not exposed; the ink box (or a fraction of the size for blanks) stands in.
            x1 = x0 + 0.25 * size if chr(code).isspace() else max(right.value, x0 + 0.3 * size)
            chars.append(Char(text=chr(code), x0=x0, x1=x1, y=height - oy.value, size=size))
    finally:
        textpage.close()
    return PageChars(number=number, width=width, height=height, chars=chars)
