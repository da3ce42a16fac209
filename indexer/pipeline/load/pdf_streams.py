"""Decoded sizes of a PDF's streams, measured before PDFium sees the file.

PDFium inflates a whole stream into memory when it parses a page (a 0.7 MB file whose content stream inflates
to 512 MiB took 6.7 GB and 27 s), and keeps ~100 bytes per character shown. So every Flate stream that text
extraction decodes (page contents, forms, fonts, CMaps, object streams) is inflated here first, in bounded
chunks and thrown away, and the file fails when one inflates past its limit. Images are skipped: extracting
text never decodes them.
"""
from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

_STREAM = re.compile(rb">>\s*stream(?:\r\n|\n|\r)")
_OBJ = re.compile(rb"\d+\s+\d+\s+obj\b")
_FILTERS = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+)")
_FONT_FILE = re.compile(rb"/Length[123]\b|/Subtype\s*/(?:Type1C|CIDFontType0C|OpenType)\b")
_IMAGE = re.compile(rb"/Subtype\s*/Image\b")
_STRUCTURE = re.compile(rb"/Type\s*/(?:ObjStm|XRef)\b")  # objects and the cross-reference table, packed
_CHUNK = 1 << 16


class StreamTooLarge(Exception):
    """A stream inflates past its limit; the message says which and by how much."""


def check_streams(data: bytes, content_limit: int, package_limit: int) -> None:
    """StreamTooLarge when a Flate stream (or a chain of them) inflates to more than `content_limit` bytes,
    or `package_limit` for an embedded font file, a packed object stream or cross-reference table.
    Cost: one bounded inflate of each stream."""
    for match in _STREAM.finditer(data):
        start = match.end()
        obj = None
        for obj in _OBJ.finditer(data, max(0, match.start() - 4096), match.start()):
            pass
        head = data[obj.end() if obj else max(0, match.start() - 4096):match.end()]
        filters = _FILTERS.search(head)
        if not filters or _IMAGE.search(head):
            continue
        names = re.findall(rb"/([A-Za-z0-9]+)", filters.group(1))
        flate = 0
        for name in names:  # leading Flate stages only; the rest expand little or are not decoded for text
            if name not in (b"FlateDecode", b"Fl"):
                break
            flate += 1
        if not flate:
            continue
        font, structure = bool(_FONT_FILE.search(head)), bool(_STRUCTURE.search(head))
        limit = package_limit if font or structure else content_limit
        size = _inflated_size(data, start, flate, limit)
        if size > limit:
            what = "an embedded font" if font else "an object stream" if structure else "a content stream"
            setting = "setting max_unpacked_bytes" if font or structure else "a reading limit"
            raise StreamTooLarge(f"{what} (at byte {start:,}) inflates to more than {limit:,} bytes ({setting})")


def _inflated_size(data: bytes, start: int, stages: int, limit: int) -> int:
    """Bytes out of `stages` chained inflaters fed from data[start:], counted up to just past `limit`."""
    chunks: Iterator[bytes] = (data[i:i + _CHUNK] for i in range(start, len(data), _CHUNK))
    for _ in range(stages):
        chunks = _inflate(chunks)
    size = 0
    try:
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                break
    except zlib.error:
        pass  # broken data: PDFium decides what to make of it
    return size


def _inflate(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Inflate a stream of chunks lazily, never more than _CHUNK bytes out at a time."""
    inflater = zlib.decompressobj()
    for chunk in chunks:
        while chunk and not inflater.eof:
            out = inflater.decompress(chunk, _CHUNK)
            chunk = inflater.unconsumed_tail
            if out:
                yield out
        if inflater.eof:
            return
