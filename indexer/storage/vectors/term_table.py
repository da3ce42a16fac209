"""The corpus's official terms and their vectors, stored per generation (issue 27, direction 2).

    terms.json         {"version": 1, "terms": [[term, kind], ...]}  (kind: quoted / practice / domain)
    term_vectors.npy   float16 (terms × dim), L2-normalised by the encoder, row i = term i

Collected from the generation's own paragraphs by the build (build/terms.py), embedded through the
embedding cache. Derived data: the build writes it anew each run (new terms only are encoded), and a
generation without it (built before, damaged, or the bridge off) serves without the bridge.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

VERSION = 1


@dataclass(frozen=True)
class TermTable:
    terms: tuple[str, ...]
    kinds: tuple[str, ...]
    vectors: np.ndarray  # float32 (terms × dim), for one matrix product per query

    def nearest(self, query: np.ndarray, floor: float, limit: int) -> list[tuple[str, float]]:
        """Terms by cosine with the query vector, best first, those at or above `floor` only; at most `limit`
        (callers skip some: read a few more than they keep)."""
        if not len(self.terms) or limit <= 0:
            return []
        cos = self.vectors @ query.astype(np.float32, copy=False)
        limit = min(limit, len(cos))
        top = np.argpartition(-cos, limit - 1)[:limit]
        top = top[np.argsort(-cos[top], kind="stable")]
        return [(self.terms[i], float(cos[i])) for i in top.tolist() if cos[i] >= floor]


def write_term_table(terms_path: Path, vectors_path: Path, kinds: dict[str, str], vectors: np.ndarray) -> None:
    """Store the terms (in `kinds`' order) and their vectors (one row each, same order)."""
    if len(kinds) != len(vectors):
        raise ValueError(f"{len(kinds)} terms but {len(vectors)} vectors")
    terms_path.write_text(json.dumps({"version": VERSION, "terms": [[t, k] for t, k in kinds.items()]},
                                     ensure_ascii=False), encoding="utf-8")
    np.save(vectors_path, np.asarray(vectors, dtype=np.float16))


def load_term_table(terms_path: Path, vectors_path: Path) -> TermTable | None:
    """The stored table, or None when the generation has none or it cannot be read (then no bridge)."""
    if not terms_path.exists() or not vectors_path.exists():
        return None
    try:
        data = json.loads(terms_path.read_text(encoding="utf-8"))
        rows = data["terms"] if data.get("version") == VERSION else None
        vectors = np.load(vectors_path).astype(np.float32)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("term table %s unreadable (%s): searching without the bridge", terms_path, exc)
        return None
    if rows is None or len(rows) != len(vectors):
        log.warning("term table %s does not match its vectors: searching without the bridge", terms_path)
        return None
    return TermTable(tuple(r[0] for r in rows), tuple(r[1] for r in rows), vectors)
