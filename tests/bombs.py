"""Hostile inputs for the fault tests, built in a few seconds and a few MB of disk: decompression bombs (a
.docx whose document.xml unpacks to 1 GiB; one of two million paragraphs; a PDF whose content stream inflates
to 512 MiB), PDFs of 200,000 pages, of 3 million characters, of a 10^9-point page, and binary junk."""
from __future__ import annotations

import os
import zlib
import zipfile
from pathlib import Path

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)


def _docx(path: Path, head: bytes, body: bytes, repeat: int, tail: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        with z.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(head)
            block = body * max(1, (1 << 20) // len(body))
            written = 0
            while written < repeat * len(body):
                fh.write(block)
                written += len(block)
            fh.write(tail)
    return path


def huge_xml_docx(path: Path, unpacked: int = 1 << 30) -> Path:
    """A .docx of ~1 MB whose document.xml is `unpacked` bytes: one paragraph of a gigabyte of spaces."""
    head = f'<?xml version="1.0"?><w:document {_W}><w:body><w:p><w:r><w:t xml:space="preserve">'.encode()
    return _docx(path, head, b" ", unpacked, b"</w:t></w:r></w:p></w:body></w:document>")


def many_paragraphs_docx(path: Path, paragraphs: int = 2_000_000) -> Path:
    """A .docx of two million short paragraphs (a few MB on disk)."""
    head = f'<?xml version="1.0"?><w:document {_W}><w:body>'.encode()
    para = "<w:p><w:r><w:t>第一段正文。</w:t></w:r></w:p>".encode()
    return _docx(path, head, para, paragraphs, b"</w:body></w:document>")


def junk(size: int = 100_000, seed: int = 7) -> bytes:
    """Random bytes (reproducible): what a broken download or a mislabelled binary looks like."""
    import random

    return random.Random(seed).randbytes(size)




def many_tags_html(path: Path, paragraphs: int = 1_000_000) -> Path:
    """A 13 MB page of a million short paragraphs: no compression needed to take gigabytes to parse."""
    path.write_bytes(b"<html><body>" + "<p>一段</p>".encode() * paragraphs + b"</body></html>")
    return path


# -- hostile PDFs, written as raw PDF objects (a few KB on disk) ------------------------------------------------------
_FONT = b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>"
_LINE = b"BT /F1 12 Tf 72 700 Td (Page text of a report) Tj ET\n"  # PDFium drops repeats at one spot


def _stream(head: bytes, raw: bytes, flate: bool = True) -> bytes:
    data = zlib.compress(raw, 9) if flate else raw
    return head[:-2] + b"/Length %d%s>>stream\n" % (len(data), b"/Filter/FlateDecode" if flate else b"") + data + b"\nendstream"


def _write_pdf(path: Path, objects: list[bytes]) -> Path:
    """Objects 1..n (1 = catalog) with a classic xref table."""
    out, offsets = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def _one_page_pdf(path: Path, contents: bytes, media_box: bytes = b"[0 0 595 842]") -> Path:
    return _write_pdf(path, [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox%s/Resources<</Font<</F1 5 0 R>>>>/Contents 4 0 R>>" % media_box,
        contents,
        _FONT,
    ])


def flate_bomb_pdf(path: Path, unpacked: int = 512 << 20) -> Path:
    """A one-page PDF of ~0.5 MB whose content stream inflates to `unpacked` bytes of text-showing operators."""
    body = b"BT /F1 12 Tf 72 700 Td (" + b"A" * 4000 + b") Tj ET\n"
    packer, parts, written = zlib.compressobj(9), [], 0
    block = body * max(1, (1 << 20) // len(body))
    while written < unpacked:
        parts.append(packer.compress(block))
        written += len(block)
    parts.append(packer.flush())
    data = b"".join(parts)
    contents = b"<</Length %d/Filter/FlateDecode>>stream\n" % len(data) + data + b"\nendstream"
    return _one_page_pdf(path, contents)


def many_chars_pdf(path: Path, pages: int = 30) -> Path:
    """`pages` pages of 100,000 characters each, all showing one content stream (a 4 KB file): past
    max_file_chars (2,000,000) by page 21."""
    lines = b"".join(b"BT /F1 10 Tf 20 %d Td (" % (800 - 12 * (i % 60)) + b"word " * 200 + b") Tj ET\n"
                     for i in range(100))
    kids = b" ".join(b"%d 0 R" % (5 + k) for k in range(pages))
    page = b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</Font<</F1 4 0 R>>>>/Contents 3 0 R>>"
    return _write_pdf(path, [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[%s]/Count %d>>" % (kids, pages),
                             _stream(b"<<>>", lines), _FONT] + [page] * pages)


def huge_page_pdf(path: Path) -> Path:
    """A page of 10^9 × 10^9 points (PDF allows 14,400) holding forty ordinary lines of text."""
    lines = b"".join(b"BT /F1 12 Tf 72 %d Td (Line %d of the report on a huge page) Tj ET\n" % (1000 - 14 * i, i)
                     for i in range(40))
    return _one_page_pdf(path, _stream(b"<<>>", lines), b"[0 0 1000000000 1000000000]")


def many_pages_pdf(path: Path, pages: int = 200_000) -> Path:
    """200,000 pages sharing one small content stream, packed in compressed object streams (PDF 1.5):
    2 MB on disk."""
    per_node, first_page = 1000, 5
    nodes = (pages + per_node - 1) // per_node
    first_node = first_page + pages
    objs: dict[int, bytes] = {
        1: b"<</Type/Catalog/Pages 2 0 R>>",
        2: b"<</Type/Pages/Kids[%s]/Count %d>>" % (b" ".join(b"%d 0 R" % (first_node + k) for k in range(nodes)), pages),
        3: _FONT,
    }
    for k in range(nodes):
        kids = range(first_page + k * per_node, min(first_page + pages, first_page + (k + 1) * per_node))
        objs[first_node + k] = b"<</Type/Pages/Parent 2 0 R/Kids[%s]/Count %d>>" % (
            b" ".join(b"%d 0 R" % n for n in kids), len(kids))
        for n in kids:
            objs[n] = b"<</Type/Page/Parent %d 0 R/MediaBox[0 0 595 842]/Resources<</Font<</F1 3 0 R>>>>/Contents 4 0 R>>" % (first_node + k)
    size = first_node + nodes  # the next free number; streams of objects follow
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    xref: dict[int, tuple[int, int, int]] = {}
    xref[4] = (1, len(out), 0)
    out += b"4 0 obj\n" + _stream(b"<<>>", _LINE) + b"\nendobj\n"
    numbers, stm = sorted(objs), size
    for start in range(0, len(numbers), 10_000):
        chunk = numbers[start:start + 10_000]
        header, bodies, at = [], [], 0
        for index, n in enumerate(chunk):
            header.append(b"%d %d" % (n, at))
            bodies.append(objs[n])
            at += len(objs[n]) + 1
            xref[n] = (2, stm, index)
        head = b" ".join(header) + b"\n"
        xref[stm] = (1, len(out), 0)
        out += b"%d 0 obj\n" % stm + _stream(b"<</Type/ObjStm/N %d/First %d>>" % (len(chunk), len(head)),
                                             head + b"\n".join(bodies) + b"\n") + b"\nendobj\n"
        stm += 1
    xref_number = stm
    xref[xref_number] = (1, len(out), 0)
    rows = b"".join(bytes([t]) + a.to_bytes(4, "big") + b.to_bytes(2, "big")
                    for t, a, b in (xref.get(n, (0, 0, 0)) for n in range(xref_number + 1)))
    at = len(out)
    out += b"%d 0 obj\n" % xref_number + _stream(
        b"<</Type/XRef/Size %d/W[1 4 2]/Root 1 0 R>>" % (xref_number + 1), rows) + b"\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % at
    path.write_bytes(bytes(out))
    return path


def form_repetition_pdf(path: Path, form_chars: int = 1000, repeats: int = 20_000) -> Path:
    """A one-page PDF of ~2 KB that draws one small form (XObject) of `form_chars` characters `repeats` times,
    each at its own place (PDFium drops repeats at one spot): 20 million characters once PDFium expands it.
    Every stream is small (no limit on inflated sizes catches it); the forms nest so the file stays tiny."""
    per_line = 100
    text = b"".join(b"BT /F1 6 Tf 0 %d Td (" % (-8 * k) + b"A" * per_line + b") Tj ET\n"
                    for k in range(max(1, form_chars // per_line)))
    inner = 100  # the middle form draws the text form this many times; the page draws the middle form
    outer = max(1, repeats // inner)
    middle = b"".join(b"q 1 0 0 1 %d %d cm /T Do Q\n" % (k % 10 * 3, -(k // 10) * 5) for k in range(inner))
    page = b"".join(b"q 1 0 0 1 %d %d cm /M Do Q\n" % (20 + k % 20, 800 - k) for k in range(outer))
    form = b"<</Type/XObject/Subtype/Form/BBox[-1000 -1000 2000 2000]/Resources<<%s>>>>"
    return _write_pdf(path, [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</XObject<</M 5 0 R>>>>/Contents 4 0 R>>",
        _stream(b"<<>>", page),
        _stream(form % b"/XObject<</T 6 0 R>>", middle),
        _stream(form % b"/Font<</F1 7 0 R>>", text),
        _FONT,
    ])
