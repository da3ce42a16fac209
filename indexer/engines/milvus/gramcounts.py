"""How many chunks hold each common character bigram: which bigram of a string to look up (lookup.py).

A BM25 lookup on Lite costs ~0.2 s per query token plus ~0.7 ms per chunk returned (docs/milvus.md, "Exact
matches through an index"), so a string is looked up by its rarest bigram only, and only when that one is rare
enough. Which is rarest cannot be asked cheaply (a probe search per bigram costs the 0.2 s): the sync counts
the bigrams of every chunk it writes (tokens.text_grams) and keeps those held by COMMON_DF chunks or more --
9,022 of 192,778 at 100k chunks -- as one small table; a bigram not in it is rarer than that.

Stored like the facet counts (facetcounts.py): rows `#grams#<tag>#<i>` of the documents collection (n = -3),
named in the settings row (`grams`). Written by a full rebuild and kept by incremental runs: a count gone stale
only makes a lookup slower or skipped, never an answer different (a lookup is complete when it returns fewer
chunks than its limit, whatever the table said).
"""
from __future__ import annotations

from collections import Counter

from indexer.engines.milvus import facetcounts

DOC_ID = "#grams"
N = -3
COMMON_DF = 100


def write(client, docs: str, tag: str, counts: Counter, chunks: int) -> dict[str, str]:
    """Store the common bigrams of `counts` (bigram -> chunks holding it) for a collection of `chunks`."""
    table = {"chunks": chunks, "df": {g: n for g, n in counts.items() if n >= COMMON_DF}}
    return facetcounts.write(client, docs, tag, table, doc_id=DOC_ID, n=N, name="grams")


def read(client, docs: str, info: dict[str, str]) -> dict | None:
    """{"chunks": int, "df": {bigram: chunks}} as the last rebuild wrote it, or None."""
    table = facetcounts.read(client, docs, info, doc_id=DOC_ID, name="grams", tied=False)
    return table if isinstance(table, dict) else None
