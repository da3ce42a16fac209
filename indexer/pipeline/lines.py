"""Lines: what one line of a report says about the outline, read from its wording alone -- a numbering
marker (一、 （一） 1、 …), a date or signature line, a title-like phrase, an inline heading, the kind of
section a heading opens. Used by cleaning (to rejoin broken lines), structure (to build the outline),
metadata and chunking; it depends on nothing above `document`."""
from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.core.document import SectionKind

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
CONTINUING_STYLES = {"cn_dun", "ar_dun"}

MAX_HEADING_CHARS = 60  # a standalone numbered line longer than this is running text
MAX_TITLE_LIKE_CHARS = 25  # unnumbered headings are short phrases: 依法行政工作, 优化营商环境
MAX_INLINE_HEADING_CHARS = 40  # "（一）加强组织领导，落实法治建设职责。" opening a paragraph
MAX_INLINE_ITEM_CHARS = 30  # "三是认真落实全民普法宣传。" opening a paragraph

CJK = re.compile(r"[\u4e00-\u9fff]")
_DATE_LINE = re.compile(
    r"^\s*(\d{4}|[〇零一二三四五六七八九]{4})\s*[年.\-/]\s*[\d〇零一二三四五六七八九十]{1,3}\s*[月.\-/]"
    r"\s*[\d〇零一二三四五六七八九十]{1,3}\s*日?\s*$"
)
_ORG_LINE = re.compile(
    r"^(?:中共)?[\u4e00-\u9fff]{1,12}(?:乡|镇|街道|县|区|市|省)"
    r"(?:人民政府|政府|党委|委员会|办事处|街道办事处|司法所|司法局|管委会|管理委员会)$"
    # a village or community signs as its committee (村规民约, 居民公约): 某某村村民委员会, 某某社区居委会
    r"|^(?:中共)?[\u4e00-\u9fff]{1,12}(?:村|社区|居)(?:村民委员会|居民委员会|村委会|居委会|委员会|党支部|党总支)$"
    r"|^[（(](?:盖章|公章|印章|院印|章)[）)]$"  # the seal mark under a signature
)


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


def join_text(left: str, right: str) -> str:
    """Concatenate two pieces of one paragraph (or title); a space only between two ASCII characters."""
    if left and right and left[-1].isascii() and right[0].isascii() and left[-1].isalnum() and right[0].isalnum():
        return f"{left} {right}"
    return left + right


def is_date_line(text: str) -> bool:
    return bool(_DATE_LINE.match(text))


def is_signature_line(text: str) -> bool:
    """An issuing body (大铭乡人民政府) or a date alone on a line."""
    return bool(_ORG_LINE.match(text)) or is_date_line(text)


def is_title_like(text: str) -> bool:
    """A short phrase without sentence punctuation: 依法行政工作, 特色工作及亮点工作情况."""
    if not text or len(text) > MAX_TITLE_LIKE_CHARS or parse_marker(text):
        return False
    if any(ch in text for ch in FINAL_PUNCT) or text[-1] in "，,、":
        return False
    return len(CJK.findall(text)) >= 2 and not is_date_line(text)


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
