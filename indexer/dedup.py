"""Boilerplate detection: paragraphs that several reports share word for word (after normalisation).

Stock phrases such as 小事不出村，大事不出乡，矛盾不上交 recur across reports; grouping them lets search
show one copy with "N 份报告有相同表述" instead of N copies crowding out distinctive practices.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

from indexer.catalog import Catalog

# Everything but letters, digits and CJK: punctuation and spacing differ between copies of one sentence.
_NOISE = re.compile(r"[^\w]|_", re.UNICODE)
MIN_CHARS = 12  # very short chunks are too generic to call shared wording


def normalized_key(text: str) -> str | None:
    norm = _NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()
    if len(norm) < MIN_CHARS:
        return None
    return hashlib.blake2b(norm.encode(), digest_size=12).hexdigest()


def duplicate_groups(catalog: Catalog) -> dict[int, int]:
    """chunk_id -> group id for chunks whose normalised text occurs in two or more documents."""
    by_key: dict[str, list[tuple[int, str]]] = {}
    for row in catalog.iter_chunks():
        key = normalized_key(row.text)
        if key:
            by_key.setdefault(key, []).append((row.chunk_id, row.doc_id))
    groups: dict[int, int] = {}
    for members in by_key.values():
        if len({doc for _, doc in members}) < 2:
            continue
        gid = min(cid for cid, _ in members)  # stable: the smallest member id names the group
        for cid, _ in members:
            groups[cid] = gid
    return groups
