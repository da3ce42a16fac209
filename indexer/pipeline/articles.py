"""Articles: the lines of one statute article (条) form one paragraph.

Laws, regulations and normative documents (条例, 办法, 村规民约 …) are written in articles; an article's
款 (paragraphs) and 项 (items: "（一）检查公司财务；") are each on their own line, but the article is the unit
a reader cites (《动物防疫法》第二十条) and the one a question is answered by. Cut into lines, a 款 loses the
subject its article opened with and an item loses its lead, so the search finds fragments. A work report
never opens lines with 第N条, so this changes nothing there.

Two shapes are recognised:
- a document with at least two lines opening with 第N条: each such line gathers the lines after it, up to
  the next article, a 第N章/节/编 heading, a heading marked by the format, or the signature;
- a document whose title names one article (中华人民共和国动物防疫法第二十条): its whole body is that article.
"""
from __future__ import annotations

import logging
import re

from indexer.core.document import Block, Role
from indexer.pipeline.lines import TITLE_LEVEL, is_signature_line, join_text

log = logging.getLogger(__name__)

_NUMBER = r"[一二三四五六七八九十百千零〇]+|\d{1,4}"
_ARTICLE_START = re.compile(rf"^\s*第(?:{_NUMBER})条(?:之[一二三四五六七八九十])?(?=[\s　：:，,]|[^\s])")
_DIVISION = re.compile(rf"^\s*第(?:{_NUMBER})(?:编|分编|章|节)")
_TITLE_NAMES_ARTICLE = re.compile(rf"第(?:{_NUMBER})条(?:之[一二三四五六七八九十])?[”」》）)]*$")
MIN_ARTICLES = 2  # one 第N条 line alone in a report is a phrase ("第一条经验"), not a statute


def join_articles(blocks: list[Block]) -> list[Block]:
    """`blocks` with each article's lines joined into its first line (cleaned blocks in, same roles out)."""
    if not blocks:
        return blocks
    title_names_article = _is_title(blocks[0]) and bool(_TITLE_NAMES_ARTICLE.search(blocks[0].text.strip()))
    starts = sum(1 for b in blocks if _is_text(b) and _ARTICLE_START.match(b.text))
    if not title_names_article and starts < MIN_ARTICLES:
        return blocks

    joined: list[Block] = []
    open_article: Block | None = None  # the block the following lines are joined into
    for i, block in enumerate(blocks):
        if i == 0 and title_names_article:
            joined.append(block)
            continue
        if not _is_text(block) or _DIVISION.match(block.text) or is_signature_line(block.text.strip()):
            open_article = None
            joined.append(block)
            continue
        starts_article = bool(_ARTICLE_START.match(block.text))
        if open_article is not None and not starts_article:
            open_article.text = join_text(open_article.text.rstrip(), block.text.strip())
            continue
        copy = Block(block.text.strip(), block.role, block.level, block.page_break_after)
        joined.append(copy)
        open_article = copy if (starts_article or (title_names_article and len(joined) == 2)) else None
    if len(joined) < len(blocks):
        log.debug("articles: %d lines joined into %d", len(blocks), len(joined))
    return joined


def _is_title(block: Block) -> bool:
    return block.role == Role.HEADING and block.level in (None, TITLE_LEVEL)


def _is_text(block: Block) -> bool:
    """A line the structure step would read from its wording (plain text) or a format's paragraph."""
    return block.role in (Role.UNKNOWN, Role.PARAGRAPH) and bool(block.text.strip())
