"""The naive pipeline every mode of ours must beat (`reportsearch eval --baseline`, issue 12 direction 0).

Deliberately plain, as anyone would first build it: one unit per paragraph (passage-level sets: each
non-heading paragraph of each parsed file; id-level sets: each passage's text, title left out),
`jieba.cut_for_search` with jieba's stock dictionary, Okapi BM25 (k1 1.2, b 0.75), m3e-small on the bare
paragraph text (cosine, exact), and equal-weight reciprocal rank fusion (k = 60) of the two top-100 lists.
Nothing of our index, analyzer, routing or fusion is used, so it is a floor, not a variant of ours.
"""
from __future__ import annotations

import logging
import math
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from indexer.core.config import Config
from indexer.evaluation.datasets import Dataset, corpus_documents, passage_file
from indexer.evaluation.metrics import score_query
from indexer.evaluation.results import EvalResult, QueryResult, RankedUnit
from indexer.pipeline.ingest import parse_file
from indexer.pipeline.load import LoadError
from indexer.pipeline.scan import scan_corpus
from indexer.storage.vectors import Encoder
from indexer.storage.vectors.cache import EmbeddingCache
from indexer.storage.vectors.encoder import cache_key

log = logging.getLogger(__name__)

K1, B = 1.2, 0.75
RRF_K = 60
DEPTH = 100


@dataclass(frozen=True)
class Unit:
    path: str  # document path (the passage's file name for id-level sets)
    text: str


def units(dataset: Dataset, config: Config) -> list[Unit]:
    """The paragraphs the naive pipeline ranks."""
    if dataset.kind == "id":
        return [Unit(passage_file(d.path), d.paragraphs[0].text) for d in corpus_documents(dataset.root)]
    if dataset.corpus_dir is None:
        raise ValueError(f"{dataset.root}: cannot tell which corpus it judges; pass --corpus")
    out: list[Unit] = []
    for f in scan_corpus(dataset.corpus_dir).files:
        try:
            doc = parse_file(f.abs_path, f.rel_path, config.ingest.max_file_bytes)
        except LoadError as exc:
            log.warning("baseline skips %s: %s", f.rel_path, exc)
            continue
        out.extend(Unit(doc.path, p.text) for p in doc.paragraphs if not p.is_heading and p.text.strip())
    return out


def _words(text: str) -> list[str]:
    import jieba

    return [w for w in jieba.cut_for_search(text) if any(c.isalnum() for c in w)]


class BM25:
    """Okapi BM25 over in-memory postings (idf as Lucene: ln(1 + (N - df + 0.5) / (df + 0.5)))."""

    def __init__(self, docs: Sequence[str]):
        self.postings: dict[str, list[tuple[int, int]]] = {}
        lengths = []
        for i, text in enumerate(docs):
            tf = Counter(_words(text))
            lengths.append(sum(tf.values()))
            for w, n in tf.items():
                self.postings.setdefault(w, []).append((i, n))
        self.lengths = np.array(lengths, dtype=np.float64)
        self.avg = float(self.lengths.mean()) if len(lengths) else 0.0
        self.n = len(lengths)

    def search(self, query: str, limit: int) -> list[tuple[int, float]]:
        scores = np.zeros(self.n)
        for w in set(_words(query)):
            post = self.postings.get(w)
            if not post:
                continue
            idf = math.log(1 + (self.n - len(post) + 0.5) / (len(post) + 0.5))
            idx = np.fromiter((i for i, _ in post), dtype=np.int64, count=len(post))
            tf = np.fromiter((n for _, n in post), dtype=np.float64, count=len(post))
            norm = K1 * (1 - B + B * self.lengths[idx] / self.avg)
            scores[idx] += idf * tf * (K1 + 1) / (tf + norm)
        hits = np.flatnonzero(scores > 0)
        top = hits[np.argsort(-scores[hits], kind="stable")][:limit]
        return [(int(i), float(scores[i])) for i in top]


def _embed(texts: list[str], encoder: Encoder, cache_path: Path) -> np.ndarray:
    cache = EmbeddingCache(cache_path, cache_key(encoder.name, encoder.backend))
    try:
        return cache.encode(texts, encoder)
    finally:
        cache.close()


def rrf(lists: Sequence[list[tuple[int, float]]], k: int = RRF_K) -> list[tuple[int, float]]:
    fused: dict[int, float] = {}
    for hits in lists:
        for rank, (i, _) in enumerate(hits, start=1):
            fused[i] = fused.get(i, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda kv: -kv[1])


def evaluate_baseline(dataset: Dataset, config: Config, encoder: Encoder | None = None,
                      modes: Sequence[str] = ("keyword", "semantic", "hybrid")) -> EvalResult:
    """The naive pipeline's metrics, in the same shape as `run.evaluate`'s."""
    paras = units(dataset, config)
    bm25 = BM25([u.text for u in paras])
    encoder = encoder or Encoder(config.embedding.model, config.embedding.batch_size)
    cache = config.embedding.cache or Path(".bench") / "embeddings.sqlite"
    matrix = _embed([u.text for u in paras], encoder, cache)
    result = EvalResult(dataset)
    for mode in modes:
        result.results[mode] = []
    for q in dataset.queries:
        t0 = time.perf_counter()
        keyword = bm25.search(q.text, DEPTH)
        scores = matrix @ encoder.encode([q.text])[0]
        top = np.argsort(-scores)[:DEPTH]
        semantic = [(int(i), float(scores[i])) for i in top]
        took = (time.perf_counter() - t0) * 1000
        lists = {"keyword": keyword, "semantic": semantic, "hybrid": rrf([keyword, semantic])}
        judged = {j.unit: j.grade for j in q.judgments}
        for mode in modes:
            ranking: list[RankedUnit] = []
            seen: set[str] = set()
            for i, score in lists[mode]:
                u = paras[i]
                key = u.path if dataset.kind == "id" else f"{u.path}#{i}"
                if key in seen:
                    continue
                seen.add(key)
                ranking.append(RankedUnit(key, score, q.units_of(u.path, u.text)))
            ranking = ranking[:DEPTH]
            metrics = score_query([r.units for r in ranking], judged)
            result.results[mode].append(QueryResult(q.qid, q.kind, q.text, mode, ranking, metrics, took))
    return result
