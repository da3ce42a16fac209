"""Clean: remove what Word-to-text conversion leaves behind and rejoin paragraphs it cut apart.

Artifacts: `[bookmark: _GoBack]`, `[image: image1.png]` with the stray quote and blank lines around
it, full-width and stray spaces, lines holding only a quote character. The title (indexer/pipeline/title.py) is
marked first, so nothing is glued to it. Cuts: a paragraph broken at a page break (a line ending
mid-sentence, blank lines, then a line that does not open a new item), a sentence broken where an image
was removed (the next line starts with 。). Real paragraph breaks are kept: only text that cannot end where
it ends is joined.
"""
from __future__ import annotations

import dataclasses
import logging
import re

from indexer.core.document import Block, Role
from indexer.pipeline.lines import (
    CLOSING_QUOTES,
    ends_sentence,
    is_numbered_heading_line,
    is_signature_line,
    is_title_like,
    join_text,
    looks_like_new_item,
    parse_marker,
)
from indexer.pipeline.title import mark_title

log = logging.getLogger(__name__)

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_WHITESPACE = re.compile(r"\s+")  # str patterns match U+3000 (full-width) and U+00A0 too
# A space next to a non-ASCII character is layout, not content: "大铭乡 2023 年", "600 余件".
# Only a space between two ASCII characters ("Word Excel") is kept.
_LAYOUT_SPACE = re.compile(r"(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])")

# Placeholders that converters (pandoc, textutil, …) write for Word objects. An image anchored in
# a quoted caption leaves the closing quote behind at the end of the line (002).
_ARTIFACT = re.compile(
    r"\[(?:bookmark|image|picture|figure|footnoteRef|endnoteRef|commentRef)\s*:?[^\]\n]*\]"
    r"(?:\s*[\"”'](?=\s*$))?",
    re.IGNORECASE,
)
_STRAY_QUOTES = re.compile(r"^[\"'“”‘’「」『』]+$")
_CONTINUATION_START = "。，、；：！？）】」』”’%,;:!?)"


def normalize_spaces(text: str) -> str:
    """Inline whitespace as paragraph text carries it: one line, no layout spaces around CJK."""
    text = _ZERO_WIDTH.sub("", text)
    text = _WHITESPACE.sub(" ", text).strip()
    return _LAYOUT_SPACE.sub("", text)


def clean_text(text: str) -> str:
    """One block's text without conversion artifacts; "" when nothing but artifacts was there."""
    text = normalize_spaces(_ARTIFACT.sub("", text))
    return "" if _STRAY_QUOTES.match(text) else text


def clean_blocks(blocks: list[Block]) -> list[Block]:
    """Artifacts removed, cut paragraphs rejoined, no empty blocks left."""
    cleaned = [dataclasses.replace(b, text=clean_text(b.text)) for b in blocks]
    joined = _join_broken_paragraphs(mark_title(cleaned))
    return _join_item_leads([b for b in joined if b.text])


def _join_item_leads(blocks: list[Block]) -> list[Block]:
    """Put an item's lead sentence, written on a line of its own, back in front of its only paragraph.

    000: "（二）加强关键群体法治教育，积极开展预防电信诈骗及防养老诈骗工作。" / "为预防电信诈骗…" /
    "三、存在问题和不足". A numbered line that ends like a sentence and heads a single paragraph
    is that paragraph's opening, as in "（一）加强组织领导，落实法治建设职责。成立…" (003).
    A heading over several paragraphs stays a heading.
    """
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        lead = blocks[i]
        body = blocks[i + 1] if i + 1 < len(blocks) else None
        after = blocks[i + 2] if i + 2 < len(blocks) else None
        if (
            body is not None
            and lead.role == body.role == Role.UNKNOWN
            and _is_item_lead(lead.text)
            and not looks_like_new_item(body.text)
            and (after is None or after.role == Role.HEADING or _is_heading_line(after.text))
        ):
            out.append(dataclasses.replace(body, text=join_text(lead.text, body.text)))
            i += 2
            continue
        out.append(lead)
        i += 1
    return out


def _is_item_lead(text: str) -> bool:
    marker = parse_marker(text)
    return (
        marker is not None
        and marker.style != "cn_shi"
        and is_numbered_heading_line(text)
        and text.rstrip(CLOSING_QUOTES)[-1] in "。！"
    )


def _is_heading_line(text: str) -> bool:
    marker = parse_marker(text)
    return (marker is not None and marker.style != "cn_shi") or is_title_like(text) or is_signature_line(text)


def _join_broken_paragraphs(blocks: list[Block]) -> list[Block]:
    out: list[Block] = []
    for block in blocks:
        if not block.text:
            continue
        if out and _continues(out[-1], block):
            prev = out[-1]
            log.debug("rejoining %r + %r", prev.text[-12:], block.text[:12])
            prev.text = join_text(prev.text, block.text)
            prev.page_break_after = block.page_break_after
        else:
            out.append(dataclasses.replace(block))
    return out


def _continues(prev: Block, block: Block) -> bool:
    """Whether `block` is the rest of the paragraph `prev` (cut by a page break or a removed image)."""
    structural = (Role.HEADING, Role.TABLE_ROW)
    if prev.role in structural or block.role in structural:
        return False
    if block.text[0] in _CONTINUATION_START:
        return True  # nothing starts with 。 or ，: the text before it was cut away
    if Role.PARAGRAPH in (prev.role, block.role) and not prev.page_break_after:
        return False  # the format gave paragraphs; only a page break can have cut one
    if ends_sentence(prev.text) or prev.text[-1] in "”’」』":
        return False
    if is_numbered_heading_line(prev.text) or is_title_like(prev.text) or is_signature_line(prev.text):
        return False
    return not looks_like_new_item(block.text)
