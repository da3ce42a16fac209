"""Rank fusion of the keyword and semantic lists.

Two methods, chosen by `Config.fusion.method` (measurements in docs/evaluation.md):
- "rrf": weighted reciprocal rank fusion, score(d) = Σ_r w_r / (k + rank_r(d)). Rank-based, so BM25
  scores and cosines need no common scale.
- "convex": each list's scores normalised (min-max or z-score) and combined as Σ_r w_r · norm_r(d); a
  chunk missing from a list gets that list's floor (0 after min-max). Keeps *how much* better the top hit
  is, which ranks throw away: a BM25 list with one exact-term hit far ahead stays far ahead.
The weights come from the query (see routing), so keyword lookups lean lexical and questions semantic.

Confidence (`Config.fusion.confidence`, γ): with z-scores, each list's weight is also scaled by its top
hit's z-score to the power γ. A list whose best hit stands far above the rest of its candidates (BM25 with
one chunk holding all the rare words; a cosine clearly above the crowd) leads; a flat list (the embedding
model finding everything about equally similar) gives way. Chosen by leave-one-set-out cross-validation
(docs/evaluation.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

FUSION_METHODS = ("rrf", "convex")
NORMALIZERS = ("minmax", "zscore")
# z-score of a chunk a list did not return: one standard deviation below the worst it did return
# (it ranked below all of them); measured slightly better than "just below" on both sets.
ABSENT_Z = 1.0


@dataclass
class Fused:
    chunk_id: int
    score: float
    ranks: dict[str, int] = field(default_factory=dict)  # retriever -> 1-based rank
    scores: dict[str, float] = field(default_factory=dict)  # retriever -> its own score
    # The official terms (口语→公文 expansion) the paragraph holds when it matches only through them.
    official: tuple[str, ...] = ()


def _collect(lists: dict[str, list[tuple[int, float]]]) -> dict[int, Fused]:
    fused: dict[int, Fused] = {}
    for name, hits in lists.items():
        for rank, (chunk_id, score) in enumerate(hits, start=1):
            entry = fused.get(chunk_id)
            if entry is None:
                entry = fused[chunk_id] = Fused(chunk_id, 0.0)
            if name not in entry.ranks:  # a retriever may list a chunk once; keep its best rank
                entry.ranks[name] = rank
                entry.scores[name] = score
    return fused


def _sorted(fused: dict[int, Fused]) -> list[Fused]:
    # Ties: the order in which chunks were first listed (dicts keep insertion order; sort is stable).
    return sorted(fused.values(), key=lambda f: -f.score)


def rrf(lists: dict[str, list[tuple[int, float]]], weights: dict[str, float], k: float) -> list[Fused]:
    """Fuse ranked lists of (chunk_id, score); ties keep the order of the first list that has them."""
    fused = _collect(lists)
    for entry in fused.values():
        entry.score = sum(weights.get(name, 1.0) / (k + rank) for name, rank in entry.ranks.items())
    return _sorted(fused)


def normalize(scores: list[float], method: str) -> tuple[list[float], float]:
    """Normalised scores and the floor a chunk absent from the list gets."""
    if not scores:
        return [], 0.0
    if method == "zscore":
        mean = sum(scores) / len(scores)
        std = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores))
        if std == 0:
            return [0.0] * len(scores), -ABSENT_Z
        out = [(s - mean) / std for s in scores]
        return out, min(out) - ABSENT_Z
    if method != "minmax":
        raise ValueError(f"unknown score normalisation {method!r}; choose from {', '.join(NORMALIZERS)}")
    lo, hi = min(scores), max(scores)
    if hi == lo:
        return [1.0] * len(scores), 0.0
    return [(s - lo) / (hi - lo) for s in scores], 0.0


MIN_CONFIDENCE = 0.05  # a list whose top z-score is at most this still counts a little


def convex(lists: dict[str, list[tuple[int, float]]], weights: dict[str, float], method: str = "minmax",
           confidence: float = 0.0) -> list[Fused]:
    """Σ_r w_r · c_r · norm_r(score), c_r = (top z-score of list r) ** confidence (1 without z-scores)."""
    fused = _collect(lists)
    for name, hits in lists.items():
        weight = weights.get(name, 1.0)
        norm, floor = normalize([s for _, s in hits], method)
        if confidence and method == "zscore" and norm:
            weight *= max(norm[0], MIN_CONFIDENCE) ** confidence
        by_id: dict[int, float] = {}
        for (chunk_id, _), value in zip(hits, norm):
            by_id.setdefault(chunk_id, value)
        for chunk_id, entry in fused.items():
            entry.score += weight * by_id.get(chunk_id, floor)
    return _sorted(fused)


def fuse(lists: dict[str, list[tuple[int, float]]], weights: dict[str, float], method: str, k: float,
         normalization: str = "minmax", confidence: float = 0.0) -> list[Fused]:
    if method == "rrf":
        return rrf(lists, weights, k)
    if method == "convex":
        return convex(lists, weights, normalization, confidence)
    raise ValueError(f"unknown fusion method {method!r}; choose from {', '.join(FUSION_METHODS)}")


def single(name: str, hits: list[tuple[int, float]]) -> list[Fused]:
    """One retriever's list in the same shape as a fused one."""
    return [Fused(cid, score, {name: rank}, {name: score}) for rank, (cid, score) in enumerate(hits, start=1)]
