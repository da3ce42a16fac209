"""Block roles shared by the structured-format loaders (docx, pdf, html).

The structure step detects hand-typed headings ("一、工作履行情况"), the title and the signature only in
Role.UNKNOWN blocks, and the cleaner never joins a Role.PARAGRAPH block to its neighbours. So a paragraph
short enough to be a heading or signature is left UNKNOWN for the structure step to judge, and a longer one
is marked PARAGRAPH so the format's paragraph boundary is kept.
"""
from __future__ import annotations

from indexer.core.document import Block, Role

# Same limit the structure step uses for a standalone heading line.
MAX_HEADING_CHARS = 60
TITLE_LEVEL = 0  # what the structure step takes as "the document title" for a HEADING block


def text_block(text: str, page_break_after: bool = False) -> Block:
    role = Role.UNKNOWN if len(text) <= MAX_HEADING_CHARS else Role.PARAGRAPH
    return Block(text, role, page_break_after=page_break_after)


def title_block(text: str) -> Block:
    return Block(text, Role.HEADING, level=TITLE_LEVEL)
