"""Rebuild reading order and paragraphs from positioned characters of a PDF.

Steps (the first three in pdf_lines.py): characters → line fragments (split at wide gaps) → per page, a two-column split when a vertical gutter
runs through most lines → running headers/footers and page numbers dropped → lines in reading order →
paragraphs, by indentation, short last lines, font size changes and vertical gaps. Chinese lines are rejoined
without a space; a space only goes between two Latin letters/digits.
"""
from __future__ import annotations

import logging
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass

from indexer.core.document import Block, Role
from indexer.pipeline.load.common import text_block, title_block
from indexer.pipeline.load.pdf_lines import Line, PageChars, find_gutter, merge_same_row, page_lines, reading_order

log = logging.getLogger(__name__)

SENTENCE_END = "。；！？：!?;…"
_CLOSERS = "”’」』）)》〉】"
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–－~·\s]*\d{1,4}[-—–－~·\s]*"
    r"|第\s*\d+\s*页(?:\s*[,，/、]?\s*共\s*\d+\s*页)?"
    r"|共\s*\d+\s*页\s*第\s*\d+\s*页"
    r"|\d+\s*/\s*\d+"
    r"|(?:page|p\.)\s*\d+(?:\s*of\s*\d+)?"
    r"|[-—–－\s]*[IVXLivxl]{1,6}[-—–－\s]*)$",
    re.IGNORECASE,
)
_MARGIN_ZONE = 0.15  # top/bottom share of the page where headers, footers and page numbers live


def _signature(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def drop_furniture(pages: list[tuple[PageChars, list[Line]]]) -> list[list[Line]]:
    """Remove running headers/footers (same text at the same height on many pages) and page numbers."""
    seen: Counter[tuple[str, int]] = Counter()
    for page, lines in pages:
        keys = {(_signature(line.text), round(line.y / 6)) for line in lines if _in_margin(line, page)}
        seen.update(keys)
    need = max(2, int(0.4 * len(pages) + 0.5))
    result: list[list[Line]] = []
    dropped = 0
    for page, lines in pages:
        kept = []
        for line in lines:
            if _in_margin(line, page):
                key = (_signature(line.text), round(line.y / 6))
                near = sum(seen[(key[0], key[1] + d)] for d in (-1, 0, 1))
                if len(pages) >= 2 and near >= need or _PAGE_NUMBER.match(line.text.strip()):
                    dropped += 1
                    continue
            kept.append(line)
        result.append(kept)
    if dropped:
        log.debug("dropped %d header/footer/page-number lines", dropped)
    return result


def _in_margin(line: Line, page: PageChars) -> bool:
    return line.y < _MARGIN_ZONE * page.height or line.y > (1 - _MARGIN_ZONE) * page.height


# --- paragraphs -------------------------------------------------------------------------------------


@dataclass
class _Margins:
    left: float
    right: float


def _column_margins(lines: list[Line]) -> dict[tuple[int, int], _Margins]:
    """Left margin = the most common line start; right margin = the typical full line's end."""
    groups: dict[tuple[int, int], list[Line]] = defaultdict(list)
    for line in lines:
        groups[(line.page, line.column)].append(line)
    all_left = Counter(round(line.x0) for line in lines)
    doc_left = float(all_left.most_common(1)[0][0]) if all_left else 0.0
    doc_right = _typical_right(lines)
    margins = {}
    for key, group in groups.items():
        if len(group) >= 4:
            starts = Counter(round(line.x0) for line in group)
            left = float(min(x for x, n in starts.items() if n == max(starts.values())))
            margins[key] = _Margins(left, _typical_right(group))
        else:
            same_column = [line for line in lines if line.column == key[1]]
            margins[key] = _Margins(
                float(Counter(round(line.x0) for line in same_column).most_common(1)[0][0]) if key[1] else doc_left,
                _typical_right(same_column) if key[1] else doc_right,
            )
    return margins


def _typical_right(lines: list[Line]) -> float:
    ends = sorted(line.x1 for line in lines)
    return ends[int(0.8 * (len(ends) - 1))] if ends else 0.0


def _line_pitch(lines: list[Line]) -> float:
    deltas = [
        b.y - a.y
        for a, b in zip(lines, lines[1:])
        if a.page == b.page and a.column == b.column and 0 < b.y - a.y < 3 * a.size
    ]
    return statistics.median(deltas) if deltas else 0.0


def _join(a: str, b: str) -> str:
    # Lines wrap anywhere, even inside a number ("2" / "023"): only two words get a space between them.
    if a and b and a[-1].isascii() and a[-1].isalpha() and b[0].isascii() and b[0].isalpha():
        return f"{a} {b}"
    return a + b


def _ends_sentence(text: str) -> bool:
    text = text.rstrip(_CLOSERS + " ")
    return bool(text) and text[-1] in SENTENCE_END


def build_paragraph_blocks(lines: list[Line]) -> list[Block]:
    if not lines:
        return []
    margins = _column_margins(lines)
    pitch = _line_pitch(lines)
    body_size = Counter(round(line.size) for line in lines).most_common(1)[0][0]

    def indented(line: Line) -> bool:
        m = margins[(line.page, line.column)]
        return line.text.startswith(("\u3000", " ")) or line.x0 > m.left + 0.8 * line.size

    indent_share = sum(1 for line in lines if indented(line)) / len(lines)
    blocks: list[Block] = []
    current = lines[0].text.strip()
    for prev, line in zip(lines, lines[1:]):
        m_prev = margins[(prev.page, prev.column)]
        new_page = line.page != prev.page
        same_flow = not new_page and line.column == prev.column
        breaks = (
            abs(line.size - prev.size) > 0.15 * max(line.size, prev.size)
            or indented(line)
            or prev.x1 < m_prev.right - 1.5 * prev.size  # short line: a paragraph's last line or a heading
            or indented(prev) and prev.x0 - m_prev.left > 0.2 * (m_prev.right - m_prev.left)  # centred line
            or (same_flow and pitch and line.y - prev.y > 1.6 * pitch)
        )
        uncertain = False
        if not breaks and new_page and _ends_sentence(prev.text) and indent_share < 0.1:
            # Unindented layout: a page ending on a full sentence may or may not end the paragraph.
            breaks, uncertain = True, True
        if breaks:
            blocks.append(_block(current, prev, body_size, page_break_after=uncertain))
            current = line.text.strip()
        else:
            current = _join(current, line.text.strip())
    blocks.append(_block(current, lines[-1], body_size))
    return blocks


def _block(text: str, last_line: Line, body_size: float, page_break_after: bool = False) -> Block:
    text = text.strip(" \u3000")
    if last_line.size > 1.15 * body_size and len(text) < 60:
        return Block(text, Role.HEADING, level=1, page_break_after=page_break_after)
    return text_block(text, page_break_after=page_break_after)


# --- the whole document ----------------------------------------------------------------------------


def layout_blocks(pages: list[PageChars]) -> tuple[list[Block], dict[str, str]]:
    per_page = []
    for page in pages:
        fragments = page_lines(page)
        gutter = find_gutter([f for f in fragments if not _in_margin(f, page)])
        if gutter is not None:
            for fragment in fragments:
                fragment.column = 1 if fragment.x0 >= gutter else 0
        ordered = merge_same_row(reading_order(fragments, gutter))
        per_page.append((page, ordered))
    kept = drop_furniture(per_page)
    lines = [line for page_lines_ in kept for line in page_lines_]
    blocks = build_paragraph_blocks(lines)
    hints: dict[str, str] = {}
    title = _title(lines)
    if title:
        hints["title"] = title
        # The title is a document property, not a section heading.
        # The title is a document property, not a section heading: one title block replaces its lines.
        head = 0
        while head < min(4, len(blocks)) and blocks[head].role is Role.HEADING and blocks[head].text in title:
            head += 1
        if head:
            blocks[:head] = [title_block(title)]
    return blocks, hints


def _title(lines: list[Line]) -> str:
    """The largest text near the top of the first page, when it is clearly larger than the body text."""
    first = [line for line in lines if line.page == lines[0].page][:8] if lines else []
    if not first:
        return ""
    body = Counter(round(line.size) for line in lines).most_common(1)[0][0]
    biggest = max(line.size for line in first)
    if biggest < 1.2 * body:
        return ""
    parts = [line.text for line in first if line.size >= 0.95 * biggest]
    return "".join(parts).strip()
