"""The facet fields -- the metadata a search filters on and counts -- and their one set of Chinese labels.

Everything that lists these fields (Filters, the full-text filter fields, the in-memory columns, the web
parameters, the CLI's stats, the exports) takes them from here, so adding a field is one edit here plus its
storage, and the web page, the CLI and an exported table never name the same field differently."""
from __future__ import annotations

# A document's own metadata (DocumentMeta), the same for all its chunks.
DOC_FACET_FIELDS: tuple[str, ...] = ("place", "level", "region", "year")
# All facet fields in the order they are shown: the document's, then the chunk's section kind.
FACET_FIELDS: tuple[str, ...] = (*DOC_FACET_FIELDS, "kind")
# The facet fields whose values are free text (year is a number, kind one of SectionKind's values).
TEXT_FACET_FIELDS: tuple[str, ...] = ("place", "level", "region")

# The value a facet shows, and a filter takes, for documents whose place/level/region/year is not known: a
# value of its own, so a researcher sees how many reports a count leaves out and can list them (place=未知).
# Stored values stay empty (""/None); each store maps this value to its own empty value.
UNKNOWN = "未知"

# The labels the web UI shows; the CLI and the exports use the same ones.
FACET_LABELS: dict[str, str] = {
    "place": "地点",
    "level": "层级",
    "region": "所属区县",
    "year": "年份",
    "kind": "章节类型",
}
