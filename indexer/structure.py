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
import re
from dataclasses import dataclass

from indexer.document import Block, Paragraph, Role, SectionKind

log = logging.getLogger(__name__)

TITLE_LEVEL = 0  # heading_level of the document title; it never enters heading paths

SENTENCE_END = "。！？；!?;"
FINAL_PUNCT = SENTENCE_END + "：:…"
CLOSING_QUOTES = "”’」』）)\"'"

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUM = "[一二三四五六七八九十]{1,3}"

# Numbering styles, most specific first. Group 1 is the number.
_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cn_paren", re.compile(rf"[（(]\s*({_CN_NUM})\s*[）)]")),
    ("ar_paren", re.compile(r"[（(]\s*(\d{1,2})\s*[）)]")),
    ("cn_di", re.compile(rf"第({_CN_NUM})(?:部分|章|节)[、，,：:\s]*")),
    ("cn_dun", re.compile(rf"({_CN_NUM})\s*[、．.]")),
    ("ar_dun", re.compile(r"(\d{1,2})\s*(?:[、．]|\.(?!\d))")),
    ("circled", re.compile(r"([①-⑳])")),
    ("cn_shi", re.compile(rf"({_CN_NUM})是")),  # 一是… 二是…: item leads inside running text
)
# Chinese and Arabic "dun" numbering are mixed up in converted reports (1、 2、 3、 四、).
_CONTINUING_STYLES = {"cn_dun", "ar_dun"}

MAX_HEADING_CHARS = 60  # a standalone numbered line longer than this is running text
MAX_TITLE_LIKE_CHARS = 25  # unnumbered headings are short phrases: 依法行政工作, 优化营商环境
MAX_INLINE_HEADING_CHARS = 40  # "（一）加强组织领导，落实法治建设职责。" opening a paragraph
MAX_INLINE_ITEM_CHARS = 30  # "三是认真落实全民普法宣传。" opening a paragraph

_CJK = re.compile(r"[\u4e00-\u9fff]")
_DATE_LINE = re.compile(
    r"^\s*(\d{4}|[〇零一二三四五六七八九]{4})\s*[年.\-/]\s*[\d〇零一二三四五六七八九十]{1,3}\s*[月.\-/]"
    r"\s*[\d〇零一二三四五六七八九十]{1,3}\s*日?\s*$"
)
_ORG_LINE = re.compile(
    r"^(?:中共)?[\u4e00-\u9fff]{1,12}(?:乡|镇|街道|县|区|市|省)"
    r"(?:人民政府|政府|党委|委员会|办事处|街道办事处|司法所|司法局|管委会|管理委员会)$"
)
_DOC_TYPE_END = re.compile(r"(?:报告|汇报|总结|讲话|通知|意见|方案|计划|规划|决定|情况)$")


@dataclass(frozen=True)
class Marker:
    style: str
    number: int
    end: int  # index in the text just after the marker


def parse_marker(text: str) -> Marker | None:
    """The numbering a line opens with (一、 （一） 1、 1. ① 一是 第一部分), or None."""
    for style, pattern in _MARKERS:
        m = pattern.match(text)
        if m:
            number = _number_value(m.group(1))
            if number is not None:
                return Marker(style, number, m.end())
    return None


def _number_value(token: str) -> int | None:
    if token.isdecimal():  # not isdigit(): '①'.isdigit() is True but int('①') fails
        return int(token)
    if "①" <= token <= "⑳":
        return ord(token) - ord("①") + 1
    tens, sep, units = token.partition("十")
    if not sep:
        return _CN_DIGITS.get(token) if len(token) == 1 else None
    if (tens and tens not in _CN_DIGITS) or (units and units not in _CN_DIGITS):
        return None
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)


def ends_sentence(text: str) -> bool:
    """True when the text ends with sentence-final punctuation (closing quotes allowed after it)."""
    stripped = text.rstrip().rstrip(CLOSING_QUOTES)
    return bool(stripped) and stripped[-1] in FINAL_PUNCT


def is_date_line(text: str) -> bool:
    return bool(_DATE_LINE.match(text))


def is_signature_line(text: str) -> bool:
    """An issuing body (大铭乡人民政府) or a date alone on a line."""
    return bool(_ORG_LINE.match(text)) or is_date_line(text)


def names_document_type(text: str) -> bool:
    """Whether a title line ends with what the document is (…报告, …总结): nothing more follows."""
    return bool(_DOC_TYPE_END.search(text))


def is_title_like(text: str) -> bool:
    """A short phrase without sentence punctuation: 依法行政工作, 特色工作及亮点工作情况."""
    if not text or len(text) > MAX_TITLE_LIKE_CHARS or parse_marker(text):
        return False
    if any(ch in text for ch in FINAL_PUNCT) or text[-1] in "，,、":
        return False
    return len(_CJK.findall(text)) >= 2 and not is_date_line(text)


def is_numbered_heading_line(text: str) -> bool:
    """A line that is only a numbered heading: 一、工作履行情况 / （一）大力开展普法宣传活动。"""
    marker = parse_marker(text)
    if marker is None or marker.style == "cn_shi" or len(text) > MAX_HEADING_CHARS:
        return False
    body = text[marker.end:].rstrip(SENTENCE_END + "：: ")
    return bool(body) and not any(ch in body for ch in SENTENCE_END)


def looks_like_new_item(text: str) -> bool:
    """Whether a line opens a new heading or list item (so it cannot continue the line before)."""
    return parse_marker(text) is not None or is_title_like(text) or is_signature_line(text)


def heading_label(text: str) -> str:
    """A heading as it appears in a path: without trailing punctuation."""
    return text.strip().rstrip("。；;：:，,、 ")


def inline_heading(text: str) -> str | None:
    """The short numbered opening sentence of a paragraph that heads its item, or None.

    "（一）加强组织领导，落实法治建设职责。成立…" -> "（一）加强组织领导，落实法治建设职责".
    A long opening sentence is content, not a heading (001: "一是乡党委、政府高度重视，将…").
    """
    marker = parse_marker(text)
    if marker is None:
        return None
    m = re.search(rf"[{SENTENCE_END}：:]", text[marker.end:])
    if m is None:
        return None
    end = marker.end + m.end()
    limit = MAX_INLINE_ITEM_CHARS if marker.style == "cn_shi" else MAX_INLINE_HEADING_CHARS
    if end > limit or not text[end:].strip() or end - 1 <= marker.end:
        return None
    return heading_label(text[:end])


# --- section kinds ----------------------------------------------------------------------------

_PROBLEM_WORDS = re.compile(r"存在(?:的)?问题|问题(?:和|与|及)?不足|不足之处|短板|薄弱|差距|困难和问题|工作中存在|存在的不足")
_PLAN_WORDS = re.compile(
    r"下一?步|工作计划|年.{0,4}计划|工作打算|打算|思路|工作安排|意见建议|对策建议|工作建议|展望|努力方向|工作设想"
)
_PRACTICE_WORDS = re.compile(r"做法|成效|举措|工作情况|完成情况|开展情况|履行情况|亮点|成绩|经验")
# Wording of a paragraph, used where its headings do not decide (a "problems and plans" section).
_PARA_PLAN = re.compile(r"^(?:下一?步|今后|明年)|将(?:从|继续|进一步|以|着力|认真)|计划|打算")
_PARA_PROBLEM = re.compile(r"存在|不足|薄弱|有待|短板|差距|不够|欠缺|问题")
_PARA_PLAN_STRONG = re.compile(r"^(?:下一?步|今后|明年)")


def heading_kind(text: str) -> SectionKind | None:
    """The kind of section a heading opens; None when its wording says nothing, or says both."""
    problems = bool(_PROBLEM_WORDS.search(text))
    plans = bool(_PLAN_WORDS.search(text))
    if problems and plans:
        return None  # "存在的问题及下一步打算": decided paragraph by paragraph
    if problems:
        return SectionKind.PROBLEMS
    if plans:
        return SectionKind.PLANS
    if _PRACTICE_WORDS.search(text):
        return SectionKind.PRACTICE
    return None


def _is_mixed(text: str) -> bool:
    return bool(_PROBLEM_WORDS.search(text)) and bool(_PLAN_WORDS.search(text))


def section_kind(path: tuple[str, ...], text: str, is_heading: bool) -> SectionKind:
    """Kind of a paragraph: the outermost heading that tells decides (sections are the report's
    top-level parts); in a "problems and plans" section, or under neutral headings, its own wording."""
    for heading in path:
        kind = heading_kind(heading)
        if kind is not None:
            return kind
        if _is_mixed(heading):
            if is_heading:
                return SectionKind.PROBLEMS  # the problems come first in such a section
            return _kind_from_wording(text) or SectionKind.PROBLEMS
    strong = _strong_wording(text)
    if strong is not None:
        return strong
    # Numbered sections with neutral titles ("二、深化普法教育，提升法治意识") report work done;
    # text above the first heading is preamble.
    return SectionKind.PRACTICE if path else SectionKind.OTHER


def _kind_from_wording(text: str) -> SectionKind | None:
    if _PARA_PLAN.search(text[:40]):
        return SectionKind.PLANS
    if _PARA_PROBLEM.search(text[:80]):
        return SectionKind.PROBLEMS
    return None


def _strong_wording(text: str) -> SectionKind | None:
    if _PARA_PLAN_STRONG.search(text):
        return SectionKind.PLANS
    if _PROBLEM_WORDS.search(text[:40]):
        return SectionKind.PROBLEMS
    return None


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
        if marker.style in _CONTINUING_STYLES and marker.number > 1:
            for h in self.stack:
                if h.style in _CONTINUING_STYLES and h.number == marker.number - 1:
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
    """Index of the document title: a leading short line without sentence punctuation."""
    if len(blocks) < 2:
        return None
    first = blocks[0]
    if first.role == Role.HEADING:
        return 0 if first.level in (None, TITLE_LEVEL) else None
    if first.role != Role.UNKNOWN or parse_marker(first.text) or len(first.text) > MAX_HEADING_CHARS:
        return None
    if any(ch in first.text for ch in FINAL_PUNCT) or is_date_line(first.text):
        return None
    return 0 if len(_CJK.findall(first.text)) >= 4 else None


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
    if is_numbered_heading_line(text):
        marker = parse_marker(text)
        assert marker is not None
        return outline.push_numbered(label, marker)
    if is_title_like(text) and not is_last and not is_signature_line(text):
        return outline.push_title_like(label)
    return None
