"""FAISS inner-product index over normalised vectors, addressed by our 63-bit chunk ids.

Exact (flat) below `ann_threshold` vectors, HNSW above it. Filters are pushed into the search with an
id selector, so a filtered query still returns its best `k` matches rather than a post-filtered few.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)


class VectorIndex:
    def __init__(self, index: faiss.Index):
        self.index = index
        self._lock = threading.Lock()

    @classmethod
    def build(cls, ids: np.ndarray, vecs: np.ndarray, dim: int, ann_threshold: int, hnsw_m: int = 32,
              hnsw_ef_search: int = 128) -> "VectorIndex":
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        vecs = np.ascontiguousarray(vecs, dtype=np.float32).reshape(-1, dim)
        if len(ids) >= ann_threshold:
            inner = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = 80
            inner.hnsw.efSearch = hnsw_ef_search
            log.info("building HNSW index over %d vectors", len(ids))
        else:
            inner = faiss.IndexFlatIP(dim)
        index = faiss.IndexIDMap2(inner)
        if len(ids):
            index.add_with_ids(vecs, ids)
        return cls(index)

    @classmethod
    def load(cls, path: Path) -> "VectorIndex":
        return cls(faiss.read_index(str(path)))

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def search(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Best `k` (chunk_id, cosine) for one normalised query vector, optionally within `allowed_ids`."""
        if self.size == 0 or k <= 0:
            return []
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        params = None
        if allowed_ids is not None:
            if len(allowed_ids) == 0:
                return []
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed_ids, dtype=np.int64))
            inner = faiss.downcast_index(self.index.index)
            params = (faiss.SearchParametersHNSW(sel=selector, efSearch=max(k, inner.hnsw.efSearch))
                      if isinstance(inner, faiss.IndexHNSW) else faiss.SearchParameters(sel=selector))
            k = min(k, len(allowed_ids))
        k = min(k, self.size)
        scores, ids = self.index.search(q, k, params=params) if params is not None else self.index.search(q, k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]

    def vector(self, chunk_id: int) -> np.ndarray:
        """The stored vector of one chunk (KeyError when absent)."""
        try:
            return self.index.reconstruct(int(chunk_id))
        except RuntimeError as exc:
            raise KeyError(chunk_id) from exc
