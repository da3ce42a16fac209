"""The citation a researcher pastes under a quoted passage; used by "复制" and by the exports."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence, Union

from indexer.core.document import HEADING_SEPARATOR

if TYPE_CHECKING:
    from indexer.search.types import Hit


@dataclass(frozen=True)
class Passage:
    """What a citation needs: a search `Hit` has these attributes; a document-view paragraph is made into one."""

    text: str
    title: str
    place: str
    year: int | None
    path: str
    heading_path: Sequence[str]


Citable = Union[Passage, "Hit"]


def source_line(hit: Citable) -> str:
    """E.g. 来源：观音堂镇《2023年度观音堂镇法治政府建设工作报告》，2023年，一、… › （二）…"""
    title = hit.title or hit.path
    parts = [f"{hit.place}《{title}》"]
    if hit.year:
        parts.append(f"{hit.year}年")
    if hit.heading_path:
        parts.append(HEADING_SEPARATOR.join(hit.heading_path))
    return "来源：" + "，".join(parts)


def cite(hit: Citable) -> str:
    """The passage followed by its source in full-width parentheses, ready to paste into a document."""
    return f"{hit.text.strip()}（{source_line(hit)}）"


def cite_paragraph(doc, paragraph) -> str:
    """cite() for a paragraph of the document view (a DocumentView and one of its ParagraphViews)."""
    return cite(Passage(paragraph.text, doc.title, doc.place, doc.year, doc.path, paragraph.heading_path))
