"""Sentence vectors of every chunk, stored per generation (issue 12, direction 4).

A wording query targets one sentence inside a paragraph, and the paragraph's vector dilutes it; the search
side re-scores its best semantic candidates by their best sentence (indexer/search/sentences.py). Encoding
those sentences at query time would cost ~3 encodes per candidate, so the build stores them:

    sentence_vectors.npy   float16 (sentences × dim), L2-normalised by the encoder; float16 halves the file
                           and changes cosines by < 1e-3
    sentence_spans.npy     int64 (chunks × 3): chunk id, first row, end row; sorted by chunk id

Both are memory-mapped when a snapshot opens, so a query reads only its candidates' rows. They are
derived data: a generation without them (built before, or damaged) still serves, with the sentences of the
candidates encoded at query time instead.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from indexer.pipeline.chunk import sentence_spans

log = logging.getLogger(__name__)

MIN_SENTENCE_CHARS = 4  # shorter pieces (一、, （二）) carry no meaning of their own


def chunk_sentences(text: str) -> list[str]:
    """The sentences a chunk is matched by; none when it is one sentence (or less): its best sentence is
    itself, which the chunk's own vector already stands for (and stays as is, context included), so a
    third of a report corpus's chunks and most statute articles need no sentence vectors at all."""
    return [text[start:end] for start, end in chunk_sentence_spans(text)]


def chunk_sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where each of `chunk_sentences(text)` is in `text`: row i of a chunk's stored vectors is span i."""
    found = [(a, b) for a, b in sentence_spans(text) if len(text[a:b].strip()) >= MIN_SENTENCE_CHARS]
    return found if len(found) > 1 else []


def write_sentence_vectors(vectors_path: Path, spans_path: Path, chunk_ids: Sequence[int],
                           counts: Sequence[int], matrix: np.ndarray) -> None:
    """Store `matrix` (rows: the sentences of chunk_ids[0], then of chunk_ids[1], …; `counts` per chunk)."""
    ids = np.asarray(chunk_ids, dtype=np.int64)
    ends = np.cumsum(np.asarray(counts, dtype=np.int64))
    starts = ends - np.asarray(counts, dtype=np.int64)
    spans = np.stack([ids, starts, ends], axis=1) if len(ids) else np.zeros((0, 3), dtype=np.int64)
    spans = spans[np.argsort(spans[:, 0], kind="stable")]
    if len(matrix) != (int(ends[-1]) if len(ends) else 0):
        raise ValueError(f"{len(matrix)} sentence vectors for {int(ends[-1]) if len(ends) else 0} sentences")
    np.save(vectors_path, np.ascontiguousarray(matrix, dtype=np.float16))
    np.save(spans_path, spans)


class SentenceVectors:
    """The stored sentence vectors of one generation, memory-mapped."""

    def __init__(self, matrix: np.ndarray, spans: np.ndarray):
        self._matrix = matrix
        self._spans = spans
        self._ids = spans[:, 0]

    @classmethod
    def load(cls, vectors_path: Path, spans_path: Path) -> "SentenceVectors | None":
        """The stored vectors, or None when the generation has none or they cannot be read (logged: the
        search then encodes the candidates' sentences at query time)."""
        if not vectors_path.exists() and not spans_path.exists():
            return None
        try:
            matrix = np.load(vectors_path, mmap_mode="r")
            spans = np.load(spans_path, mmap_mode="r")
            if matrix.ndim != 2 or spans.ndim != 2 or spans.shape[1] != 3 or (len(spans) and
                                                                              int(spans[:, 2].max()) > len(matrix)):
                raise ValueError(f"shapes {matrix.shape} and {spans.shape} do not fit together")
        except (OSError, ValueError) as exc:
            log.warning("sentence vectors %s unreadable (%s): sentences are encoded at query time until the "
                        "next `reportsearch index`", vectors_path, exc)
            return None
        return cls(matrix, np.asarray(spans))

    @property
    def dim(self) -> int:
        return int(self._matrix.shape[1])

    def __len__(self) -> int:
        return int(self._matrix.shape[0])

    def of(self, chunk_ids: Iterable[int]) -> dict[int, np.ndarray]:
        """{chunk id: its sentences' vectors as float32 rows}; ids the generation does not hold are left out."""
        want = np.fromiter(chunk_ids, dtype=np.int64)
        if not len(want) or not len(self._ids):
            return {}
        pos = np.searchsorted(self._ids, want)
        pos[pos >= len(self._ids)] = 0
        out: dict[int, np.ndarray] = {}
        for cid, p in zip(want.tolist(), pos.tolist()):
            if int(self._ids[p]) == cid:
                _, start, end = self._spans[p]
                out[cid] = np.asarray(self._matrix[int(start):int(end)], dtype=np.float32)
        return out
