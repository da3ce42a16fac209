"""Render Word list-numbering labels ("一、", "（二）", "1.") that Word draws but does not store as text.

Government reports number their headings with Word's automatic numbering far more often than by typing the
numbers, and "一、…" / "（一）…" are exactly what the structure step recognises headings by, so the label is
rebuilt from numbering.xml: per numId and level, a counter and the level's format and text template.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from lxml import etree

log = logging.getLogger(__name__)

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = "{%s}" % W

_CN_DIGITS = "零一二三四五六七八九"
_TIANGAN = "甲乙丙丁戊己庚辛壬癸"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def _chinese_number(n: int) -> str:
    """1..99 as written in headings: 一, 十, 十一, 二十, 二十一."""
    if n <= 0 or n >= 100:
        return str(n)
    tens, ones = divmod(n, 10)
    text = ""
    if tens:
        text = ("" if tens == 1 else _CN_DIGITS[tens]) + "十"
    if ones:
        text += _CN_DIGITS[ones]
    return text


def _roman(n: int) -> str:
    pairs = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
             (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, sym in pairs:
        while n >= value:
            out += sym
            n -= value
    return out


def _letters(n: int) -> str:
    return chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(n: int, fmt: str) -> str:
    if fmt in ("chineseCounting", "chineseCountingThousand", "chineseLegalSimplified", "ideographDigital",
               "taiwaneseCounting", "taiwaneseCountingThousand", "japaneseCounting"):
        return _chinese_number(n)
    if fmt == "ideographTraditional" and 1 <= n <= 10:
        return _TIANGAN[n - 1]
    if fmt == "decimalEnclosedCircle" or fmt == "decimalEnclosedCircleChinese":
        return _CIRCLED[n - 1] if 1 <= n <= 20 else str(n)
    if fmt == "upperRoman":
        return _roman(n)
    if fmt == "lowerRoman":
        return _roman(n).lower()
    if fmt == "upperLetter":
        return _letters(n)
    if fmt == "lowerLetter":
        return _letters(n).lower()
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)  # decimal, decimalFullWidth and anything unknown


@dataclass
class _Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = "%1."


@dataclass
class Numbering:
    """Counters for every list in one document; call `label` for each numbered paragraph in order."""

    # numId -> {ilvl: _Level}
    levels: dict[str, dict[int, _Level]] = field(default_factory=dict)
    counters: dict[str, dict[int, int]] = field(default_factory=dict)
    # abstractNumId -> counters shared by all numIds of that list (Word continues such lists)
    abstract_of: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_xml(cls, xml: bytes | None) -> "Numbering":
        numbering = cls()
        if not xml:
            return numbering
        root = etree.fromstring(xml)
        abstracts: dict[str, dict[int, _Level]] = {}
        for abstract in root.iter(_W + "abstractNum"):
            abstracts[abstract.get(_W + "abstractNumId", "")] = {
                int(lvl.get(_W + "ilvl", "0")): _parse_level(lvl) for lvl in abstract.iter(_W + "lvl")
            }
        for num in root.iter(_W + "num"):
            num_id = num.get(_W + "numId", "")
            ref = num.find(_W + "abstractNumId")
            abstract_id = ref.get(_W + "val", "") if ref is not None else ""
            levels = {k: _Level(v.start, v.fmt, v.text) for k, v in abstracts.get(abstract_id, {}).items()}
            for override in num.iter(_W + "lvlOverride"):
                ilvl = int(override.get(_W + "ilvl", "0"))
                lvl = override.find(_W + "lvl")
                if lvl is not None:
                    levels[ilvl] = _parse_level(lvl)
                start = override.find(_W + "startOverride")
                if start is not None and ilvl in levels:
                    levels[ilvl].start = int(start.get(_W + "val", "1"))
            numbering.levels[num_id] = levels
            numbering.abstract_of[num_id] = abstract_id
        return numbering

    def label(self, num_id: str, ilvl: int) -> str:
        """The label Word shows for the next paragraph of list `num_id` at level `ilvl` ("" for bullets)."""
        levels = self.levels.get(num_id)
        if not levels or num_id == "0" or ilvl not in levels:
            return ""
        key = self.abstract_of.get(num_id, num_id)
        counters = self.counters.setdefault(key, {})
        counters[ilvl] = counters.get(ilvl, levels[ilvl].start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]  # a higher level restarts the ones below it
        level = levels[ilvl]
        if level.fmt in ("bullet", "none"):
            return ""

        def substitute(match: re.Match[str]) -> str:
            idx = int(match.group(1)) - 1
            lvl = levels.get(idx, level)
            value = counters.get(idx, lvl.start)
            return format_number(value, lvl.fmt)

        return re.sub(r"%(\d)", substitute, level.text)


def _parse_level(lvl: etree._Element) -> _Level:
    def val(tag: str, default: str) -> str:
        node = lvl.find(_W + tag)
        return node.get(_W + "val", default) if node is not None else default

    try:
        start = int(val("start", "1"))
    except ValueError:
        start = 1
    return _Level(start=start, fmt=val("numFmt", "decimal"), text=val("lvlText", ""))
