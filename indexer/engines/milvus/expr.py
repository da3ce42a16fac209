"""Filters and id lists compiled to Milvus boolean expressions.

pymilvus 3 offers expression templates (`filter="place in {p}"`, `filter_params=`), but Milvus Lite 3.2.2
rejects them ("unexpected character '{'"), so values are written as literals, escaped strictly: a value is
a double-quoted string in which only `\\`, `"`, newline, CR and tab are escaped (the escapes Milvus's parser
accepts; it rejects `\\u`). A value with any other control character cannot occur in our metadata (cleaning
drops them) and cannot be written safely, so it is left out of the list: it matches nothing, never more.
Numbers are formatted from `int`. The field names are ours, never user input.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from indexer.core.facets import UNKNOWN
from indexer.core.filters import Filters
from indexer.engines.milvus.schema import NONE_INT

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
NOTHING = "id < -1"  # chunk ids are >= 0: an expression no row satisfies


def string_literal(value: str) -> str | None:
    """`value` as a Milvus string literal, or None when it holds a character we cannot write safely."""
    out = []
    for ch in str(value):
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            return None
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def in_strings(field: str, values: Iterable[str]) -> str:
    literals = [lit for lit in (string_literal(v) for v in values) if lit is not None]
    return f"{field} in [{', '.join(literals)}]" if literals else NOTHING


def in_ints(field: str, values: Iterable[int]) -> str:
    ints = sorted({int(v) for v in values})
    return f"{field} in [{', '.join(str(v) for v in ints)}]" if ints else NOTHING


def filter_expr(filters: Filters, within: Sequence[int] | None = None) -> str:
    """The expression for `filters` (fields AND-ed, values OR-ed), optionally restricted to chunk ids."""
    clauses = []
    for field, values in (("place", filters.place), ("level", filters.level), ("region", filters.region),
                          ("kind", filters.kind)):
        if values:  # UNKNOWN (未知) asks for the documents without a value, stored as ""
            clauses.append(in_strings(field, ["" if v == UNKNOWN else v for v in values]))
    if filters.year:
        clauses.append(in_ints("year", [NONE_INT if v == UNKNOWN else v for v in filters.year]))
    if within is not None:
        clauses.append(in_ints("id", within))
    return " and ".join(f"({c})" for c in clauses)
