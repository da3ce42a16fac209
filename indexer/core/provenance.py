"""How DocumentMeta.provenance ("source/sureness" per field) is shown: one set of Chinese labels for the CLI's
`show`, the web document view and the JSON (which keeps the raw codes)."""
from __future__ import annotations

from typing import Mapping

SOURCE_LABELS = {
    "meta.csv": "meta.csv（人工填写）",
    "title": "标题",
    "text": "正文",
    "path": "文件路径",
    "date": "成文日期",
    "gazetteer": "行政区划库",
    "hint": "文件属性",
}
SURENESS_LABELS = {"high": "确定", "medium": "较确定", "low": "推断"}
FIELD_ORDER = ("place", "level", "region", "year", "date")


def describe(code: str) -> str:
    """'title/high' -> '标题（确定）'; an unknown code is shown as it is."""
    source, _, sure = code.partition("/")
    label = SOURCE_LABELS.get(source, source)
    return f"{label}（{SURENESS_LABELS[sure]}）" if sure in SURENESS_LABELS else label


def described(provenance: Mapping[str, str]) -> list[tuple[str, str]]:
    """(field, description) in display order, for the fields that have a recorded source."""
    return [(name, describe(provenance[name])) for name in FIELD_ORDER if provenance.get(name)]
