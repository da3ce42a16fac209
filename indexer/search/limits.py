"""The limits of a search request and their messages: one definition for the `Searcher` (CLI, scripts) and
the web's parameter parsing (search_web/params.py), so both refuse the same input in the same words."""
from __future__ import annotations

from indexer.search.types import MODES, QueryError

MAX_PAGE_SIZE = 100
MAX_PAGE = 50


def check_query(query: str, max_chars: int) -> None:
    if len(query) > max_chars:
        raise QueryError("q", f"检索词过长（{len(query)} 字），请控制在 {max_chars} 字以内。")


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise QueryError("mode", f"检索模式只能是 {' / '.join(MODES)}。")


def check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise QueryError(name, range_message(name, low, high))


def range_message(name: str, low: int, high: int) -> str:
    return f"参数 {name} 应在 {low} 到 {high} 之间。"
