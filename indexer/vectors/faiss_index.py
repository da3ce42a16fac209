"""FAISS inner-product index over normalised vectors, addressed by our 63-bit chunk ids.

Exact (flat) below `ann_threshold` vectors, HNSW above it; from FP16_MIN vectors the flat scan reads
half-precision copies. Filters are pushed into the search with an
id selector, so a filtered query still returns its best `k` matches rather than a post-filtered few.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)

FP16_MIN = 50_000  # exact search over this many vectors or more stores them as float16 (see build)
BROAD_FILTER = 0.05  # filters keeping at least this share of the vectors are applied after the search

# One query vector is searched on one OpenMP thread: with both cores busy (other requests, a build), FAISS's
# threads wait for each other -- measured 34 ms instead of ~1 ms for a 10k flat search on this 2-core
# machine. Building (many vectors) uses every core. OpenMP's setting is per process, so it is switched only
# when the kind of call changes.
_default_threads = faiss.omp_get_max_threads()


def _set_threads(single: bool) -> None:
    n = 1 if single else _default_threads
    if faiss.omp_get_max_threads() != n:
        faiss.omp_set_num_threads(n)


class VectorIndex:
    def __init__(self, index: faiss.Index):
        self.index = index
        self._lock = threading.Lock()

    @classmethod
    def build(cls, ids: np.ndarray, vecs: np.ndarray, dim: int, ann_threshold: int, hnsw_m: int = 32,
              hnsw_ef_search: int = 128) -> "VectorIndex":
        _set_threads(single=False)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        vecs = np.ascontiguousarray(vecs, dtype=np.float32).reshape(-1, dim)
        if len(ids) >= ann_threshold:
            inner = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = 80
            inner.hnsw.efSearch = hnsw_ef_search
            log.info("building HNSW index over %d vectors", len(ids))
        elif len(ids) >= FP16_MIN:
            # One query scans every stored vector, so its cost is memory bandwidth: half-precision storage halves
            # it (34 -> 17 ms at 100k on one core) and the memory; top-10 unchanged, recall@100 0.999 on the
            # 100k benchmark index (docs/benchmarks.md).
            inner = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
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
        _set_threads(single=True)
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        params = None
        if allowed_ids is not None:
            if len(allowed_ids) == 0:
                return []
            if len(allowed_ids) >= BROAD_FILTER * self.size:
                found = self._search_broad(q, k, allowed_ids)
                if found is not None:
                    return found
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed_ids, dtype=np.int64))
            inner = faiss.downcast_index(self.index.index)
            params = (faiss.SearchParametersHNSW(sel=selector, efSearch=max(k, inner.hnsw.efSearch))
                      if isinstance(inner, faiss.IndexHNSW) else faiss.SearchParameters(sel=selector))
            k = min(k, len(allowed_ids))
        k = min(k, self.size)
        scores, ids = self.index.search(q, k, params=params) if params is not None else self.index.search(q, k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]

    def _search_broad(self, q: np.ndarray, k: int, allowed_ids: np.ndarray) -> list[tuple[int, float]] | None:
        """A filter that keeps a large share of the index: search without it for enough extra hits and drop
        the others. The first k survivors of the full ranking are exactly the filtered top k; None when
        fewer than k survive (the caller then searches with the id selector). Skips the selector's
        per-vector id check, which made a year filter cost ~10x an unfiltered search at 100k chunks."""
        want = min(self.size, int(k * self.size / len(allowed_ids) * 2) + 16)
        scores, ids = self.index.search(q, want)
        keep = np.isin(ids[0], allowed_ids) & (ids[0] != -1)
        if int(keep.sum()) < min(k, len(allowed_ids)) and want < self.size:
            return None
        return [(int(i), float(s)) for i, s in zip(ids[0][keep][:k], scores[0][keep][:k])]

    def vector(self, chunk_id: int) -> np.ndarray:
        """The stored vector of one chunk (KeyError when absent)."""
        try:
            return self.index.reconstruct(int(chunk_id))
        except RuntimeError as exc:
            raise KeyError(chunk_id) from exc
