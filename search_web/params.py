"""Query-string parameters -> library requests. Shared by the HTML pages and the JSON API so both
accept exactly the same parameters and reject bad ones with the same messages."""
from __future__ import annotations

import re
import unicodedata

from werkzeug.datastructures import MultiDict

from indexer.core.facets import FACET_FIELDS, TEXT_FACET_FIELDS, UNKNOWN
from indexer.core.config import Config
from indexer.core.document import SectionKind
from indexer.core.filters import Filters
from indexer.search.figures import FIGURE_SORTS, FiguresRequest
from indexer.search.limits import MAX_PAGE, MAX_PAGE_SIZE, check_mode, check_query, check_range, range_message
from indexer.search.types import MODES, QueryError, SearchRequest

DEFAULT_SIZE = 10
# The library's limits, so the page and the API reject what the Searcher would (with the same parameter name).
MAX_SIZE = MAX_PAGE_SIZE
MAX_FILTER_VALUES = 50  # per field; more is never a real user, only a way to make requests expensive
MAX_FILTER_CHARS = 100
MIN_YEAR, MAX_YEAR = 1900, 2100
MAX_CONTEXT = 20  # paragraphs before/after in /api/context
MAX_SIMILAR = 50  # hits of /api/similar
KINDS = tuple(k.value for k in SectionKind)
MODE_LABELS = {"hybrid": "混合", "keyword": "关键词", "semantic": "语义"}
FILTER_FIELDS = FACET_FIELDS  # the query parameters that filter
_TRUE = {"1", "true", "on", "yes"}
_FALSE = {"0", "false", "off", "no", ""}
# ASCII digits only: str.isdigit() also accepts "²" or "٣", which int() then rejects (that was a 500).
_INTEGER = re.compile(r"-?[0-9]{1,18}")  # 18 digits: beyond every limit, and int() stays cheap
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")


def shown(raw: str, limit: int = 20) -> str:
    """A piece of user input quoted in an error message: short, one line, no control or bidi characters."""
    cut = raw[:limit] + ("…" if len(raw) > limit else "")
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in cut)


def ascii_int(raw: str) -> int | None:
    """The integer written in ASCII digits (optionally signed), or None for anything else."""
    return int(raw) if _INTEGER.fullmatch(raw) else None


def check_text(name: str, value: str) -> str:
    """`value` unless it holds a character no text has and no document can hold (NUL and the other C0
    controls but tab/newline/CR, surrogates, noncharacters such as U+FFFE): those are refused with a
    message naming the parameter -- the same on every page, API call and export (a Word export cannot
    even contain them)."""
    bad = _NOT_TEXT.search(value)
    if bad:
        raise QueryError(name, f"参数 {name} 含有不能处理的字符 U+{ord(bad.group(0)):04X}，请删去后重试。")
    return value


def without_bad_characters(value: str) -> str:
    """`value` without the characters check_text refuses."""
    return _NOT_TEXT.sub("", value)


def parse_query(args: MultiDict, config: Config, *, required: bool) -> str:
    query = check_text("q", args.get("q") or "").strip()
    if not query and required:
        raise QueryError("q", "请输入检索词。")
    check_query(query, config.retrieval.max_query_chars)
    return query


def parse_mode(args: MultiDict) -> str:
    mode = (args.get("mode") or "hybrid").strip()
    check_mode(mode)
    return mode


def parse_filters(args: MultiDict) -> Filters:
    values: dict[str, tuple] = {}
    for name in FILTER_FIELDS:
        raw = [check_text(name, v).strip() for v in args.getlist(name) if v.strip()]
        if len(raw) > MAX_FILTER_VALUES:
            raise QueryError(name, f"筛选条件 {name} 的取值过多（最多 {MAX_FILTER_VALUES} 个）。")
        if any(len(v) > MAX_FILTER_CHARS for v in raw):
            raise QueryError(name, f"筛选条件 {name} 的取值过长。")
        values[name] = tuple(dict.fromkeys(raw))  # drop repeats, keep order
    years: list[int | str] = []
    for value in values["year"]:
        if value == UNKNOWN:  # the 未知 facet value: reports whose year nobody could tell
            years.append(UNKNOWN)
            continue
        year = ascii_int(value)
        if year is None or not MIN_YEAR <= year <= MAX_YEAR:
            raise QueryError("year", f"年份“{shown(value)}”无效，应为四位数字，例如 2023。")
        years.append(year)
    for kind in values["kind"]:
        if kind not in KINDS:
            raise QueryError("kind", f"章节类型“{shown(kind)}”无效，可选：{'、'.join(KINDS)}。")
    return Filters(
        place=values["place"],
        level=values["level"],
        region=values["region"],
        year=tuple(years),
        kind=values["kind"],
    )


def parse_int(args: MultiDict, name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return default
    raw = raw.strip()
    value = ascii_int(raw)
    if value is None:
        if re.fullmatch(r"-?[0-9]+", raw):  # all digits, just too many of them
            raise QueryError(name, range_message(name, low, high))
        raise QueryError(name, f"参数 {name} 应为整数（半角数字），收到“{shown(raw)}”。")
    check_range(name, value, low, high)
    return value


def parse_bool(args: MultiDict, name: str) -> bool:
    raw = (args.get(name) or "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise QueryError(name, f"参数 {name} 只能是 1 或 0。")


def parse_search(args: MultiDict, config: Config, *, required: bool = True, size: int | None = None) -> SearchRequest:
    """The whole search state the URL carries. `size` fixes the page size (pages that don't offer one)."""
    return SearchRequest(
        query=parse_query(args, config, required=required),
        mode=parse_mode(args),
        filters=parse_filters(args),
        group_by_place=parse_bool(args, "group"),
        page=parse_int(args, "page", 1, 1, MAX_PAGE),
        size=size if size is not None else parse_int(args, "size", DEFAULT_SIZE, 1, MAX_SIZE),
    )


def parse_figures(args: MultiDict, config: Config) -> FiguresRequest:
    """/api/figures: the search's query and filters, and the table's order."""
    sort = (args.get("sort") or "place").strip()
    if sort not in FIGURE_SORTS:
        raise QueryError("sort", f"排序只能是 {' / '.join(FIGURE_SORTS)}，收到“{shown(sort)}”。")
    return FiguresRequest(query=parse_query(args, config, required=True), filters=parse_filters(args), sort=sort,
                          descending=parse_bool(args, "desc"))


def parse_format(args: MultiDict, formats: tuple[str, ...]) -> str:
    value = (args.get("format") or formats[0]).strip()
    if value not in formats:
        raise QueryError("format", f"参数 format 只能是 {' / '.join(formats)}，收到“{shown(value)}”。")
    return value


def schema_limits(max_query_chars: int) -> dict[str, dict[str, dict]]:
    """The bounds this module enforces, per query parameter, as JSON-schema keywords: the served OpenAPI
    document takes them from here, so the spec cannot promise what the server refuses.
    {"name": {"schema": {...}, "items": {...}}} ("items": bounds of each value of a repeatable parameter)."""
    filter_values = {"schema": {"maxItems": MAX_FILTER_VALUES}, "items": {"maxLength": MAX_FILTER_CHARS}}
    return {
        "q": {"schema": {"minLength": 1, "maxLength": max_query_chars}},
        "page": {"schema": {"minimum": 1, "maximum": MAX_PAGE}},
        "size": {"schema": {"minimum": 1, "maximum": MAX_SIZE}},
        "before": {"schema": {"minimum": 0, "maximum": MAX_CONTEXT}},
        "after": {"schema": {"minimum": 0, "maximum": MAX_CONTEXT}},
        "limit": {"schema": {"minimum": 1, "maximum": MAX_SIMILAR}},
        "year": {"schema": {"maxItems": MAX_FILTER_VALUES}, "items": {"minimum": MIN_YEAR, "maximum": MAX_YEAR}},
        **{name: filter_values for name in TEXT_FACET_FIELDS},
        "kind": {"schema": {"maxItems": MAX_FILTER_VALUES}, "items": {"enum": list(KINDS)}},
        "mode": {"schema": {"enum": list(MODES)}},
        "sort": {"schema": {"enum": list(FIGURE_SORTS)}},
    }
