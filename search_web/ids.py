"""Validation of ids that arrive in URL paths, before they reach the library."""
from __future__ import annotations

from indexer.search.types import QueryError
from search_web.errors import NotFound
from search_web.params import shown

MAX_CHUNK_ID = 0x7FFF_FFFF_FFFF_FFFF  # chunk ids are positive 63-bit integers
MAX_DOC_ID_CHARS = 64


def chunk_id(raw: str, param: str = "chunk_id") -> int:
    # ASCII digits only ("²".isdigit() is True but int() rejects it); the length cap keeps int() cheap.
    if not (raw.isascii() and raw.isdigit()):
        raise QueryError(param, f"段落编号应为正整数（半角数字），收到“{shown(raw, 30)}”。")
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(MAX_CHUNK_ID)) or int(digits) > MAX_CHUNK_ID:
        raise NotFound(param, f"索引中没有编号为 {shown(raw, 30)} 的段落。")
    return int(digits)


def doc_id(raw: str) -> str:
    if not raw or len(raw) > MAX_DOC_ID_CHARS or not (raw.isascii() and raw.isalnum()):
        raise NotFound("doc_id", f"索引中没有编号为“{shown(raw, 30)}”的文档。")
    return raw
