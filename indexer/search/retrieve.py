"""One query's ranked candidates from a snapshot: keyword and semantic lists, fused by the query's plan
(search/routing.py), hits only near in meaning cut at the semantic floor."""
from __future__ import annotations

from typing import Callable

import numpy as np

from indexer.base.filters import Filters
from indexer.base.querytree import ParsedQuery, is_strict
from indexer.config import Config
from indexer.engines.base import Ranked, Snapshot
from indexer.search.fuse import Fused, fuse, single
from indexer.search.rewrite import QueryRewriter
from indexer.search.routing import fusion_plan, is_statement, sentence_like
from indexer.search.sentences import SentenceReranker

STRICT_CANDIDATES = 1000


class Retriever:
    def __init__(self, config: Config, rewriter: QueryRewriter, embed: Callable[[str], np.ndarray],
                 sentences: SentenceReranker):
        self.config, self.rewriter, self.embed = config, rewriter, embed
        self.sentences = sentences  # optional sentence-level re-scoring (config.sentence_rerank)

    def retrieve(self, snap: Snapshot, parsed: ParsedQuery, mode: str,
                 filters: Filters) -> tuple[list[Fused], set[int]]:
        """The ranked candidates (those the keyword side did not find and whose similarity is below
        Config.semantic_floor cut off) and the ids that match the query as typed (the literal matches)."""
        n = self.config.candidates
        strict = is_strict(parsed.root)  # quoted phrases / AND / NOT: every hit must satisfy them
        # The keyword side runs in every mode: in semantic mode it only tells which hits match literally.
        # A constrained query lets semantics only re-rank keyword matches: fetch enough of them.
        limit = STRICT_CANDIDATES if strict and mode != "keyword" else n
        # Everyday words add official terms on the keyword side (search/rewrite.py); a hit found only
        # through such a term is not a literal match of what the user typed, so "literal" asks the typed query.
        expanded = self.rewriter.keyword_query(parsed) if mode != "semantic" else parsed
        keyword = snap.keyword(expanded, limit, filters)
        found = {cid for cid, _ in keyword}
        if expanded is parsed:
            literal = found
        else:
            literal = {cid for cid, _ in snap.keyword(parsed, limit, filters)}
        if mode == "keyword":
            return single("keyword", keyword), literal
        semantic, near = self._semantic(snap, parsed, filters, [cid for cid, _ in keyword] if strict else None)
        if mode == "semantic":
            fused = single("semantic", semantic)
        else:
            plan = fusion_plan(parsed, self.config, expanded is not parsed)
            fused = fuse({"keyword": keyword[:n], "semantic": semantic}, plan.weights(), plan.method, plan.k,
                         plan.norm, plan.confidence)
        return self._above_floor(fused, found | near), literal

    def _semantic(self, snap: Snapshot, parsed: ParsedQuery, filters: Filters,
                  within: list[int] | None) -> tuple[Ranked, set[int]]:
        """Nearest in meaning (among `within` only, for a constrained query: its keyword matches), re-scored
        by their best sentence for a sentence-like query; and the ids whose paragraph cosine alone passes
        the relevance floor (calibrated on paragraph cosines: sentence matching re-orders, it never drops
        what the paragraph's own similarity keeps)."""
        text = parsed.semantic_text.strip()
        if not text:
            return [], set()
        ranked = snap.semantic(self.embed(text), self.config.candidates, filters, within)
        floor = self.config.semantic_floor
        near = {cid for cid, cos in ranked if cos >= floor} if floor > 0 else set()
        if not sentence_like(parsed):
            return ranked, near
        weight = self.config.statement_sentence_weight if is_statement(parsed) else self.config.sentence_weight
        return self.sentences.semantic(ranked, self.embed(text), snap, weight), near

    def _above_floor(self, fused: list[Fused], kept: set[int]) -> list[Fused]:
        """Drop hits (not in `kept`) that are only near in meaning, and not near enough: a vector search always returns
        neighbours, even for a query the corpus knows nothing about (calibrated: scripts/calibrate_floor.py)."""
        floor = self.config.semantic_floor
        if floor <= 0:
            return fused
        return [f for f in fused if f.chunk_id in kept or f.scores.get("semantic", 0.0) >= floor]
