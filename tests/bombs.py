"""Hostile inputs for the fault tests, built in a few seconds and a few MB of disk: decompression bombs (a
.docx whose document.xml unpacks to 1 GiB; one of two million paragraphs) and binary junk."""
from __future__ import annotations

import os
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
