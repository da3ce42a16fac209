"""Ranking metrics over judged units: nDCG@10, MRR@10, Recall@10, Recall@100.

A ranked list is given as, per rank, the judged units (unit -> grade) that hit matches. Each unit counts
once, at the first rank that matches it; a hit's gain is the highest grade among the units it is the first
to match (linear gain, as trec_eval). Ideal DCG places every judged unit at its own rank, best grade first.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import fmean
from typing import Mapping, Sequence

METRICS = ("ndcg@10", "mrr@10", "recall@10", "recall@100")


def ndcg(matches: Sequence[Mapping[str, int]], judged: Mapping[str, int], k: int = 10) -> float:
    credited: set[str] = set()
    dcg = 0.0
    for rank, units in enumerate(matches[:k], start=1):
        new = {u: g for u, g in units.items() if u not in credited and g > 0}
        if new:
            credited.update(new)
            dcg += max(new.values()) / math.log2(rank + 1)
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg else 0.0


def mrr(matches: Sequence[Mapping[str, int]], k: int = 10) -> float:
    for rank, units in enumerate(matches[:k], start=1):
        if any(g > 0 for g in units.values()):
            return 1.0 / rank
    return 0.0


def recall(matches: Sequence[Mapping[str, int]], judged: Mapping[str, int], k: int) -> float:
    relevant = {u for u, g in judged.items() if g > 0}
    if not relevant:
        return 0.0
    found = {u for units in matches[:k] for u, g in units.items() if g > 0}
    return len(found & relevant) / len(relevant)


def score_query(matches: Sequence[Mapping[str, int]], judged: Mapping[str, int]) -> dict[str, float]:
    return {
        "ndcg@10": ndcg(matches, judged, 10),
        "mrr@10": mrr(matches, 10),
        "recall@10": recall(matches, judged, 10),
        "recall@100": recall(matches, judged, 100),
    }


@dataclass
class Summary:
    queries: int
    values: dict[str, float]


def summarize(per_query: Sequence[Mapping[str, float]]) -> Summary:
    return Summary(len(per_query), {m: fmean(q[m] for q in per_query) if per_query else 0.0 for m in METRICS})


def score_ranking(ds, q, ranking: Sequence[int], info: Mapping[int, tuple[str, str]]) -> dict[str, float]:
    """Metrics of one query's ranked chunk ids, for the lab scripts that re-rank collected candidate lists:
    `info` maps a chunk id to (path, text); an id-judged set (STARD) counts each passage once; depth 100."""
    matches, seen = [], set()
    for cid in ranking:
        path, text = info[cid]
        if ds.kind == "id":
            if path in seen:
                continue
            seen.add(path)
        matches.append(q.units_of(path, text))
        if len(matches) >= 100:
            break
    return score_query(matches, {j.unit: j.grade for j in q.judgments})


@dataclass
class MatchCounts:
    """Predictions against a truth: how many of each, and how many agree (an empty side scores 1.0)."""

    truth: int = 0
    predicted: int = 0
    matched: int = 0

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.truth if self.truth else 1.0
