"""Validation of ids that arrive in URL paths, before they reach the library."""
from __future__ import annotations

from indexer.search.types import QueryError
from search_web.errors import NotFound

MAX_CHUNK_ID = 0x7FFF_FFFF_FFFF_FFFF  # chunk ids are positive 63-bit integers
MAX_DOC_ID_CHARS = 64


def chunk_id(raw: str) -> int:
    if not raw.isdigit():
        raise QueryError("chunk_id", f"段落编号应为正整数，收到“{raw[:30]}”。")
    value = int(raw)
    if value > MAX_CHUNK_ID:
        raise NotFound("chunk_id", f"索引中没有编号为 {raw[:30]} 的段落。")
    return value


def doc_id(raw: str) -> str:
    if not raw or len(raw) > MAX_DOC_ID_CHARS or not raw.isalnum():
        raise NotFound("doc_id", f"索引中没有编号为“{raw[:30]}”的文档。")
    return raw
