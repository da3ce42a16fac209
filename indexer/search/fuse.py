"""Rank fusion of the keyword and semantic lists.

Weighted reciprocal rank fusion: score(d) = Σ_r w_r / (k + rank_r(d)). Rank-based, so BM25 scores and
cosines need no common scale; the weights let the query decide which retriever leads (see searcher).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Fused:
    chunk_id: int
    score: float
    ranks: dict[str, int] = field(default_factory=dict)  # retriever -> 1-based rank
    scores: dict[str, float] = field(default_factory=dict)  # retriever -> its own score


def rrf(lists: dict[str, list[tuple[int, float]]], weights: dict[str, float], k: int) -> list[Fused]:
    """Fuse ranked lists of (chunk_id, score); ties keep the order of the first list that has them."""
    fused: dict[int, Fused] = {}
    for name, hits in lists.items():
        weight = weights.get(name, 1.0)
        for rank, (chunk_id, score) in enumerate(hits, start=1):
            entry = fused.get(chunk_id)
            if entry is None:
                entry = fused[chunk_id] = Fused(chunk_id, 0.0)
            entry.score += weight / (k + rank)
            entry.ranks[name] = rank
            entry.scores[name] = score
    return sorted(fused.values(), key=lambda f: -f.score)


def single(name: str, hits: list[tuple[int, float]]) -> list[Fused]:
    """One retriever's list in the same shape as a fused one."""
    return [Fused(cid, score, {name: rank}, {name: score}) for rank, (cid, score) in enumerate(hits, start=1)]
