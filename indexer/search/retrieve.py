"""One query's ranked candidates from a snapshot: keyword and semantic lists, fused by the query's plan
(search/routing.py), hits only near in meaning cut at the semantic floor."""
from __future__ import annotations

from typing import Callable

import numpy as np

from indexer.base.filters import Filters
from indexer.base.querytree import ParsedQuery, is_strict
from indexer.config import Config
from indexer.engines.base import Ranked, Snapshot
from indexer.search.floor import above_floor
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
        semantic, cosines = self._semantic(snap, parsed, filters, [cid for cid, _ in keyword] if strict else None)
        if mode == "semantic":
            fused = single("semantic", semantic)
        else:
            plan = fusion_plan(parsed, self.config, expanded is not parsed)
            fused = fuse({"keyword": keyword[:n], "semantic": semantic}, plan.weights(), plan.method, plan.k,
                         plan.norm, plan.confidence)
        # Do the reports (all of them: a facet count must not depend on other filters) have any of the query's
        # words, or an official term for them?
        known = bool(found) or bool(snap.keyword(self.rewriter.keyword_query(parsed), 1, Filters()))
        return above_floor(snap, fused, found, cosines, self.config, known), literal

    def _semantic(self, snap: Snapshot, parsed: ParsedQuery, filters: Filters,
                  within: list[int] | None) -> tuple[Ranked, dict[int, float]]:
        """Nearest in meaning (among `within` only, for a constrained query: its keyword matches), re-scored
        by their best sentence for a sentence-like query; and their paragraph cosines, which the relevance
        floor is calibrated on (search/floor.py)."""
        text = parsed.semantic_text.strip()
        if not text:
            return [], {}
        ranked = snap.semantic(self.embed(text), self.config.candidates, filters, within)
        near = dict(ranked)
        if not sentence_like(parsed):
            return ranked, near
        weight = self.config.statement_sentence_weight if is_statement(parsed) else self.config.sentence_weight
        return self.sentences.semantic(ranked, self.embed(text), snap, weight), near
