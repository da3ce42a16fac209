"""Structure: cleaned blocks -> paragraphs with headings, heading paths and section kinds.

Plain-text reports mark their outline only by wording: numbered lines (一、 （一） 1、 …), short
title-like lines without sentence punctuation, and paragraphs that open with a short numbered
sentence ("（一）加强组织领导，落实法治建设职责。成立…"), which we call inline headings.
Blocks that a format already marked (Role.HEADING / PARAGRAPH / TABLE_ROW) keep that role.

Heading levels are relative, as in Word outlines: a numbering style takes the level at which it
first appears, a heading of a style already open closes that heading and everything below it, and
a Chinese number that continues an Arabic one (3、 then 四、) counts as a sibling.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from indexer.core.document import Block, Paragraph, Role, SectionKind
from indexer.pipeline.lines import (
    CLOSING_QUOTES, CONTINUING_STYLES, SENTENCE_END, TITLE_LEVEL, Marker,
    heading_label, inline_heading, is_numbered_heading_line, is_signature_line, is_title_like,
    parse_marker, section_kind,
)

log = logging.getLogger(__name__)


# --- outline ----------------------------------------------------------------------------------


@dataclass
class _Open:
    """A heading that is open above the current position."""

    label: str
    level: int
    style: str | None  # numbering style; None for title-like or format-marked headings
    number: int | None
    paragraph: Paragraph | None = None  # the heading's own paragraph, updated if it moves


class _Outline:
    """The stack of open headings."""

    def __init__(self) -> None:
        self.stack: list[_Open] = []
        # A title-like heading with nothing under it yet: if numbered items follow, it heads them.
        self.open_title_like = False

    def path(self) -> tuple[str, ...]:
        return tuple(h.label for h in self.stack)

    def note_text(self) -> None:
        self.open_title_like = False

    def _close_from(self, level: int) -> None:
        self.stack = [h for h in self.stack if h.level < level]

    def _sibling(self, marker: Marker) -> _Open | None:
        """The open heading that a heading with `marker` continues (same style, or 3、 -> 四、)."""
        for h in self.stack:
            if h.style == marker.style:
                return h
        if marker.style in CONTINUING_STYLES and marker.number > 1:
            for h in self.stack:
                if h.style in CONTINUING_STYLES and h.number == marker.number - 1:
                    return h
        return None

    def _place_numbered(self, marker: Marker) -> int:
        """Close what a numbered heading replaces and return its level.

        000: "特色工作及亮点工作情况" (title-like, under "（一）全面履行…") directly followed by
        "（一）大力开展…": the title-like line is a section of its own that holds the new numbered
        items, so it takes the place of the old "（一）" and the items go below it.
        """
        sibling = self._sibling(marker)
        if sibling is None:
            return self.stack[-1].level + 1 if self.stack else 1
        if self.open_title_like and self.stack[-1].style is None and self.stack[-1] is not sibling:
            section = self.stack[-1]
            self._close_from(sibling.level)
            section.level = sibling.level
            if section.paragraph is not None:
                section.paragraph.heading_level = section.level
                section.paragraph.heading_path = self.path()
            self.stack.append(section)
            self.open_title_like = False
            return section.level + 1
        self._close_from(sibling.level)
        return sibling.level

    def push_numbered(self, label: str, marker: Marker) -> int:
        level = self._place_numbered(marker)
        self._close_from(level)
        self.stack.append(_Open(label, level, marker.style, marker.number))
        self.open_title_like = False
        return level

    def push_title_like(self, label: str) -> int:
        numbered = [h.level for h in self.stack if h.style is not None]
        level = (numbered[-1] + 1) if numbered else 1
        self._close_from(level)
        self.stack.append(_Open(label, level, None, None))
        self.open_title_like = True
        return level

    def push_level(self, label: str, level: int) -> int:
        marker = parse_marker(label)
        self._close_from(level)
        self.stack.append(_Open(label, level, marker.style if marker else None, marker.number if marker else None))
        self.open_title_like = False
        return level

    def place_inline(self, marker: Marker) -> None:
        """An inline numbered heading ends the open heading it continues (it is not kept open itself)."""
        if marker.style != "cn_shi":
            level = self._place_numbered(marker)
            self._close_from(level)
        self.open_title_like = False


def _list_items(blocks: list[Block]) -> set[int]:
    """Indexes of one-sentence numbered lines that form a list ("（一）学习不够深入。" /
    "（二）执法力量不足。"): they are the content, not headings over it."""
    def sentence_item(i: int) -> str | None:
        if not 0 <= i < len(blocks) or blocks[i].role != Role.UNKNOWN:
            return None
        text = blocks[i].text
        marker = parse_marker(text)
        if marker is None or not is_numbered_heading_line(text) or text.rstrip(CLOSING_QUOTES)[-1] not in SENTENCE_END:
            return None
        return marker.style

    items: set[int] = set()
    for i in range(len(blocks)):
        style = sentence_item(i)
        if style is not None and style in (sentence_item(i - 1), sentence_item(i + 1)):
            items.add(i)
    return items


def _title_index(blocks: list[Block]) -> int | None:
    """Index of the document title: a leading block marked as the title (by the format, or by cleaning:
    indexer/pipeline/title.py reads plain text's first lines)."""
    if len(blocks) < 2:
        return None
    first = blocks[0]
    return 0 if first.role == Role.HEADING and first.level in (None, TITLE_LEVEL) else None


def _signature_start(blocks: list[Block]) -> int:
    """Index where the trailing signature (issuing body, date) begins; len(blocks) if none."""
    start = len(blocks)
    while start > 1 and len(blocks) - start < 3 and blocks[start - 1].role == Role.UNKNOWN \
            and is_signature_line(blocks[start - 1].text):
        start -= 1
    return start


def build_paragraphs(blocks: list[Block]) -> list[Paragraph]:
    """Turn cleaned blocks into paragraphs that know their headings and section kind."""
    blocks = [b for b in blocks if b.text.strip()]
    title_at = _title_index(blocks)
    signature_from = _signature_start(blocks)
    list_items = _list_items(blocks)
    outline = _Outline()
    paragraphs: list[Paragraph] = []

    for i, block in enumerate(blocks):
        text = block.text.strip()
        if i == title_at:
            paragraphs.append(Paragraph(len(paragraphs), text, True, TITLE_LEVEL, (), SectionKind.OTHER))
            continue
        if i >= signature_from:
            paragraphs.append(Paragraph(len(paragraphs), text, False, None, (), SectionKind.OTHER))
            continue
        level = None if i in list_items else _heading_level(block, text, outline, is_last=i == len(blocks) - 1)
        if level is not None:
            path = outline.path()
            kind = section_kind(path, text, is_heading=True)
            paragraphs.append(Paragraph(len(paragraphs), text, True, level, path[:-1], kind))
            outline.stack[-1].paragraph = paragraphs[-1]
            continue
        path = outline.path()
        lead = inline_heading(text) if block.role != Role.TABLE_ROW else None
        if lead is not None:
            marker = parse_marker(text)
            assert marker is not None  # inline_heading found one
            outline.place_inline(marker)
            path = outline.path() + (lead,)
        outline.note_text()
        paragraphs.append(Paragraph(len(paragraphs), text, False, None, path, section_kind(path, text, False)))
    return paragraphs


def _numbered_text(text: str, is_last: bool) -> bool:
    """A numbered line that is text, not a heading: an item ending in ； is one of a list (a statute's
    "（一）检查公司财务；"), and a sentence on the last line heads nothing ("二、三类动物疫病…处理。")."""
    end = text.rstrip(CLOSING_QUOTES)[-1]
    return end in "；;" or (is_last and end in SENTENCE_END)


def _heading_level(block: Block, text: str, outline: _Outline, is_last: bool) -> int | None:
    """Push the block onto the outline and return its level if it is a heading, else None."""
    label = heading_label(text)
    if block.role == Role.HEADING:
        if block.level is not None:
            return outline.push_level(label, max(block.level, 1))
        marker = parse_marker(text)
        return outline.push_numbered(label, marker) if marker else outline.push_title_like(label)
    if block.role != Role.UNKNOWN:
        return None
    if is_numbered_heading_line(text) and not _numbered_text(text, is_last):
        marker = parse_marker(text)
        assert marker is not None
        return outline.push_numbered(label, marker)
    if is_title_like(text) and not is_last and not is_signature_line(text):
        return outline.push_title_like(label)
    return None
