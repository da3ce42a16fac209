"""The text the embedding model sees for a chunk: its text, optionally after context (title, heading
path) that disambiguates it without changing what is shown to the user."""
from __future__ import annotations

import re
from typing import Iterable

from indexer.core.config import Config
from indexer.core.document import DocumentMeta

# What a report's title says that its metadata already does: the place (leading administrative names),
# the year and the kind of report. A title made only of these is shared, near verbatim, by every report
# of a corpus and tells the model nothing about a paragraph (measured in docs/evaluation.md).
_ADMIN_PREFIX = re.compile(r"^(?:[\u4e00-\u9fff]{1,8}?(?:省|自治区|市|州|盟|县|旗|区|乡|镇|街道|街|办事处|人民政府))+")
_GENERIC_TITLE = re.compile(
    r"人民代表大会|人民政府|办事处|政府信息公开|信息公开|法治政府建设|法治政府|法治建设|政府工作|本年度|年度|全年|关于|"
    r"有关|推进|工作|情况|报告|总结|汇报|思路|计划|要点|及|和|的|第?[0-9一二三四五六七八九十百]+[年届次]|[0-9]+|[^\w]")
INFORMATIVE_TITLE_CHARS = 4


def informative_title(meta: DocumentMeta) -> str:
    """The title when it says more than place, year and report type (a news headline, a statute's
    article), else ""."""
    title = meta.title or ""
    rest = title
    for name in (meta.place, meta.region):
        if name:
            rest = rest.replace(name, "")
    rest = _GENERIC_TITLE.sub("", _ADMIN_PREFIX.sub("", rest))
    return title if len(rest) >= INFORMATIVE_TITLE_CHARS else ""


EMBED_CONTEXTS = ("title+headings", "informative-title", "headings")


def embedding_context(config: Config) -> str:
    """What is put before a chunk's text for the model: "none" or one of EMBED_CONTEXTS."""
    if not config.embedding.with_context:
        return "none"
    if config.embedding.context not in EMBED_CONTEXTS:
        raise ValueError(f"embed_context: unknown value {config.embedding.context!r}; "
                         f"choose from {', '.join(EMBED_CONTEXTS)}")
    return config.embedding.context


def context_signature(config: Config) -> bool | str:
    """embedding_context for index signatures; the two old settings keep their old value (True / False) so
    indexes built with them are not rebuilt for nothing."""
    context = embedding_context(config)
    return {"title+headings": True, "none": False}.get(context, context)


def embedding_input(meta: DocumentMeta, heading_path: Iterable[str], text: str, context: bool | str) -> str:
    """The text the model sees: the chunk text, optionally after context that disambiguates it without
    changing what is shown to the user. `context` is "none" / False, "title+headings" / True (title and
    heading path), "informative-title" (the title only when it says more than place, year and report
    type: `informative_title`), or "headings" (the heading path)."""
    if context is True:
        context = "title+headings"
    if not context or context == "none":
        return text
    if context == "title+headings":
        parts = [meta.title, *heading_path]
    elif context == "informative-title":
        parts = [informative_title(meta)]
    elif context == "headings":
        parts = list(heading_path)
    else:
        raise ValueError(f"unknown embedding context {context!r}")
    prefix = " › ".join(p for p in parts if p)
    return f"{prefix}\n{text}" if prefix else text
