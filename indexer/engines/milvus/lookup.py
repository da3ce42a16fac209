"""The chunks a query tree may match, found through an inverted index instead of a scan of the text.

Milvus Lite evaluates `text like "%…%"` (textexpr.py) -- and any other filtered query -- by reading every row,
~1.5 s at 100k chunks on a loaded machine, growing with the collection; it has no NGRAM index ("not
implemented") and its `text_match` scans too, slower than LIKE. What it does index is a BM25 function's sparse
vector: a BM25 search for one token returns every chunk holding it (each scores above 0), through the inverted
index. So the chunks' character bigrams are stored as tokens (`gsparse`, tokens.text_grams), and an exact
string of two or more characters is looked up by its rarest bigram: the chunks holding it are a superset of
the string's matches (exactly them for a two-character string). The tree combines the leaves (AND:
its rarest part alone, OR: the union, NOT: the base, the excluded part left to the check of the candidates).

Such a lookup costs ~0.2 s per token plus ~0.7 ms per chunk returned on Lite (docs/milvus.md), so it is used
only where it beats the scan: every string of the tree has a bigram held by at most `chunks / RARE_SHARE`
chunks (at least COMMON_DF) by the sync's count (gramcounts.py), at most MAX_TOKENS of them; and a lookup is
complete only when it returned fewer than its limit (the count may be stale; the answer never depends on it).
Anything else -- a word leaf, one character, an empty group (every chunk), a common string -- returns None, and
the caller scans with the LIKE bounds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from indexer.core.analysis import squeeze
from indexer.core.querytree import Node, QueryReader
from indexer.engines.milvus.expr import NOTHING
from indexer.engines.milvus.gramcounts import COMMON_DF
from indexer.engines.milvus.tokens import needle_grams

MAX_TOPK = 16384  # one search's result limit
RARE_SHARE = 50  # look up when the bigrams' chunks are at most 1/50 of the collection (2,000 at 100k chunks)
MAX_TOKENS = 4  # tokens per query (each ~0.2 s on Lite): a tree with more strings is scanned

Found = dict[str, "set[int] | None"]  # bigram token -> every chunk (in scope) holding it; None: cut at the limit


@dataclass(frozen=True)
class Candidates:
    ids: set[int]
    exact: bool  # the ids are exactly the matches (no text check needed)


@dataclass(frozen=True)
class _Bound:
    keys: frozenset[str] = field(default_factory=frozenset)  # the bigram lookups it needs
    estimate: int = 0  # chunks those lookups are expected to return (gramcounts)
    # the candidates from the lookups' answers; None: unbounded (could be any chunk)
    result: Callable[[Found], Candidates | None] = lambda found: None
    bounded: bool = False  # whether `result` can be other than None


_UNBOUNDED = _Bound()


class _Lookups(QueryReader[_Bound]):
    def __init__(self, df: dict[str, int]):
        self.df = df

    def word(self, word: str) -> _Bound:
        return _UNBOUNDED  # a word's chunks would need a lookup of unknown size: the scan decides them

    def exact(self, text: str, boost: float) -> _Bound:
        needle = squeeze(text)
        if not needle:
            return self.nothing()
        grams = needle_grams(needle)
        if not grams:  # one character: no bigram holds it alone
            return _UNBOUNDED
        # the rarest by the sync's count; below COMMON_DF the table does not say: the first such
        gram = min(grams, key=lambda g: self.df.get(g, COMMON_DF - 1))

        def result(found: Found) -> Candidates | None:
            ids = found.get(gram)
            return None if ids is None else Candidates(ids, len(needle) == 2)
        return _Bound(frozenset([gram]), self.df.get(gram, COMMON_DF - 1), result, True)

    def all_of(self, parts: list[_Bound]) -> _Bound:
        known = [p for p in parts if p.bounded]
        if not known:
            return _UNBOUNDED
        # the rarest part bounds an AND alone: look up only it (the others would add their cost, not safety)
        best = min(known, key=lambda p: p.estimate)
        exact = len(parts) == 1

        def result(found: Found) -> Candidates | None:
            got = best.result(found)
            return None if got is None else Candidates(got.ids, got.exact and exact)
        return _Bound(best.keys, best.estimate, result, True)

    def any_of(self, parts: list[_Bound]) -> _Bound:
        if not parts or not all(p.bounded for p in parts):
            return _UNBOUNDED

        def result(found: Found) -> Candidates | None:
            got = [p.result(found) for p in parts]
            if any(c is None for c in got):
                return None
            return Candidates(set().union(*(c.ids for c in got)), all(c.exact for c in got))
        return _Bound(frozenset().union(*(p.keys for p in parts)), sum(p.estimate for p in parts), result, True)

    def ranked_by(self, base: _Bound, extra: _Bound) -> _Bound:
        return base

    def boost(self, part: _Bound, factor: float) -> _Bound:
        return part

    def everything(self) -> _Bound:
        return _UNBOUNDED

    def nothing(self) -> _Bound:
        return _Bound(frozenset(), 0, lambda found: Candidates(set(), True), True)

    def excluding(self, base: _Bound, excluded: _Bound) -> _Bound:
        if not base.bounded:
            return _UNBOUNDED
        # the excluded part is not looked up: the check on the candidates' text drops what it matches
        return _Bound(base.keys, base.estimate,
                      lambda found: None if (c := base.result(found)) is None else Candidates(c.ids, False), True)


def candidates(client, collection: str, node: Node, scope: str, table: dict | None) -> Candidates | None:
    """A superset of the chunks `node` matches within `scope` (a filter expression, "" for all), from bigram
    lookups; None when the tree is not bounded that way, or not cheaply (the caller scans)."""
    if scope == NOTHING:
        return Candidates(set(), True)
    if not table:
        return None
    bound = _Lookups(table.get("df", {})).read(node)
    if not bound.bounded:
        return None
    if not bound.keys:
        return bound.result({})
    df, rare = table.get("df", {}), max(COMMON_DF, int(table.get("chunks", 0)) // RARE_SHARE)
    if len(bound.keys) > MAX_TOKENS or any(df.get(g, 0) > rare for g in bound.keys):
        return None
    grams = sorted(bound.keys)
    hits = client.search(collection, data=grams, anns_field="gsparse", limit=MAX_TOPK, filter=scope,
                         output_fields=[], search_params={"metric_type": "BM25"})
    return bound.result({g: None if len(h) >= MAX_TOPK else {int(x["id"]) for x in h} for g, h in zip(grams, hits)})
