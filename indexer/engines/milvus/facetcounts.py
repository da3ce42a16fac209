"""Whole-corpus facet counts without reading every chunk: a small table written at sync.

`facet_values(filters)` (the facets of an empty search, `/api/facets`) counts chunks per place / level /
region / year / kind among the chunks the filters keep. Reading every chunk row for that took 588 ms at 10k
chunks on Lite (issue 28) and grows with the collection. Place, level, region and year are a document's, kind
a chunk's, so the chunks fall into few combinations (652 at 100k chunks, 38k documents): the sync writes the
chunk count of each combination (from the local catalog, the generation Milvus is made equal to) into the
documents collection, and a reader sums the combinations the filters keep — the same numbers, in the same
order, as `Catalog.facet_values`.

Stored as rows `#facets#<tag>#<i>` of the documents collection (n = -2, never a document), the JSON list split
in parts like a report's paragraphs; `tag` is the first 16 characters of the sync's fingerprint (which covers
every chunk's facet values). The settings row names the tag and the number of parts (`facets`), and is
written after them; a reader uses the table only when the settings row says the last sync finished (its
fingerprint is set, and starts with the tag) — during an incremental run, or after one was killed, it counts
the rows as before.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Iterable

from indexer.core.facets import UNKNOWN
from indexer.core.filters import Filters
from indexer.engines.milvus import schema
from indexer.storage.catalog import Catalog

log = logging.getLogger(__name__)

DOC_ID = "#facets"
N = -2  # the rows' part number: below every document's (>= 0) and the settings row's (-1)
TAG_LEN = 16
FIELDS = ("place", "level", "region", "year", "kind")
Combo = tuple[str, str, str, int | None, str]  # place, level, region, year, kind


def combos(catalog: Catalog) -> list[list]:
    """[place, level, region, year, kind, chunks] for every combination the generation's chunks have."""
    rows = catalog.connect().execute(
        "SELECT d.place, d.level, d.region, d.year, c.section_kind, COUNT(*) FROM chunks c"
        " JOIN documents d ON d.doc_id = c.doc_id GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5").fetchall()
    return [[p or "", lv or "", r or "", y, k or "", int(n)] for p, lv, r, y, k, n in rows]


def key(tag: str, i: int, doc_id: str = DOC_ID) -> str:
    return f"{doc_id}#{tag}#{i}"


def write(client, docs: str, digest: str, table: object, doc_id: str = DOC_ID, n: int = N,
          name: str = "facets") -> dict[str, str]:
    """Write the table for the generation whose fingerprint is `digest`, drop any other table; the
    settings-row entry naming it (the caller writes the settings row after this). `doc_id`, `n`, `name`: of
    another table kept the same way (gramcounts.py)."""
    tag = digest[:TAG_LEN]
    parts = schema.split_utf8(json.dumps(table, ensure_ascii=False))
    client.upsert(docs, [{"key": key(tag, i, doc_id), "doc_id": doc_id, "n": n, "parts": len(parts), "h": tag,
                          "path": "", "row": "", "paragraphs": text, "stub": [0.0] * schema.STUB_DIM}
                         for i, text in enumerate(parts)])
    held = client.query(docs, filter=f'doc_id == "{doc_id}"', output_fields=["key", "h"], limit=16384,
                        consistency_level="Strong")
    stale = [r["key"] for r in held if r["h"] != tag]
    if stale:
        client.delete(docs, ids=stale)
    return {name: f"{tag}:{len(parts)}"}


def read(client, docs: str, info: dict[str, str], doc_id: str = DOC_ID, name: str = "facets",
         tied: bool = True) -> object | None:
    """The table the settings row names, or None when the last sync did not finish (or wrote none).
    `tied=False`: a table still worth reading after other syncs (gramcounts.py), not tied to the fingerprint."""
    digest, named = info.get("digest", ""), info.get(name, "")
    tag, _, parts = named.partition(":")
    if not tag or not parts.isdigit() or (tied and (not digest or not digest.startswith(tag))):
        return None
    rows = client.query(docs, ids=[key(tag, i, doc_id) for i in range(int(parts))], output_fields=["key", "paragraphs"])
    if len(rows) != int(parts):
        return None  # replaced since the settings row was read: count the rows
    by_key = {r["key"]: r["paragraphs"] for r in rows}
    return json.loads("".join(by_key[key(tag, i, doc_id)] for i in range(int(parts))))


def _wanted(name: str, values: Iterable) -> set:
    if name == "year":
        return {None if v == UNKNOWN else int(v) for v in values}
    return {"" if v == UNKNOWN else v for v in values}


def facet_values(table: list[list], filters: Filters) -> dict[str, list[tuple[str, int]]]:
    """Chunks per value of each field among the combinations `filters` keep: `Catalog.facet_values`' numbers
    and order (count descending, then the value as text; a missing value is UNKNOWN)."""
    keep = {name: _wanted(name, getattr(filters, name)) for name in FIELDS if getattr(filters, name)}
    counts: dict[str, Counter] = {name: Counter() for name in FIELDS}
    for row in table:
        if any(row[FIELDS.index(name)] not in wanted for name, wanted in keep.items()):
            continue
        for i, name in enumerate(FIELDS):
            v = row[i]
            counts[name][UNKNOWN if v is None or v == "" else str(v)] += row[5]
    return {name: sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) for name, c in counts.items()}
