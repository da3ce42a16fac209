"""Quantified claims in a paragraph: 化解信访积案6起, 覆盖群众2万余人次, 调解成功率98%, 投入26.2万余元.

`extract_figures(text)` follows the rules of the hand-judged truth (tests/data/figures/README.md): a figure is a
numeral with a unit or measure word after it (or %, or a 万/亿 amount standing alone); dates, ordinals, ranks,
document numbers, version numbers and names or slogans that contain a numeral are not figures.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.pipeline.figures.marks import TextMarks
from indexer.pipeline.figures.measure import measure_phrase
from indexer.pipeline.figures.numbers import CHINESE_DIGITS, Numeral, find_numerals
from indexer.pipeline.figures.units import DURATION_UNITS, PREFIX_QUALIFIERS, SUFFIX_QUALIFIERS, UNIT_RE
from indexer.pipeline.figures.words import cut


# Before a numeral, these make it an ordinal, rank, period or session number (第一, 首批, 前两名, 每两月, 十四届五次)
# 数十人, 几百份 (数/几 before a Chinese numeral) are indefinite.
_NOT_A_COUNT_BEFORE = set("第首前每届")
# Numbered political slogans written with a measure word, which read like counts but name a doctrine or rule.
SLOGANS = ("两个确立", "两个维护", "四个意识", "四个自信", "两个务必", "三个务必", "两个结合", "三项制度",
           "两个率先", "两个毫不动摇", "四个全面", "五位一体", "两个一百年", "三个代表", "八项规定")
_RANGE_JOIN = "-—–~～至到"
# Stored with each chunk's figures in the catalog: when the rules change, bump it and the next indexing run
# extracts every chunk again (and nothing else: chunks, full text and vectors stay).
EXTRACTOR_VERSION = "1"
_PLENARY = re.compile(rf"(?:、[{CHINESE_DIGITS}\d]+次)*(?:全会|全体会议)")


@dataclass(frozen=True)
class Figure:
    """One quantified claim. Offsets are character offsets of `as_written` in the paragraph."""

    as_written: str  # the numeral as written: "2万余", "36.43万", "十余", "98"
    value: float  # 万/亿 applied; a percentage is the number shown (98% -> 98)
    qualifier: str  # "" exact, 余 多 近 约 以上 超过 以下 左右 不足, or "range"
    unit: str  # 件 起 场次 人次 元 % ... ("" when the text writes none)
    measure: str  # what is counted: 化解信访积案, 覆盖群众, 调解成功率
    sentence: str
    start: int
    end: int
    value_high: float | None = None  # upper end of a range (qualifier "range")
    sentence_start: int = 0  # where `sentence` lies in the paragraph
    sentence_end: int = 0


@dataclass
class _Candidate:
    start: int  # of as_written
    end: int
    as_written: str
    value: float
    value_high: float | None
    unit: str
    unit_end: int
    qualifier: str
    qualifier_start: int  # where a prefix qualifier starts (== start when none)


def _unit_at(text: str, pos: int) -> str:
    if pos < len(text) and text[pos] in "%％":
        return "%"
    m = UNIT_RE.match(text, pos)
    return m.group(0) if m else ""


def _word_starts(text: str, start: int, end: int) -> set[int]:
    """Offsets in text[start:end] where jieba starts a word."""
    starts, pos = set(), start
    for word in cut(text[start:end]):
        starts.add(pos)
        pos += len(word)
    return starts


def _prefix_qualifier(text: str, start: int) -> tuple[str, int]:
    """约3亿, 超1232万, 不超过20桌 -> (qualifier, where its word starts); 签约12个 is not 约 (a word's tail)."""
    for word, qualifier in PREFIX_QUALIFIERS:
        if text.endswith(word, 0, start) and start - len(word) in _word_starts(text, max(0, start - 6), start):
            return qualifier, start - len(word)
    return "", start


def _suffix_qualifier(text: str, pos: int, unit: str) -> str:
    for word, qualifier in SUFFIX_QUALIFIERS:
        if text.startswith(word, pos):
            if word == "内" and unit not in DURATION_UNITS:
                continue
            return qualifier
    return ""


def _is_name(text: str, marks: TextMarks, n: Numeral, unit: str, unit_end: int) -> bool:
    """A numeral that is part of a name, slogan, label or set phrase rather than a count."""
    if n.chinese:
        if n.text == "一":
            return True  # a bare 一 is an article or part of a set phrase (一项重要内容, 一年来)
        if marks.last_before("open_quote", n.start) > marks.last_before("close_quote", n.start):
            return True  # “三重一大”, “两个维护”
        # 三位一体, 两基地一中心, 三审三校: another numeral right after names a set phrase
        following = re.match(r"[\u4e00-\u9fff]{0,3}", text[unit_end:]).group(0)  # up to punctuation
        if any(c in CHINESE_DIGITS for c in following):
            return True
        if any(text.startswith(s, n.start) for s in SLOGANS):
            return True
        # 三元里街, 六部分: the dictionary reads the unit as the start of a longer word (a place, a term)
        if unit_end not in _word_starts(text, n.start, min(len(text), unit_end + 6)) and unit_end < len(text):
            return True
    # 六届七次、八次全会, 十四届五次全会: the session number of a plenary, not a count of meetings
    if unit == "次" and _PLENARY.match(text, unit_end):
        return True
    return False


def _candidates(text: str, marks: TextMarks) -> list[_Candidate]:
    numerals = find_numerals(text)
    out: list[_Candidate] = []
    skip_until = -1
    for i, n in enumerate(numerals):
        if n.start < skip_until:
            continue
        before = text[n.start - 1] if n.start else ""
        if before and (before in _NOT_A_COUNT_BEFORE or before in "+＋.．" or (before.isascii() and before.isalnum())
                       or (before in "数几" and n.chinese)):
            continue
        end, value_high, as_written, qualifier = n.end, None, n.text, ""
        # a range: 5-10个, 3至5项
        nxt = numerals[i + 1] if i + 1 < len(numerals) else None
        if (nxt and nxt.start == n.end + 1 and text[n.end] in _RANGE_JOIN and nxt.chinese == n.chinese
                and _unit_at(text, nxt.end) and nxt.value > n.value):
            end, value_high, as_written, qualifier = nxt.end, nxt.value, text[n.start:nxt.end], "range"
            skip_until = nxt.end
        after = text[end] if end < len(text) else ""
        if (after and after in "+＋-—.．／/") or text.startswith("周年", end):
            continue  # 1+6+N, 2-1-1-5-2, 6.21, 3.0版 (the .0 is in the numeral, 版 is not a unit)
        unit = _unit_at(text, end)
        if not unit:
            # an amount with 万/亿 needs no unit (观看人次超1232万, 投资约3亿的…); a bare number does (dates,
            # document and phone numbers, “1311”, and numbers cut off at the end of a stored text)
            if not n.multiplier or n.chinese:
                continue
        if unit == "年" and not text.endswith("连续", 0, n.start):
            continue  # 2023年, 三年新冠疫情防控: a date or period; 连续6年 is a streak
        unit_end = end + len(unit)
        if _is_name(text, marks, n, unit, unit_end):
            continue
        if not qualifier:
            qualifier = n.approx
        prefix_q, q_start = _prefix_qualifier(text, n.start)
        qualifier = qualifier or prefix_q or _suffix_qualifier(text, unit_end, unit)
        out.append(_Candidate(n.start, end, as_written, n.value, value_high, unit, unit_end, qualifier,
                              q_start if prefix_q else n.start))
    return out


def extract_figures(paragraph_text: str) -> list[Figure]:
    """Every quantified claim in one paragraph, in text order."""
    text = paragraph_text
    marks = TextMarks(text)
    figures: list[Figure] = []
    previous_end, previous_measure, previous_unit_end = 0, "", 0
    candidates = _candidates(text, marks)
    for i, c in enumerate(candidates):
        next_start = candidates[i + 1].qualifier_start if i + 1 < len(candidates) else len(text)
        measure, consumed = measure_phrase(text, marks, c.qualifier_start, c.unit_end, previous_end, next_start,
                                           previous_measure, previous_unit_end)
        s_start = marks.last_before("sentence", c.start) + 1
        s_end = min(marks.first_from("sentence", c.end) + 1, len(text))
        figures.append(Figure(c.as_written, c.value, c.qualifier, c.unit, measure, text[s_start:s_end], c.start,
                              c.end, c.value_high, s_start, s_end))
        previous_end, previous_measure, previous_unit_end = consumed, measure, c.unit_end
    return figures
