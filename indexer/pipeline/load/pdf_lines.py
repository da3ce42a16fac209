"""PDF characters -> lines: fragments split at wide gaps, a two-column split when a vertical gutter runs
through most lines of a page, reading order, and fragments of one row merged back."""
from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

@dataclass(slots=True)  # a PDF may hold 2 million of them (max_file_chars)
class Char:
    text: str
    x0: float
    x1: float
    y: float  # baseline, measured down from the top of the page
    size: float


@dataclass
class PageChars:
    number: int
    width: float
    height: float
    chars: list[Char]


@dataclass
class Line:
    page: int
    x0: float
    x1: float
    y: float
    size: float
    chars: list[Char] = field(repr=False)
    column: int = 0  # 0 = the only/left column or spanning, 1 = right column
    text: str = ""

    def __post_init__(self) -> None:
        if not self.text:
            self.text = _line_text(self.chars)


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _line_text(chars: list[Char]) -> str:
    out: list[str] = []
    prev: Char | None = None
    for ch in chars:
        if prev is not None and not ch.text.isspace() and not prev.text.isspace():
            gap = ch.x0 - prev.x1
            if gap > 0.25 * ch.size and _is_latin(prev.text[-1]) and _is_latin(ch.text[0]):
                out.append(" ")
        out.append(ch.text)
        prev = ch
    return re.sub(r"[ \t\u00a0]+", " ", "".join(out)).strip(" ")


# --- characters → lines ---------------------------------------------------------------------------------


def page_lines(page: PageChars) -> list[Line]:
    """Line fragments of one page: same baseline, split where the horizontal gap is column-wide."""
    chars = [c for c in page.chars if c.text]
    chars.sort(key=lambda c: (c.y, c.x0))
    rows: list[list[Char]] = []
    for ch in chars:
        if rows and abs(ch.y - rows[-1][0].y) <= 0.35 * max(ch.size, rows[-1][0].size):
            rows[-1].append(ch)
        else:
            rows.append([ch])
    lines: list[Line] = []
    for row in rows:
        row.sort(key=lambda c: c.x0)
        fragment: list[Char] = []
        for ch in row:
            if fragment and ch.x0 - fragment[-1].x1 > 1.5 * ch.size and not ch.text.isspace():
                lines.append(_make_line(page.number, fragment))
                fragment = []
            fragment.append(ch)
        if fragment:
            lines.append(_make_line(page.number, fragment))
    return [line for line in lines if line.text.strip()]


def _make_line(page: int, chars: list[Char]) -> Line:
    visible = [c for c in chars if not c.text.isspace()] or chars
    sizes = Counter(round(c.size, 1) for c in visible)
    return Line(
        page=page,
        x0=visible[0].x0,
        x1=visible[-1].x1,
        y=statistics.median(c.y for c in visible),
        size=sizes.most_common(1)[0][0],
        chars=chars,
        text=_line_text(chars),
    )


def merge_same_row(lines: list[Line]) -> list[Line]:
    """Rejoin fragments of one row that are in the same column (wide gaps inside a line, e.g. a signature)."""
    merged: list[Line] = []
    for line in lines:
        last = merged[-1] if merged else None
        if last and last.page == line.page and last.column == line.column and abs(last.y - line.y) < 0.35 * line.size:
            merged[-1] = Line(page=last.page, x0=last.x0, x1=line.x1, y=last.y, size=last.size,
                              chars=last.chars + line.chars, column=last.column,
                              text=f"{last.text} {line.text}")
        else:
            merged.append(line)
    return merged


# --- columns ----------------------------------------------------------------------------------------


def find_gutter(lines: list[Line]) -> float | None:
    """The x of the gutter when the page's body lines are set in two columns, else None."""
    if len(lines) < 6:
        return None
    left_edge = min(line.x0 for line in lines)
    right_edge = max(line.x1 for line in lines)
    span = right_edge - left_edge
    if span <= 0:
        return None
    best: tuple[int, float] | None = None
    step = max(span / 200, 1.0)
    x = left_edge + 0.3 * span
    while x <= left_edge + 0.7 * span:
        crossing = sum(1 for line in lines if line.x0 < x < line.x1)
        if best is None or crossing < best[0]:
            best = (crossing, x)
        x += step
    assert best is not None
    crossing, gutter = best
    left = [line for line in lines if line.x1 <= gutter]
    right = [line for line in lines if line.x0 >= gutter]
    if crossing > 0.1 * len(lines) or len(left) < 0.25 * len(lines) or len(right) < 0.25 * len(lines):
        return None
    # A real right column starts at one margin; right-aligned odds and ends (signatures, dates) do not.
    starts = Counter(round(line.x0 / 3) for line in right)
    if starts.most_common(1)[0][1] < 0.5 * len(right):
        return None
    return gutter


def reading_order(lines: list[Line], gutter: float | None) -> list[Line]:
    """Top-down; with two columns, the left column before the right one between full-width lines."""
    lines = sorted(lines, key=lambda line: (line.y, line.x0))
    if gutter is None:
        return lines
    ordered: list[Line] = []
    left: list[Line] = []
    right: list[Line] = []
    for line in lines:
        if line.x0 < gutter < line.x1:  # spans both columns: a title or a full-width paragraph
            ordered += left + right + [line]
            left, right = [], []
        elif line.column == 1:
            right.append(line)
        else:
            left.append(line)
    return ordered + left + right


# --- page furniture ---------------------------------------------------------------------------------
