"""What an evaluation run produces: the ranking of each query in each mode and its metrics. Shared by the
evaluation of the search (run.py) and of the naive baseline (baseline.py)."""
from __future__ import annotations

from dataclasses import dataclass, field

from indexer.evaluation.datasets import Dataset
from indexer.evaluation.metrics import Summary, summarize


@dataclass
class RankedUnit:
    """One position of an evaluated ranking: the hit shown there and the judged units it matches."""

    key: str  # document path (id-level) or path#chunk_id, as written to TREC runs
    score: float
    units: dict[str, int]


@dataclass
class QueryResult:
    qid: str
    kind: str
    query: str
    mode: str
    ranking: list[RankedUnit]
    metrics: dict[str, float]
    took_ms: float

    @property
    def first_relevant(self) -> int | None:
        return next((i for i, r in enumerate(self.ranking, 1) if r.units), None)


@dataclass
class EvalResult:
    dataset: Dataset
    results: dict[str, list[QueryResult]] = field(default_factory=dict)  # mode -> per query

    def summary(self, mode: str, kind: str | None = None) -> Summary:
        rows = [r.metrics for r in self.results[mode] if kind is None or r.kind == kind]
        return summarize(rows)

    def table(self) -> dict[str, dict[str, dict[str, float]]]:
        """mode -> kind (and "all") -> metric -> mean."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for mode in self.results:
            out[mode] = {k: self.summary(mode, k).values for k in self.dataset.kinds()}
            out[mode]["all"] = self.summary(mode).values
        return out
