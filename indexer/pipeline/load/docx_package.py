"""The parts of a .docx package the reader needs besides the body: styles (names, outline levels,
numbering they apply), numbering definitions, foot- and endnotes, and the core properties' title."""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass

from lxml import etree

from indexer.pipeline.load import DEFAULT_LIMITS, ReadLimits
from indexer.pipeline.load.docx_numbering import W, Numbering

_W = "{%s}" % W
_BLOCK = 1 << 20
_PARAGRAPH = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?p[\s/>]")  # <w:p> or <w:p w:rsidR=…>, any prefix
_TAG_REACH = 64  # a paragraph tag's start is found within this many bytes of '<'


class PartTooLarge(Exception):
    """A package part unpacks to more than the read limits allow (a decompression bomb, or a dump)."""


def read_part(archive: zipfile.ZipFile, name: str, limits: ReadLimits = DEFAULT_LIMITS) -> bytes:
    """One part of the package, decompressed block by block and counted as it comes: it stops at the first
    block past a limit, so a 1 GiB document.xml costs one megabyte of reading, not a gigabyte of memory."""
    out = bytearray()
    tags = paragraphs = scanned = 0
    max_paragraphs = 2 * limits.paragraphs  # raw paragraphs include empty ones and table cells
    with archive.open(name) as fh:
        while block := fh.read(_BLOCK):
            out += block
            if len(out) > limits.unpacked_bytes:
                raise PartTooLarge(f"{name} unpacks to more than {limits.unpacked_bytes:,} bytes "
                                   "(setting max_unpacked_bytes)")
            tags += block.count(b"<")
            if tags > limits.markup_tags:
                raise PartTooLarge(f"{name} holds more than {limits.markup_tags:,} XML tags (a reading limit)")
            safe = len(out) - _TAG_REACH
            paragraphs += sum(1 for m in _PARAGRAPH.finditer(out, scanned) if m.start() < safe)
            scanned = max(scanned, safe)
            if paragraphs > max_paragraphs:
                raise PartTooLarge(f"too many paragraphs: more than {max_paragraphs:,} in {name} "
                                   f"(limit {limits.paragraphs:,} of text, setting max_file_paragraphs)")
    paragraphs += sum(1 for _ in _PARAGRAPH.finditer(out, scanned))
    if paragraphs > max_paragraphs:
        raise PartTooLarge(f"too many paragraphs: more than {max_paragraphs:,} in {name} "
                           f"(limit {limits.paragraphs:,} of text, setting max_file_paragraphs)")
    return bytes(out)


@dataclass
class Style:
    name: str
    based_on: str | None
    outline: int | None  # 0-based outline level from the style's paragraph properties
    num: tuple[str, int] | None  # numbering the style applies


@dataclass
class Package:
    body: etree._Element
    styles: dict[str, Style]
    numbering: Numbering
    notes: list[etree._Element]
    core_title: str

    @classmethod
    def open(cls, archive: zipfile.ZipFile, limits: ReadLimits = DEFAULT_LIMITS) -> "Package":
        """The package's parts; PartTooLarge when one unpacks past `limits`."""
        root = etree.fromstring(read_part(archive, "word/document.xml", limits))
        body = root.find(_W + "body")
        if body is None:
            raise ValueError("no w:body in word/document.xml")
        names = set(archive.namelist())

        def optional(name: str) -> bytes | None:
            return read_part(archive, name, limits) if name in names else None

        notes = []
        for name in ("word/footnotes.xml", "word/endnotes.xml"):
            xml = optional(name)
            if xml:
                notes.append(etree.fromstring(xml))
        return cls(
            body=body,
            styles=_read_styles(optional("word/styles.xml")),
            numbering=Numbering.from_xml(optional("word/numbering.xml")),
            notes=notes,
            core_title=_core_title(optional("docProps/core.xml")),
        )


def _read_styles(xml: bytes | None) -> dict[str, Style]:
    styles: dict[str, Style] = {}
    if not xml:
        return styles
    for style in etree.fromstring(xml).iter(_W + "style"):
        name_el = style.find(_W + "name")
        based = style.find(_W + "basedOn")
        ppr = style.find(_W + "pPr")
        styles[style.get(_W + "styleId", "")] = Style(
            name=name_el.get(_W + "val", "") if name_el is not None else "",
            based_on=based.get(_W + "val") if based is not None else None,
            outline=outline_level(ppr),
            num=num_pr(ppr),
        )
    return styles


def _core_title(xml: bytes | None) -> str:
    if not xml:
        return ""
    node = etree.fromstring(xml).find("{http://purl.org/dc/elements/1.1/}title")
    title = (node.text or "").strip() if node is not None else ""
    # Word fills this with template junk more often than with the report's title.
    if not title or title.lower().startswith(("microsoft word", "untitled", "document")) or len(title) < 4:
        return ""
    return title


def outline_level(ppr: etree._Element | None) -> int | None:
    if ppr is None:
        return None
    node = ppr.find(_W + "outlineLvl")
    if node is None:
        return None
    try:
        value = int(node.get(_W + "val", "9"))
    except ValueError:
        return None
    return value if 0 <= value < 9 else None  # 9 = body text


def num_pr(ppr: etree._Element | None) -> tuple[str, int] | None:
    """(numId, level) of the numbering a paragraph (or a style) applies; None when it applies none."""
    if ppr is None:
        return None
    props = ppr.find(_W + "numPr")
    if props is None:
        return None
    num_id = props.find(_W + "numId")
    ilvl = props.find(_W + "ilvl")
    if num_id is None:
        return None
    try:
        level = int(ilvl.get(_W + "val", "0")) if ilvl is not None else 0
    except ValueError:
        level = 0
    return num_id.get(_W + "val", "0"), level
