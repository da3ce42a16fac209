"""Title: which of a plain-text document's first lines are its title, read as a reader would.

A title is the document's name, on its first line(s): a report (…工作报告, …政府信息公开工作年度报告), a notice
or other official paper (…的通知, …的公告, …意见, …实施方案, 在…上的讲话), a news headline (峨山镇城东村：警民
携手防诈骗…), a statute article (…条例第四十四条). It may be spread over two lines (张茅乡2023年度法治政府 /
工作报告; 前营乡人民政府 / 关于…的报告) and may be followed directly by the first paragraph, without a blank line.

Not a title: a numbered or short section heading (一、工作开展情况, 存在的问题), a sentence, an addressee
(区委、区政府：), a date or signature, or the first line of a paragraph that runs on to the next line (a
hard-wrapped text, a line ending in ， or 的). A document whose first line is not a title has none (the
metadata step may still derive one from its words); the first line then stays what it is.

Plain-text blocks (Role.UNKNOWN) are decided here, on cleaned blocks before paragraphs are rejoined, and the
title is handed on as one Role.HEADING block at TITLE_LEVEL, so it is never glued to the paragraph after it.
A format that marks its title (a Word title style, an HTML headline) is trusted as it is.
"""
from __future__ import annotations

import dataclasses
import logging
import re
from collections import Counter
from dataclasses import dataclass

from indexer.core.document import Block, Role, SectionKind
from indexer.pipeline.lines import (
    CJK, CLOSING_QUOTES, SENTENCE_END, TITLE_LEVEL, heading_kind, is_date_line, is_signature_line, join_text,
    parse_marker,
)

log = logging.getLogger(__name__)

MAX_TITLE_CHARS = 100  # statute articles and two-authority report titles run to ~80 characters
MAX_TITLE_PART_CHARS = 60  # one line of a title spread over lines
MIN_TITLE_CJK = 4
MAX_SECTION_HEADING_CHARS = 12  # 存在的问题及下一步打算: a short phrase naming a part of a report

# What a document is, as its title ends: nothing follows the name of the document.
_DOC_TYPE_END = re.compile(
    r"(?:报告|汇报|总结|讲话|发言|致辞|通知|通报|通告|公告|公示|公报|意见|方案|计划|规划|要点|决定|决议|情况|思路|"
    r"办法|细则|规定|规则|条例|制度|纲要|指南|指引|函|批复|请示|纪要|简报|说明|答复|倡议书|公开信|清单|目录|"
    r"第[一二三四五六七八九十百零〇]+条)[”」》）)]*$"
)
# A title does not end inside a phrase: after a comma or an opening quote (the line runs on), or after 的, 和,
# 关于 (the rest of the title, or of the sentence, is on the next line).
_DANGLING_PUNCT = set("，,、；;（(“‘《〈【—-")
_DANGLING_WORD = set("的和与及或并在对为把将从向以于被")
# Nothing starts with these: the line before it was cut (same as clean's continuation marks).
_CONTINUATION_START = "。，、；：！？）】」』”’%,;:!?)"
_YEAR_OR_PLACE = re.compile(r"\d|[乡镇县区市省]")
_DOC_NUMBER = re.compile(r"[〔\[【（(]\s*(?:19|20)\d{2}\s*[〕\]】）)]\s*\d+\s*号")  # 冠政办发〔2025〕2号
# A headline may exclaim or ask (…守护好群众的钱袋子！); a full stop or semicolon makes a sentence.
_SENTENCE_INSIDE = "。；;"


@dataclass(frozen=True)
class TitleFinding:
    """The title read from the first lines, or why there is none."""

    text: str  # "" when the document has no title line
    blocks: tuple[int, ...]  # indexes of the blocks the title was read from
    reason: str  # how it was read / why there is none (for the log)


def why_not_title(line: str) -> str | None:
    """Why a first line cannot be (the start of) a title, or None when its wording allows one."""
    text = line.strip()
    if parse_marker(text) is not None:
        return f"the first line {_clip(text)} is a numbered section heading"
    if is_date_line(text):
        return f"the first line {_clip(text)} is a date"
    if len(CJK.findall(text)) < MIN_TITLE_CJK:
        return f"the first line {_clip(text)} is too short for a title"
    if len(text) > MAX_TITLE_CHARS:
        return f"the first line {_clip(text)} is too long for a title"
    if any(ch in text for ch in _SENTENCE_INSIDE):
        return f"the first line {_clip(text)} is a sentence"
    if text.rstrip(CLOSING_QUOTES)[-1:] in ("：", ":"):
        return f"the first line {_clip(text)} introduces what follows (an addressee or a lead-in)"
    if text[-1] in _DANGLING_PUNCT:
        return f"the first line {_clip(text)} breaks off mid-sentence"
    if _is_section_heading(text):
        return f"the first line {_clip(text)} is a section heading"
    return None


def names_document_type(text: str) -> bool:
    """Whether a title ends with what the document is (…报告, …的通知, …第四十四条)."""
    return bool(_DOC_TYPE_END.search(text))


def find_title(blocks: list[Block]) -> TitleFinding:
    """The title of a document from its cleaned blocks (blank blocks still in place)."""
    lines = [(i, b) for i, b in enumerate(blocks) if b.text.strip()]
    if not lines:
        return TitleFinding("", (), "the document is empty")
    at, first = lines[0]
    if first.role == Role.HEADING:
        if first.level in (None, TITLE_LEVEL):
            return TitleFinding(first.text.strip(), (at,), "marked as the title by the file's format")
        return TitleFinding("", (), "the file's format marks its first line as a section heading")
    if first.role != Role.UNKNOWN:
        return TitleFinding("", (), "the file's format marks its first line as a paragraph")
    if len(lines) < 2:
        return TitleFinding("", (), "the document is one line")
    text = first.text.strip()
    if is_signature_line(text):  # 前营乡人民政府 / 关于…的报告: the issuing body on a line of its own
        return _issuer_then_title(blocks, lines)
    reason = why_not_title(text)
    if reason is not None:
        return TitleFinding("", (), reason)
    used = [at]
    for i, block in lines[1:3]:
        if i == lines[-1][0] or not _continues_title(text, block.text.strip(), blocks, used[-1], i):
            break
        text = join_text(text, block.text.strip())
        used.append(i)
    if text[-1] in _DANGLING_WORD or _runs_on(text, blocks, used[-1], _wrap_width(blocks)):
        return TitleFinding("", (), f"the first line {_clip(text)} runs on into the paragraph after it")
    return TitleFinding(text, tuple(used), "read from the first line" + ("s" if len(used) > 1 else ""))


def mark_title(blocks: list[Block]) -> list[Block]:
    """The blocks with the title's lines made one Role.HEADING block at TITLE_LEVEL (other blocks as they were)."""
    finding = find_title(blocks)
    if not finding.text or blocks[finding.blocks[0]].role == Role.HEADING:
        if not finding.text:
            log.debug("no title: %s", finding.reason)
        return blocks
    log.debug("title %r: %s", finding.text, finding.reason)
    first, *rest = finding.blocks
    out = list(blocks)
    out[first] = dataclasses.replace(blocks[first], text=finding.text, role=Role.HEADING, level=TITLE_LEVEL)
    for i in rest:
        out[i] = dataclasses.replace(blocks[i], text="")
    return out


# --- helpers ----------------------------------------------------------------------------------


def _clip(text: str, n: int = 24) -> str:
    return repr(text if len(text) <= n else text[: n - 1] + "…")


def _is_section_heading(text: str) -> bool:
    """A short phrase naming a part of a report (存在的问题, 主要做法和成效), not a document: no year, no place."""
    return (
        len(text) <= MAX_SECTION_HEADING_CHARS
        and heading_kind(text) is not None
        and not names_document_type(text)
        and not _YEAR_OR_PLACE.search(text)
    )


def _gap(blocks: list[Block], a: int, b: int) -> bool:
    """Whether a blank line separates blocks a and b."""
    return any(not blocks[i].text.strip() for i in range(a + 1, b))


def _title_part(text: str) -> bool:
    """A line that can continue a title: short, no sentence or colon, not numbered, not a date or signature."""
    return (
        0 < len(text) <= MAX_TITLE_PART_CHARS
        and len(CJK.findall(text)) >= 2
        and not any(ch in text for ch in SENTENCE_END + "：:")
        and text[0] not in _CONTINUATION_START
        and parse_marker(text) is None
        and not is_date_line(text)
        and not is_signature_line(text)
        and not _DOC_NUMBER.search(text)
    )


def _continues_title(title: str, part: str, blocks: list[Block], last: int, at: int) -> bool:
    """Whether the line `part` (block `at`) is the rest of `title` (read up to block `last`).

    000: 张茅乡2023年度法治政府 / 工作报告 (together they name the document); a headline cut in two with no
    blank line between its halves and a blank line after them. A title that already names its document
    is complete; a short section heading after it (存在问题) is not part of it."""
    if names_document_type(title) or not _title_part(part) or len(title) + len(part) > MAX_TITLE_CHARS:
        return False
    if part.startswith("关于") or title[-1] in _DANGLING_WORD:
        return True
    kind = heading_kind(part)
    if kind in (SectionKind.PROBLEMS, SectionKind.PLANS):
        return False  # 存在问题, 下一步工作计划: a section, even where it would end like a document's name
    if names_document_type(title + part):
        return True  # …2023年度法治政府建设 / 工作情况报告
    if kind is not None:
        return False
    after = next((i for i in range(at + 1, len(blocks)) if blocks[i].text.strip()), None)
    return not _gap(blocks, last, at) and after is not None and _gap(blocks, at, after)


def _issuer_then_title(blocks: list[Block], lines: list[tuple[int, Block]]) -> TitleFinding:
    """前营乡人民政府 / 关于2023年法治政府建设情况的报告: the issuing body, then the title's own line."""
    (at, first), (i, second) = lines[0], lines[1]
    part = second.text.strip()
    if i != lines[-1][0] and _title_part(part) and (names_document_type(part) or part.startswith("关于")):
        return TitleFinding(join_text(first.text.strip(), part), (at, i),
                            "read from the issuing body and the line after it")
    return TitleFinding("", (), f"the first line {_clip(first.text.strip())} is the issuing body, not a title")


def _wrap_width(blocks: list[Block]) -> int | None:
    """The line width of a hard-wrapped text (most lines cut at the same length), or None."""
    lengths = [len(b.text.strip()) for b in blocks if b.role == Role.UNKNOWN and len(b.text.strip()) >= 15]
    if len(lengths) < 4:
        return None
    width, _ = Counter(lengths).most_common(1)[0]
    near = sum(1 for n in lengths if width - 2 <= n <= width)
    return width if near >= 3 and near >= 0.4 * len(lengths) else None


def _runs_on(title: str, blocks: list[Block], last: int, width: int | None) -> bool:
    """Whether the title-shaped line is the first line of a paragraph that continues on the next line."""
    nxt = next((i for i in range(last + 1, len(blocks)) if blocks[i].text.strip()), None)
    if nxt is None or _gap(blocks, last, nxt):
        return False  # a line of its own
    following = blocks[nxt].text.strip()
    if following[0] in _CONTINUATION_START:
        return True
    if names_document_type(title):
        return False
    return width is not None and len(title) >= width - 2
