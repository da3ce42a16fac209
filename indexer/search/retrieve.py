"""One query's candidates from a snapshot: keyword and semantic lists fused by the query's plan
(search/routing.py) for the ranking, and the exact sets that completeness rests on.

Ranking is top k (`Config.retrieval.candidates` per side); which paragraphs are results is not: every paragraph that
matches the query as typed (search/literal.py, asked of the engine exactly: `Snapshot.matching`) is a
result, and so is every one holding an official term the expansion added (named on the hit). A hit only
near in meaning is one when its cosine passes `Config.retrieval.semantic_floor`; those come from the semantic top k,
so their number is an estimate. Hits of the ranking query that are none of these (律师 alone for 公职律师, a
heading naming the word) are not results of a lookup; for a query in the user's own words they stay, counted
like near-meaning hits."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from indexer.core.filters import Filters
from indexer.core.querytree import ParsedQuery, is_strict
from indexer.core.config import Config
from indexer.engines.base import Ranked, Snapshot
from indexer.search.bridge import bridge_terms, wants_bridge
from indexer.search.floor import above_floor
from indexer.search.fuse import Fused, fuse, single
from indexer.search.literal import exact, literal_query, term_query
from indexer.search.rewrite import QueryRewriter
from indexer.search.routing import QueryKind, fusion_plan, is_statement, query_kind, sentence_like
from indexer.search.sentences import SentenceReranker


@dataclass
class Retrieval:
    """A query's results: `fused` ranked (top k of each side), then the exact matches outside it (the tail):
    the literal ones by their keyword score, then the official-term ones by chunk id. Ranking the tail costs
    a keyword search over every literal match, so it is ranked only as deep as a caller asks (`head_ids`);
    counts need no ranking (`unranked_ids`). Ids, not `Fused` objects, past the fused list: a common word's
    tail is most of the index, and a page shows ten of it (`fused_of`)."""

    fused: list[Fused]  # ranked candidates that are results, best first
    literal: set[int]  # every paragraph matching the query as typed (exact)
    official: dict[int, tuple[str, ...]]  # every other paragraph holding an added official term: which ones
    near: set[int]  # neither: near in meaning, or a ranked keyword hit of a longer query (top k: an estimate)
    # the first n literal matches outside `fused` in keyword order (all of them for None)
    _rank_literal: Callable[[int | None], list[int]] = field(repr=False, default=lambda n: [])
    _heads: dict[int | None, np.ndarray] = field(default_factory=dict, repr=False)
    _out: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _by_id: dict[int, Fused] | None = field(default=None, repr=False)
    _literal_ids: np.ndarray | None = field(default=None, repr=False)

    def ids(self) -> np.ndarray:
        """Every result (unordered, an id may repeat): cheap, for counts and facets."""
        return np.concatenate([self.fused_ids(), _array(self.literal), _array(self.official)])

    def literal_ids(self) -> np.ndarray:
        """`literal` as a sorted array (computed once)."""
        if self._literal_ids is None:
            self._literal_ids = np.sort(_array(self.literal))
        return self._literal_ids

    def fused_ids(self) -> np.ndarray:
        return np.fromiter((f.chunk_id for f in self.fused), dtype=np.int64, count=len(self.fused))

    def _outside(self) -> tuple[np.ndarray, np.ndarray]:
        """The tail's literal and official matches, by chunk id (computed once)."""
        if self._out is None:
            inside = self.fused_ids()
            self._out = _without(self.literal_ids(), inside), _without(np.sort(_array(self.official)), inside)
        return self._out

    def tail_size(self) -> int:
        literal, official = self._outside()
        return len(literal) + len(official)

    def unranked_ids(self) -> np.ndarray:
        """Every result, in the order of `head_ids(None)` except among the tail's literal matches (by chunk id
        there): the same one hit per boilerplate group or place is literal, official or near as in the ranked
        list, so totals and facet counts computed from it are the ranked list's."""
        return np.concatenate([self.fused_ids(), *self._outside()])

    def kinds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which of `unranked_ids()` are literal, official-term and near-meaning results (boolean arrays):
        the fused list's looked up, the tail's literal then official by construction."""
        literal, official = self._outside()
        tail_literal = np.concatenate([np.ones(len(literal), dtype=bool), np.zeros(len(official), dtype=bool)])
        return (np.concatenate([self._fused_in(self.literal), tail_literal]),
                np.concatenate([self._fused_in(self.official), ~tail_literal]),
                np.concatenate([self._fused_in(self.near), np.zeros(len(tail_literal), dtype=bool)]))

    def _fused_in(self, ids: set[int] | dict[int, object]) -> np.ndarray:
        return np.fromiter((f.chunk_id in ids for f in self.fused), dtype=bool, count=len(self.fused))

    def head_ids(self, tail: int | None) -> np.ndarray:
        """`fused` and the first `tail` entries of the ranked tail (all of it for None): a prefix of the ranked
        results (the fused top k, then the other exact matches by their keyword score)."""
        if tail is not None and tail >= self.tail_size():
            tail = None
        if tail not in self._heads:
            literal, official = self._outside()
            ranked = self._rank_literal(tail) if len(literal) and tail != 0 else []
            if tail is not None:
                ranked = ranked[:tail]
            ids = [*ranked, *official.tolist()][: None if tail is None else tail]
            self._heads[tail] = np.concatenate([self.fused_ids(), np.array(ids, dtype=np.int64)])
        return self._heads[tail]

    def fused_of(self, ids: np.ndarray) -> list[Fused]:
        """These results as `Fused` entries: the fused list's own, a tail match's with no ranks."""
        if self._by_id is None:
            self._by_id = {f.chunk_id: f for f in self.fused}
        return [self._by_id.get(cid) or Fused(cid, 0.0, official=self.official.get(cid, ())) for cid in ids.tolist()]


def _array(ids: set[int] | dict[int, object]) -> np.ndarray:
    return np.fromiter(ids, dtype=np.int64, count=len(ids))


def _without(ids: np.ndarray, remove: np.ndarray) -> np.ndarray:
    """Sorted distinct `ids` without those in `remove` (a few hundred: found by binary search)."""
    at = np.searchsorted(ids, remove)
    inside = at < len(ids)
    at, remove = at[inside], remove[inside]
    keep = np.ones(len(ids), dtype=bool)
    keep[at[ids[at] == remove]] = False
    return ids[keep]


EXPANSION_EVIDENCE_DEPTH = 10  # the keyword hits that show whether an expansion was found (the first page)


class Retriever:
    def __init__(self, config: Config, rewriter: QueryRewriter, embed: Callable[[str], np.ndarray],
                 sentences: SentenceReranker):
        self.config, self.rewriter, self.embed = config, rewriter, embed
        self.sentences = sentences  # optional sentence-level re-scoring (config.sentences.rerank)

    def retrieve(self, snap: Snapshot, parsed: ParsedQuery, mode: str, filters: Filters) -> Retrieval:
        n = self.config.retrieval.candidates
        strict = is_strict(parsed.root)  # quoted phrases / AND / NOT: every hit must satisfy them
        # The keyword side runs in every mode: in semantic mode it only tells which hits match literally.
        # A constrained query lets semantics only re-rank keyword matches: fetch enough of them.
        limit = self.config.retrieval.strict_candidates if strict and mode != "keyword" else n
        # The bridge only in hybrid mode: there the query vector exists anyway; keyword mode stays the typed
        # words (and the lexicon's), with no model call.
        bridge = self._bridge(snap, parsed) if mode == "hybrid" else ()
        expanded = self.rewriter.keyword_query(parsed, bridge) if mode != "semantic" else parsed
        keyword = snap.keyword(expanded, limit, filters)
        literal_q = literal_query(parsed)
        literal = set(snap.matching(literal_q, filters))
        official, backed = self._official(snap, parsed, filters, literal, keyword[:EXPANSION_EVIDENCE_DEPTH],
                                          bridge) if mode != "semantic" else ({}, False)
        matched = literal | set(official) if official else literal
        if mode == "keyword":
            fused, near = single("keyword", keyword), set()
        else:
            semantic, cosines = self._semantic(snap, parsed, filters, [cid for cid, _ in keyword] if strict else None)
            near = {cid for cid, _ in semantic} - matched  # cut at the floor below
            if mode == "semantic":
                fused = single("semantic", semantic)
            else:
                # "Expanded" (BM25 leads) only when official terms were added, not for a statement's clauses.
                # ... and, with fusion.expanded_needs_hit, only when a top keyword hit holds one of them: else the
                # keyword list rests on the typed words alone, and the query's own weights apply (issue 27).
                terms = bool(self.rewriter.official_terms(parsed))
                plan = fusion_plan(parsed, self.config,
                                   terms and (backed or not self.config.fusion.expanded_needs_hit))
                fused = fuse({"keyword": keyword[:n], "semantic": semantic}, plan.weights(), plan.method, plan.k,
                             plan.norm, plan.confidence)
        kept = matched  # not changed in place: a copy of ~16,000 ids for a common word costs a millisecond
        if query_kind(parsed) is not QueryKind.LOOKUP:
            # A query in the user's own words: keyword hits through a heading or title that names its words
            # stay results (measured: dropping them cost keyword-mode nDCG on practice questions); they
            # come from the top k, like near-meaning hits, and count as such (not literal, estimated).
            ranked_kw = {cid for cid, _ in keyword[:n]} - matched
            near |= ranked_kw
            kept = kept | ranked_kw
        fused = [f for f in fused if f.chunk_id in matched or f.chunk_id in near]
        if mode != "keyword":
            # Hits only near in meaning must pass the floor (higher for fragments, and when no report has any
            # of the query's words -- all reports: a facet count must not depend on other filters).
            known = bool(kept) or bool(snap.keyword(self.rewriter.keyword_query(parsed), 1, Filters()))
            fused = above_floor(snap, fused, kept, cosines, self.config, known)
            near = {f.chunk_id for f in fused} - matched
        if mode != "semantic" and is_statement(parsed):
            fused = self._verbatim_first(snap, parsed, filters, fused)
        for f in fused:
            f.official = official.get(f.chunk_id, ())

        def rank_literal(n: int | None) -> list[int]:
            """The first n literal matches outside the fused list (all for None), best keyword score first:
            a top k of the full ranking is its head (test_the_full_text_top_k_is_the_head_of_the_full_ranking)."""
            inside = {f.chunk_id for f in fused}
            depth = len(literal) if n is None else min(len(literal), n + len(literal & inside))
            return [cid for cid, _ in snap.keyword(literal_q, depth, filters) if cid not in inside]

        return Retrieval(fused, literal, official, near, rank_literal)

    def _verbatim_first(self, snap: Snapshot, parsed: ParsedQuery, filters: Filters,
                        fused: list[Fused]) -> list[Fused]:
        """A pasted statement: the paragraphs holding it verbatim (punctuation aside) first, in fused order --
        the original wording is what the user looks for, however the two sides weigh paraphrases."""
        verbatim = set(snap.matching(dataclasses.replace(parsed, root=exact(parsed.text)), filters))
        if not verbatim:
            return fused
        inside = {f.chunk_id for f in fused}
        top = fused[0].score if fused else 0.0
        missing = [Fused(cid, top) for cid in sorted(verbatim - inside)]
        return [f for f in fused if f.chunk_id in verbatim] + missing + [f for f in fused if f.chunk_id not in verbatim]

    def _bridge(self, snap: Snapshot, parsed: ParsedQuery) -> tuple[str, ...]:
        """The corpus's terms nearest to a term looked up (search/bridge.py): the query vector is the one the
        semantic side uses (encoded once per query text, cached), the lookup one matrix product."""
        settings = self.config.rewrite
        if not wants_bridge(parsed, settings):
            return ()
        table = snap.term_table()
        text = parsed.semantic_text.strip()
        if table is None or not text:
            return ()
        return bridge_terms(table, self.embed(text), parsed, settings, self.rewriter.official_terms(parsed))

    def _official(self, snap: Snapshot, parsed: ParsedQuery, filters: Filters, literal: set[int],
                  top: Ranked, bridge: tuple[str, ...] = ()) -> tuple[dict[int, tuple[str, ...]], bool]:
        """Paragraphs that hold an official term the expansion or the bridge added but do not match as typed:
        which terms; and whether any of the `top` keyword hits holds one of the lexicon's (the expansion is
        what the keyword list found: search/routing.py lets BM25 lead then)."""
        out: dict[int, tuple[str, ...]] = {}
        head = {cid for cid, _ in top}
        backed = False
        lexicon = self.rewriter.official_terms(parsed)
        for term in (*lexicon, *bridge):
            for cid in snap.matching(term_query(parsed, term), filters):
                if cid not in literal:
                    out[cid] = out.get(cid, ()) + (term,)
                if not backed and cid in head and term in lexicon:
                    backed = True
        return out, backed

    def _semantic(self, snap: Snapshot, parsed: ParsedQuery, filters: Filters,
                  within: list[int] | None) -> tuple[Ranked, dict[int, float]]:
        """Nearest in meaning (among `within` only, for a constrained query: its keyword matches), re-scored
        by their best sentence for a sentence-like query; and their paragraph cosines, which the relevance
        floor is calibrated on (search/floor.py)."""
        text = parsed.semantic_text.strip()
        if not text:
            return [], {}
        ranked = snap.semantic(self.embed(text), self.config.retrieval.candidates, filters, within)
        near = dict(ranked)
        if not sentence_like(parsed):
            return ranked, near
        weight = self.config.sentences.statement_weight if is_statement(parsed) else self.config.sentences.weight
        return self.sentences.semantic(ranked, self.embed(text), snap, weight), near
