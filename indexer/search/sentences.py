"""Sentence-level matching (issue 12, direction 4): a wording query targets one sentence inside a long
paragraph, and the paragraph's vector dilutes it. The best-matching sentence of each top candidate is
found by max cosine over the candidate's sentences (same encoder as the chunk vectors) and mixed with the
paragraph's own score.

Two places to apply it (`Config.sentence_rerank`, measured in docs/evaluation.md):
- "semantic": before fusion, the semantic list's top `sentence_candidates` get
  (1 − w) · chunk cosine + w · best sentence cosine (w = `sentence_weight`), so fusion, routing and the
  relevance floor work on the sharper similarity;
- "fused": after fusion, the top `sentence_candidates` fused hits are re-ordered by
  (1 − w) · min-max(fused score) + w · min-max(best sentence cosine).
Sentence vectors are computed at query time for the candidates only (cached in memory and, when
`embedding_cache` is set, in the shared embedding cache). That is an experiment's cost model: in serving,
uncached sentences would cost ~3 encodes per candidate, so a default-on version would store sentence
vectors per generation at index time.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from indexer.chunk import sentences
from indexer.search.fuse import Fused

log = logging.getLogger(__name__)

SENTENCE_RERANK_STAGES = ("off", "semantic", "fused")
MIN_SENTENCE_CHARS = 4  # shorter pieces (一、, （二）) carry no meaning of their own
_MEMORY_VECTORS = 50_000  # in-process cache of sentence vectors


def chunk_sentences(text: str) -> list[str]:
    """The sentences a chunk is matched by; the whole text when it has no sentence of its own."""
    found = [s for s in sentences(text) if len(s.strip()) >= MIN_SENTENCE_CHARS]
    return found or [text]


class SentenceScorer:
    """Best-sentence cosine of chunks against a query vector."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], cache_path: Path | None = None,
                 model_key: str = ""):
        self._encode = encode
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._disk = None
        if cache_path is not None:
            from indexer.vectors.cache import EmbeddingCache

            self._disk = EmbeddingCache(cache_path, model_key)

    def close(self) -> None:
        if self._disk is not None:
            self._disk.close()

    def _vectors(self, texts: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for t in texts:
                if t in self._memory:
                    out[t] = self._memory[t]
        missing = [t for t in dict.fromkeys(texts) if t not in out]
        if missing and self._disk is not None:
            for i, vec in self._disk.get_many(missing).items():
                out[missing[i]] = vec
            missing = [t for t in missing if t not in out]
        if missing:
            vecs = self._encode(missing)
            if self._disk is not None:
                self._disk.put_many(missing, vecs)
            out.update(zip(missing, vecs))
        with self._lock:
            for t in texts:
                self._memory[t] = out[t]
                self._memory.move_to_end(t)
            while len(self._memory) > _MEMORY_VECTORS:
                self._memory.popitem(last=False)
        return out

    def best(self, qvec: np.ndarray, texts: dict[int, str]) -> dict[int, float]:
        """{chunk id: cosine of its best sentence to the query}."""
        per = {cid: chunk_sentences(text) for cid, text in texts.items()}
        vecs = self._vectors([s for sents in per.values() for s in sents])
        return {cid: float(max(float(vecs[s] @ qvec) for s in sents)) for cid, sents in per.items()}


def rerank_semantic(semantic: list[tuple[int, float]], qvec: np.ndarray, texts: Callable[[Iterable[int]], dict[int, str]],
                    scorer: SentenceScorer, top: int, weight: float) -> list[tuple[int, float]]:
    """The semantic list with its first `top` entries re-scored by their best sentence (see module doc);
    they stay ahead of the rest, which keeps its order and scores."""
    head, tail = semantic[:top], semantic[top:]
    if not head or weight <= 0:
        return semantic
    best = scorer.best(qvec, texts([cid for cid, _ in head]))
    mixed = [(cid, (1 - weight) * cos + weight * best.get(cid, cos)) for cid, cos in head]
    mixed.sort(key=lambda cs: -cs[1])
    return mixed + tail


def rerank_fused(fused: list[Fused], qvec: np.ndarray, texts: Callable[[Iterable[int]], dict[int, str]],
                 scorer: SentenceScorer, top: int, weight: float) -> list[Fused]:
    """The fused list with its first `top` hits re-ordered by a convex mix of min-max normalised fused
    score and best-sentence cosine; the re-ordered hits take over the original top scores in order, so
    scores still decrease down the list."""
    head, tail = fused[:top], fused[top:]
    if len(head) < 2 or weight <= 0:
        return fused
    best = scorer.best(qvec, texts([f.chunk_id for f in head]))

    def minmax(values: list[float]) -> list[float]:
        lo, hi = min(values), max(values)
        return [(v - lo) / (hi - lo) if hi > lo else 1.0 for v in values]

    nf = minmax([f.score for f in head])
    ns = minmax([best.get(f.chunk_id, 0.0) for f in head])
    order = sorted(range(len(head)), key=lambda i: -((1 - weight) * nf[i] + weight * ns[i]))
    scores = [f.score for f in head]
    out = []
    for new_score, i in zip(scores, order):
        f = head[i]
        f.scores["sentence"] = best.get(f.chunk_id, 0.0)
        f.score = new_score
        out.append(f)
    return out + tail


class SentenceReranker:
    """What the Searcher calls: the configured stage, or nothing when `sentence_rerank` is "off"."""

    def __init__(self, stage: str, weight: float, top: int, scorer: SentenceScorer | None):
        self.stage, self.weight, self.top, self.scorer = stage, weight, top, scorer

    @classmethod
    def from_config(cls, config, encode: Callable[[list[str]], np.ndarray]) -> "SentenceReranker":
        stage = config.sentence_rerank
        if stage not in SENTENCE_RERANK_STAGES:
            raise ValueError(f"setting sentence_rerank: {stage!r} is not one of {', '.join(SENTENCE_RERANK_STAGES)}")
        if not 0 <= config.sentence_weight <= 1:
            raise ValueError(f"setting sentence_weight: {config.sentence_weight} is not between 0 and 1")
        scorer = None
        if stage != "off":
            from indexer.vectors.encoder import cache_key

            scorer = SentenceScorer(encode, config.embedding_cache,
                                    cache_key(config.model, config.encoder_backend))
        return cls(stage, config.sentence_weight, config.sentence_candidates, scorer)

    @staticmethod
    def _texts(snap) -> Callable[[Iterable[int]], dict[int, str]]:
        """Chunk texts through the engine seam (engines/base.py Snapshot.chunks)."""
        return lambda ids: {cid: row.text for cid, row in snap.chunks(list(ids)).items()}

    def semantic(self, semantic: list[tuple[int, float]], qvec: np.ndarray, snap) -> list[tuple[int, float]]:
        if self.stage != "semantic" or self.scorer is None:
            return semantic
        return rerank_semantic(semantic, qvec, self._texts(snap), self.scorer, self.top, self.weight)

    def fused(self, fused: list[Fused], qvec: np.ndarray | None, snap) -> list[Fused]:
        if self.stage != "fused" or self.scorer is None or qvec is None:
            return fused
        return rerank_fused(fused, qvec, self._texts(snap), self.scorer, self.top, self.weight)

    def close(self) -> None:
        if self.scorer is not None:
            self.scorer.close()
