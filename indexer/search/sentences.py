"""Sentence-level matching (issue 12, direction 4): a wording query or a question targets one sentence
inside a paragraph, and the paragraph's vector dilutes it. The semantic list's top `sentence_candidates`
are re-scored, before fusion, by (1 − w) · chunk cosine + w · best sentence cosine (w = `sentence_weight`
for a question, `statement_sentence_weight` for a statement; best = max over the chunk's sentences), so
fusion and routing work on the sharper similarity. Measured in docs/evaluation.md ("Sentence matching").

Only for sentence-like queries: a lookup (a term, a quoted phrase, operators; search/routing.py) has no
sentence to match, and re-scoring it by single sentences only reshuffles equally good term hits.

The sentence vectors come from the snapshot (stored by the build, vectors/sentence_vectors.py). A snapshot
without them (an index built before, or the Milvus engine) has the candidates' sentences encoded here,
through the index's embedding cache (which the build filled with them) and an in-memory LRU.
"""
from __future__ import annotations

import logging
from typing import Callable

import numpy as np

from indexer.core.lru import LruCache
from indexer.storage.vectors.sentence_vectors import chunk_sentence_spans, chunk_sentences

log = logging.getLogger(__name__)

SENTENCE_RERANK_STAGES = ("off", "semantic")
_MEMORY_VECTORS = 50_000  # sentence vectors kept in memory by the query-time fallback


class EncodedSentences:
    """The fallback for snapshots that store no sentence vectors: encode (or fetch from the cache) the
    sentences of the asked chunks."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], cache: Callable[[str], object] | None = None,
                 model: Callable[[], str] = lambda: ""):
        self._encode = encode
        self._model = model  # the encoding model's name: vectors are kept per model (an adapted index's)
        self._memory: LruCache[tuple[str, str], np.ndarray] = LruCache(_MEMORY_VECTORS)
        self._open_cache = cache  # model name -> an EmbeddingCache, or None
        self._disks: dict[str, object] = {}

    def close(self) -> None:
        for disk in self._disks.values():
            if disk is not None:
                disk.close()

    def _disk(self, model: str):
        if model not in self._disks:
            self._disks[model] = self._open_cache(model) if self._open_cache is not None else None
        return self._disks[model]

    def vectors(self, texts: dict[int, str]) -> dict[int, np.ndarray]:
        """{chunk id: its sentences' vectors}."""
        per = {cid: chunk_sentences(text) for cid, text in texts.items()}
        model = self._model()
        disk = self._disk(model)
        wanted = list(dict.fromkeys(s for sents in per.values() for s in sents))
        found = {t: v for t in wanted if (v := self._memory.get((model, t))) is not None}
        missing = [t for t in wanted if t not in found]
        if missing and disk is not None:
            for i, vec in disk.get_many(missing).items():
                found[missing[i]] = vec
            missing = [t for t in missing if t not in found]
        if missing:
            vecs = self._encode(missing)
            if disk is not None:
                disk.put_many(missing, vecs)
            found.update(zip(missing, vecs))
        for t in wanted:
            self._memory.put((model, t), found[t])
        return {cid: np.stack([found[s] for s in sents]) for cid, sents in per.items() if sents}


def rerank_semantic(semantic: list[tuple[int, float]], qvec: np.ndarray,
                    vectors: Callable[[list[int]], dict[int, np.ndarray]], top: int,
                    weight: float) -> list[tuple[int, float]]:
    """The semantic list with its first `top` entries re-scored by their best sentence (see module doc);
    they stay ahead of the rest, which keeps its order and scores. A chunk without sentence vectors keeps
    its own cosine."""
    head, tail = semantic[:top], semantic[top:]
    if not head or weight <= 0:
        return semantic
    per = vectors([cid for cid, _ in head])
    mixed = []
    for cid, cos in head:
        sents = per.get(cid)
        best = float(np.max(sents @ qvec)) if sents is not None and len(sents) else cos
        mixed.append((cid, (1 - weight) * cos + weight * best))
    mixed.sort(key=lambda cs: -cs[1])
    return mixed + tail


class SentenceReranker:
    """What the retriever calls: re-scores the semantic list, or leaves it when `sentence_rerank` is "off"."""

    def __init__(self, stage: str, top: int, fallback: EncodedSentences | None):
        self.stage, self.top, self.fallback = stage, top, fallback

    @classmethod
    def from_config(cls, config, encode: Callable[[list[str]], np.ndarray],
                    model: Callable[[], str] | None = None) -> "SentenceReranker":
        """`model` names the model `encode` uses now (the snapshot's: an adapted index's); default: the
        configured one."""
        stage = config.sentences.rerank
        if stage not in SENTENCE_RERANK_STAGES:
            raise ValueError(f"setting sentence_rerank: {stage!r} is not one of {', '.join(SENTENCE_RERANK_STAGES)}")
        for name in ("sentence_weight", "statement_sentence_weight"):
            if not 0 <= config.value(name) <= 1:
                raise ValueError(f"setting {name}: {config.value(name)} is not between 0 and 1")
        fallback = None
        if stage != "off":
            fallback = EncodedSentences(encode, lambda name: _cache(config, name),
                                        model or (lambda: config.embedding.model))
        return cls(stage, config.sentences.candidates, fallback)

    @property
    def active(self) -> bool:
        return self.stage != "off"

    def semantic(self, semantic: list[tuple[int, float]], qvec: np.ndarray, snap,
                 weight: float) -> list[tuple[int, float]]:
        """`weight`: w for this query (questions and statements have their own, config.py)."""
        if not self.active or self.fallback is None or weight <= 0:
            return semantic
        return rerank_semantic(semantic, qvec, lambda ids: self._vectors(snap, ids), self.top, weight)

    def best_sentences(self, snap, qvec: np.ndarray, texts: dict[int, str]) -> dict[int, tuple[int, int]]:
        """For each chunk, the character span of its sentence closest to the query in meaning (the one its
        re-scoring used), so the sentence a hit is marked by is the one the model matched; chunks of one
        sentence, or whose stored rows do not fit their text, are left to the caller."""
        if not self.active or self.fallback is None or not texts:
            return {}
        vectors = self._vectors(snap, list(texts))
        found: dict[int, tuple[int, int]] = {}
        for cid, text in texts.items():
            spans, rows = chunk_sentence_spans(text), vectors.get(cid)
            if rows is not None and len(spans) == len(rows) > 0:
                found[cid] = spans[int(np.argmax(np.asarray(rows, dtype=np.float32) @ qvec))]
        return found

    def _vectors(self, snap, ids: list[int]) -> dict[int, np.ndarray]:
        stored = snap.sentence_vectors(ids)
        if stored is not None:
            return stored
        texts = {cid: row.text for cid, row in snap.chunks(ids).items()}
        return self.fallback.vectors(texts)

    def close(self) -> None:
        if self.fallback is not None:
            self.fallback.close()


def _cache(config, model: str):
    """The index's embedding cache for `model`, opened lazily by sqlite; None when it cannot be opened."""
    from indexer.storage.vectors.cache import EmbeddingCache, embedding_cache_path
    from indexer.storage.vectors.encoder import cache_key

    try:
        return EmbeddingCache(embedding_cache_path(config), cache_key(model, config.embedding.backend))
    except Exception as exc:  # a read-only or missing folder: the fallback still works, from memory
        log.warning("embedding cache unavailable for sentence vectors (%s): encoding without it", exc)
        return None
