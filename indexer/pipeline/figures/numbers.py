"""Numerals in running Chinese text: where they are, and their value (cn2an does the numeral arithmetic).

A numeral as written keeps its 万/亿 multiplier and a 余/多 written inside it (`2万余`, `320余万`, `十余`):
the README of tests/data/figures calls that span `as_written`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import cn2an

CHINESE_DIGITS = "零〇一二两三四五六七八九十百千"
# Arabic: 12, 36.43, 2万, 320余万, 2万余, 2.5万多. Chinese: 两, 七, 十余, 二十三, 三百多.
_ARABIC = r"\d+(?:\.\d+)?(?:(?:余|多)?(?:千万|百万|万|亿)(?:余|多)?|余|多)?"
_CHINESE = rf"[{CHINESE_DIGITS}]+(?:万|亿)?(?:余|多)?"
NUMERAL = re.compile(rf"(?P<arabic>{_ARABIC})|(?P<chinese>{_CHINESE})")


@dataclass(frozen=True)
class Numeral:
    text: str  # as written, e.g. "2万余"
    start: int
    end: int
    value: float  # 万/亿 applied: "2万余" -> 20000
    approx: str  # "余" / "多" when written inside the numeral, else ""
    chinese: bool  # written with Chinese digits (两, 七, 十余)
    multiplier: bool  # carries 万/亿


def parse_value(text: str) -> float | None:
    """Value of a numeral span without its 余/多 (None when cn2an cannot read it, e.g. "十百")."""
    core = text.replace("余", "").replace("多", "")
    if not core:
        return None
    try:
        value = cn2an.cn2an(core, "smart")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return float(value)


def find_numerals(text: str) -> list[Numeral]:
    """Every numeral cn2an can read, in text order (whether it is a figure is decided in extract.py)."""
    out: list[Numeral] = []
    for m in NUMERAL.finditer(text):
        span = m.group(0)
        value = parse_value(span)
        if value is None:  # 千家万户, 百强: cn2an reads no number in a bare 百/千
            continue
        approx = "余" if "余" in span else ("多" if "多" in span else "")
        out.append(Numeral(span, m.start(), m.end(), value, approx, m.group("chinese") is not None,
                           "万" in span or "亿" in span))
    return out
