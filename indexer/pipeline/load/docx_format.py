""".docx reader: body paragraphs and tables in document order, with heading levels and list labels.

The body XML is walked directly (not python-docx's paragraph list) so tables, content controls and text boxes
stay where they are in the text, deleted revisions and hidden text stay out, and field results such as page
numbers and tables of contents can be dropped. Headers and footers are never read.
"""
from __future__ import annotations

import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from indexer.core.document import Block, RawDocument, Role, sha256_bytes
from indexer.pipeline.load import DEFAULT_LIMITS, LoadError, ReadLimits
from indexer.pipeline.load.common import text_block, title_block
from indexer.pipeline.load.docx_numbering import W
from indexer.pipeline.load.docx_package import Package, PartTooLarge, Style, num_pr, outline_level

log = logging.getLogger(__name__)

_W = "{%s}" % W
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_REL_FOOTNOTES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"
_REL_ENDNOTES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/endnotes"

CORRUPT = "corrupt .docx (not a valid zip/Word file)"

# Field instructions whose displayed result is page furniture, not report text.
_DROPPED_FIELDS = re.compile(r"^\s*(PAGE|NUMPAGES|SECTIONPAGES|TOC|PAGEREF)\b", re.IGNORECASE)
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
_TITLE_STYLE = re.compile(r"^(?:title|标题)$", re.IGNORECASE)
_TOC_STYLE = re.compile(r"^(?:toc|目录)\s*\d", re.IGNORECASE)
_WS = re.compile(r"[ \t\u00a0\u3000]+")


def load(path: Path, rel_path: str, data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> RawDocument:
    """A .docx package's document (the dispatcher also sends here a .doc/.wps file that is really a .docx)."""
    blocks, hints = read_docx(data, rel_path, limits)
    fmt = path.suffix.lower().lstrip(".") or "docx"
    return RawDocument(path=rel_path, fmt=fmt, blocks=blocks, content_hash=sha256_bytes(data), hints=hints)


def read_docx(data: bytes, rel_path: str,
              limits: ReadLimits = DEFAULT_LIMITS) -> tuple[list[Block], dict[str, str]]:
    """Blocks and hints of a .docx file's bytes; LoadError when it is not a readable Word file or unpacks to
    more than `limits` allow (found while unpacking, before any XML tree is built)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        package = Package.open(archive, limits)
    except PartTooLarge as exc:
        raise LoadError(rel_path, str(exc)) from exc
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, EOFError, ValueError) as exc:
        log.debug("%s: %s", rel_path, exc)
        raise LoadError(rel_path, CORRUPT) from exc
    walker = _BodyWalker(package)
    walker.walk_children(package.body)
    walker.append_notes()
    if walker.skipped:
        log.info("%s: skipped %s", rel_path, ", ".join(f"{n} {k}" for k, n in sorted(walker.skipped.items())))
    hints: dict[str, str] = {}
    if walker.title:
        hints["title"] = walker.title
    elif package.core_title:
        hints["title"] = package.core_title
    return walker.blocks, hints


def _clean(text: str) -> str:
    return _WS.sub(" ", text).strip()


@dataclass
class _Field:
    instr: str = ""
    in_result: bool = False


@dataclass
class _BodyWalker:
    package: Package
    blocks: list[Block] = field(default_factory=list)
    title: str = ""
    # Complex fields (fldChar begin/separate/end) can span paragraphs, e.g. a table of contents.
    fields: list[_Field] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    note_ids: list[str] = field(default_factory=list)

    # --- block level ---

    def walk_children(self, parent: etree._Element) -> None:
        for child in parent:
            tag = child.tag
            if tag == _W + "p":
                self.paragraph(child)
            elif tag == _W + "tbl":
                self.table(child)
            elif tag in (_W + "sdt", _W + "customXml", _W + "ins", _W + "smartTag"):
                content = child.find(_W + "sdtContent")
                self.walk_children(content if content is not None else child)
            elif tag == _MC + "AlternateContent":
                choice = child.find(_MC + "Choice")
                if choice is not None:
                    self.walk_children(choice)

    def paragraph(self, p: etree._Element) -> None:
        ppr = p.find(_W + "pPr")
        style = self._style_id(ppr)
        if style and _TOC_STYLE.match(self._style_name(style)):
            self._count("table-of-contents lines")
            self._scan_fields_only(p)
            return
        boxes: list[etree._Element] = []
        text = self._inline_text(p, boxes)
        label = self._numbering_label(ppr, style)
        level, is_title = self._heading_level(ppr, style)
        lines = [_clean(line) for line in text.split("\n")]
        lines = [line for line in lines if line]
        if lines and label:
            lines[0] = label + lines[0]  # label and text are separated by a tab in Word: "一、" needs nothing
        if lines:
            if is_title or level is not None:
                joined = "".join(lines)
                if is_title and not self.title:
                    self.title = joined
                    self.blocks.append(title_block(joined) if not self.blocks else text_block(joined))
                else:
                    self.blocks.append(Block(joined, Role.HEADING, level=level or 1))
            else:
                self.blocks.extend(text_block(line) for line in lines)
        if _ends_with_page_break(p) and self.blocks:
            self.blocks[-1].page_break_after = True
        for box in boxes:
            self._count("text boxes (appended in place)")
            self.walk_children(box)

    def table(self, tbl: etree._Element) -> None:
        rows = [tr for tr in tbl.iter(_W + "tr") if _owning_table(tr) is tbl]
        grid: list[list[etree._Element]] = [
            [tc for tc in tr if tc.tag == _W + "tc" and not _is_vmerge_continuation(tc)] for tr in rows
        ]
        width = max((len(cells) for cells in grid), default=0)
        if width <= 1:
            # One-column tables are layout boxes around ordinary text: read their content as body.
            for cells in grid:
                for tc in cells:
                    self.walk_children(tc)
            return
        texts = [[self._cell_text(tc) for tc in cells] for cells in grid]
        texts = [row for row in texts if any(row)]
        if not texts:
            return
        header = texts[0]
        use_header = len(texts) > 1 and all(header) and len(set(header)) == len(header)
        if use_header:
            self.blocks.append(Block(" | ".join(header), Role.TABLE_ROW))
            for row in texts[1:]:
                pairs = [
                    f"{header[i]}：{value}" if i < len(header) else value
                    for i, value in enumerate(row)
                    if value
                ]
                self.blocks.append(Block("；".join(pairs), Role.TABLE_ROW))
        else:
            for row in texts:
                self.blocks.append(Block(" | ".join(cell for cell in row if cell), Role.TABLE_ROW))

    def append_notes(self) -> None:
        """Footnotes and endnotes go after the body, in the order they were referenced."""
        by_id: dict[str, etree._Element] = {}
        for root in self.package.notes:
            for note in list(root.iter(_W + "footnote")) + list(root.iter(_W + "endnote")):
                if note.get(_W + "type") in (None, "normal"):
                    by_id[note.get(_W + "id", "")] = note
        for note_id in self.note_ids:
            note = by_id.get(note_id)
            if note is None:
                continue
            for p in note.iter(_W + "p"):
                text = _clean(self._inline_text(p, []))
                if text:
                    self.blocks.append(Block(text, Role.PARAGRAPH))  # never a heading or signature
                    self._count("footnotes/endnotes (appended at the end)")

    # --- inline level ---

    def _inline_text(self, parent: etree._Element, boxes: list[etree._Element]) -> str:
        parts: list[str] = []
        self._collect(parent, parts, boxes)
        return "".join(parts)

    def _collect(self, parent: etree._Element, parts: list[str], boxes: list[etree._Element]) -> None:
        for child in parent:
            tag = child.tag
            if tag == _W + "r":
                self._run(child, parts, boxes)
            elif tag in (_W + "del", _W + "moveFrom", _W + "pPr"):
                continue
            elif tag == _W + "fldSimple":
                if _DROPPED_FIELDS.match(child.get(_W + "instr", "")):
                    continue
                self._collect(child, parts, boxes)
            elif tag == _W + "sdt":
                content = child.find(_W + "sdtContent")
                if content is not None:
                    self._collect(content, parts, boxes)
            elif isinstance(tag, str):  # hyperlink, ins, smartTag, customXml, moveTo, ...
                self._collect(child, parts, boxes)

    def _run(self, run: etree._Element, parts: list[str], boxes: list[etree._Element]) -> None:
        rpr = run.find(_W + "rPr")
        hidden = rpr is not None and rpr.find(_W + "vanish") is not None
        for child in run:
            tag = child.tag
            if tag == _W + "fldChar":
                kind = child.get(_W + "fldCharType")
                if kind == "begin":
                    self.fields.append(_Field())
                elif kind == "separate" and self.fields:
                    self.fields[-1].in_result = True
                elif kind == "end" and self.fields:
                    self.fields.pop()
            elif tag == _W + "instrText":
                if self.fields:
                    self.fields[-1].instr += child.text or ""
            elif tag in (_W + "drawing", _W + "pict", _W + "object") or tag == _MC + "AlternateContent":
                boxes.extend(_text_boxes(child))
            elif tag == _W + "footnoteReference" or tag == _W + "endnoteReference":
                self.note_ids.append(child.get(_W + "id", ""))
            elif hidden or self._in_dropped_field():
                continue
            elif tag == _W + "t":
                parts.append(child.text or "")
            elif tag == _W + "tab" or tag == _W + "ptab":
                parts.append(" ")
            elif tag == _W + "br" and child.get(_W + "type") not in ("page", "column"):
                parts.append("\n")
            elif tag == _W + "cr":
                parts.append("\n")
            elif tag == _W + "noBreakHyphen":
                parts.append("-")

    def _in_dropped_field(self) -> bool:
        return any(f.in_result and _DROPPED_FIELDS.match(f.instr) for f in self.fields)

    def _scan_fields_only(self, p: etree._Element) -> None:
        """Keep field nesting right through paragraphs whose text is skipped."""
        self._inline_text(p, [])

    def _cell_text(self, tc: etree._Element) -> str:
        parts: list[str] = []
        for p in tc.iter(_W + "p"):
            text = _clean(self._inline_text(p, []).replace("\n", " "))
            ppr = p.find(_W + "pPr")
            label = self._numbering_label(ppr, self._style_id(ppr))
            if text:
                parts.append(label + text)
        return " ".join(parts)

    # --- styles ---

    def _style_id(self, ppr: etree._Element | None) -> str | None:
        if ppr is None:
            return None
        node = ppr.find(_W + "pStyle")
        return node.get(_W + "val") if node is not None else None

    def _style_chain(self, style_id: str | None) -> list[Style]:
        chain: list[Style] = []
        seen: set[str] = set()
        while style_id and style_id not in seen and style_id in self.package.styles:
            seen.add(style_id)
            style = self.package.styles[style_id]
            chain.append(style)
            style_id = style.based_on
        return chain

    def _style_name(self, style_id: str) -> str:
        style = self.package.styles.get(style_id)
        return style.name if style else style_id

    def _heading_level(self, ppr: etree._Element | None, style_id: str | None) -> tuple[int | None, bool]:
        """(heading level 1.., is the document title) from direct outline level, then the style chain."""
        direct = outline_level(ppr)
        if direct is not None:
            return direct + 1, False
        for style in self._style_chain(style_id):
            match = _HEADING_STYLE.match(style.name.strip())
            if match:
                return int(match.group(1)), False
            if _TITLE_STYLE.match(style.name.strip()):
                return None, True
            if style.outline is not None:
                return style.outline + 1, False
        return None, False

    def _numbering_label(self, ppr: etree._Element | None, style_id: str | None) -> str:
        num = num_pr(ppr)
        if num is None:
            for style in self._style_chain(style_id):
                if style.num:
                    num = style.num
                    break
        if num is None:
            return ""
        return self.package.numbering.label(*num)

    def _count(self, what: str) -> None:
        self.skipped[what] = self.skipped.get(what, 0) + 1


def _owning_table(el: etree._Element) -> etree._Element | None:
    parent = el.getparent()
    while parent is not None and parent.tag != _W + "tbl":
        parent = parent.getparent()
    return parent


def _is_vmerge_continuation(tc: etree._Element) -> bool:
    tcpr = tc.find(_W + "tcPr")
    if tcpr is None:
        return False
    vmerge = tcpr.find(_W + "vMerge")
    return vmerge is not None and vmerge.get(_W + "val", "continue") == "continue"


def _text_boxes(el: etree._Element) -> list[etree._Element]:
    """Text-box contents under a drawing, once each (mc:Fallback repeats the mc:Choice copy)."""
    found = []
    for box in el.iter(_W + "txbxContent"):
        ancestor = box.getparent()
        in_fallback = False
        while ancestor is not None and ancestor is not el.getparent():
            if ancestor.tag == _MC + "Fallback":
                in_fallback = True
                break
            ancestor = ancestor.getparent()
        if not in_fallback and not any(box in f.iter() for f in found):
            found.append(box)
    return found


def _ends_with_page_break(p: etree._Element) -> bool:
    breaks = [br for br in p.iter(_W + "br") if br.get(_W + "type") == "page"]
    if not breaks:
        return False
    # Only a break after the last text counts: text after it starts on the next page.
    last_text = None
    for node in p.iter(_W + "t"):
        last_text = node
    if last_text is None:
        return True
    order = {node: i for i, node in enumerate(p.iter())}
    return order[breaks[-1]] > order[last_text]
