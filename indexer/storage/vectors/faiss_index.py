"""FAISS inner-product index over normalised vectors, addressed by our 63-bit chunk ids.

Exact (flat) below `ann_threshold` vectors; HNSW from there on (both store float32 vectors).
A single query scans a flat index end to end -- memory-bound, ~11 ms at 100k vectors on one core here, and it
evicts the embedding model's weights from the cache on the way -- where HNSW answers in ~1 ms with
recall@10 0.998 and recall@100 0.986 at efSearch 400 (docs/benchmarks.md, real STARD vectors).

Filters: a filter keeping a large share of the index is applied after an unfiltered search for enough extra
hits; any other is answered exactly over just the allowed vectors. Both return the filter's best `k`
rather than a post-filtered few, and neither uses FAISS's per-vector id selector (10x slower here, and
with HNSW it breaks the graph walk for narrow filters).
"""
from __future__ import annotations

import logging
from pathlib import Path

import faiss
import numpy as np

from indexer.core.config import IndexSettings

log = logging.getLogger(__name__)

BROAD_FILTER = 0.3  # filters keeping at least this share of the vectors are applied after the search
# The graph's defaults are the configuration's (one home: indexer/core/config.py); callers normally pass the config.
HNSW_M, HNSW_EF_SEARCH, MAX_STALE = IndexSettings.hnsw_m, IndexSettings.hnsw_ef_search, IndexSettings.hnsw_max_stale
HNSW_EF_CONSTRUCTION = IndexSettings.hnsw_ef_construction
SUBSET_BLOCK = 4096  # stored vectors scored per step of an exact search over a filter's vectors

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
        self._refresh()

    def _refresh(self) -> None:
        """(Re)read what searches need from the FAISS index: after loading, and after adding to it."""
        index = self.index
        inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
        self._hnsw = inner.hnsw if isinstance(inner, faiss.IndexHNSW) else None
        # Chunk id -> row of the stored vectors, for exact search over a filter's vectors.
        by_row = faiss.vector_to_array(index.id_map) if isinstance(index, faiss.IndexIDMap) else np.empty(0, np.int64)
        self._by_row = by_row
        self._row_order = np.argsort(by_row, kind="stable")
        self._sorted_ids = by_row[self._row_order]
        self._matrix = _stored_matrix(inner)

    @classmethod
    def build(cls, ids: np.ndarray, vecs: np.ndarray, dim: int, ann_threshold: int, hnsw_m: int = HNSW_M,
              hnsw_ef_search: int = HNSW_EF_SEARCH,
              hnsw_ef_construction: int = HNSW_EF_CONSTRUCTION) -> "VectorIndex":
        _set_threads(single=False)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        vecs = np.ascontiguousarray(vecs, dtype=np.float32).reshape(-1, dim)
        if len(ids) >= ann_threshold:
            # float32 storage: an exact search over a filter's vectors reads them in place (float16 would
            # save 100 MB at 100k, but numpy converts it at ~5 ns a value: 33 ms for a 12% filter).
            inner = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = hnsw_ef_construction
            inner.hnsw.efSearch = hnsw_ef_search
            log.info("building HNSW index over %d vectors", len(ids))
        else:
            inner = faiss.IndexFlatIP(dim)
        index = faiss.IndexIDMap2(inner)
        if len(ids):
            index.add_with_ids(vecs, ids)
        return cls(index)

    @classmethod
    def build_from(cls, previous: Path | None, ids: np.ndarray, vecs: np.ndarray, dim: int, ann_threshold: int,
                   hnsw_m: int = HNSW_M, hnsw_ef_search: int = HNSW_EF_SEARCH,
                   max_stale: float = MAX_STALE,
                   hnsw_ef_construction: int = HNSW_EF_CONSTRUCTION) -> tuple["VectorIndex", str]:
        """The index for a new generation: the previous generation's HNSW graph extended with the new
        vectors when that is safe, else a fresh build. Returns (index, "extended" | "built").

        Building HNSW costs ~25 s per 100k vectors, at every publish; an incremental run adds only its new
        chunks instead. HNSW cannot delete, so the vectors of removed chunks stay in the graph as stale
        entries (queries drop ids the catalog does not have); past `max_stale` of the entries, or when a
        kept chunk's vector changed (same text under a new title: same id, new embedding input), or the
        settings differ, it is rebuilt."""
        if previous is not None and previous.exists() and len(ids) >= ann_threshold:
            try:
                old = cls.load(previous)
            except RuntimeError as exc:  # unreadable: a fresh build is always possible
                log.warning("cannot reuse %s (%s); building the vector index anew", previous, exc)
                old = None
            if old is not None and old._extend(ids, vecs, dim, hnsw_m, hnsw_ef_search, max_stale):
                return old, "extended"
        return cls.build(ids, vecs, dim, ann_threshold, hnsw_m, hnsw_ef_search, hnsw_ef_construction), "built"

    def _extend(self, ids: np.ndarray, vecs: np.ndarray, dim: int, hnsw_m: int, hnsw_ef_search: int,
                max_stale: float) -> bool:
        """Add the vectors of `ids` this index lacks, in place; False (index unchanged) when it must be rebuilt."""
        if self._hnsw is None or self.dim != dim or self._hnsw.nb_neighbors(1) != hnsw_m or self._matrix is None:
            return False
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        vecs = np.ascontiguousarray(vecs, dtype=np.float32).reshape(-1, dim)
        kept, rows = self._lookup(ids)
        if not np.array_equal(self._matrix[rows], vecs[kept]):
            return False
        stale = self.size - int(kept.sum())
        if stale > max_stale * (self.size + int((~kept).sum())):
            return False
        _set_threads(single=False)
        self._hnsw.efSearch = hnsw_ef_search
        if (~kept).any():
            self.index.add_with_ids(vecs[~kept], ids[~kept])
        log.info("vector index extended: %d vectors added, %d kept, %d stale", int((~kept).sum()), int(kept.sum()),
                 stale)
        self._refresh()  # new id maps and a new view of the (reallocated) stored vectors
        return True

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

    @property
    def approximate(self) -> bool:
        return self._hnsw is not None

    def search(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Best `k` (chunk_id, cosine) for one normalised query vector, optionally within `allowed_ids`."""
        if self.size == 0 or k <= 0:
            return []
        _set_threads(single=True)
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        if allowed_ids is None:
            return self._search(q, min(k, self.size))
        allowed = np.asarray(allowed_ids, dtype=np.int64)
        if len(allowed) >= BROAD_FILTER * self.size:
            found = self._search_broad(q, k, allowed)
            if found is not None:
                return found
        return self._search_subset(q, k, allowed)

    def _search(self, q: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self._hnsw is not None and k > self._hnsw.efSearch:
            params = faiss.SearchParametersHNSW(efSearch=k)  # HNSW returns at most efSearch hits
            scores, ids = self.index.search(q, k, params=params)
        else:
            scores, ids = self.index.search(q, k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]

    def _search_broad(self, q: np.ndarray, k: int, allowed: np.ndarray) -> list[tuple[int, float]] | None:
        """A filter that keeps a large share of the index: search without it for enough extra hits and drop
        the others. The first k survivors of the ranking are the filtered top k; None when fewer than k
        survive (the caller then searches the allowed vectors exactly)."""
        want = min(self.size, int(k * self.size / len(allowed) * 2) + 16)
        found = self._search(q, want)
        ids = np.fromiter((c for c, _ in found), dtype=np.int64, count=len(found))
        keep = np.isin(ids, allowed)
        if int(keep.sum()) < min(k, len(allowed)) and want < self.size:
            return None
        return [found[i] for i in np.flatnonzero(keep)[:k]]

    def _search_subset(self, q: np.ndarray, k: int, allowed: np.ndarray) -> list[tuple[int, float]]:
        """Exact search over just the allowed vectors (a narrow filter, or a strict query's keyword hits),
        read in place from the index's own storage (no per-vector reconstruct calls)."""
        ids, rows = self._rows_of(allowed)
        if len(ids) == 0:
            return []
        if self._matrix is not None:
            scores = np.empty(len(rows), dtype=np.float32)
            for start in range(0, len(rows), SUBSET_BLOCK):  # blocks stay in cache while converted and scored
                block = self._matrix[rows[start : start + SUBSET_BLOCK]]
                scores[start : start + len(block)] = block.astype(np.float32, copy=False) @ q[0]
        else:
            scores = self.index.reconstruct_batch(ids) @ q[0]
        if len(scores) > k:
            part = np.argpartition(-scores, k - 1)[:k]
        else:
            part = np.arange(len(scores))
        top = part[np.argsort(-scores[part], kind="stable")]
        return [(int(ids[i]), float(scores[i])) for i in top]

    def _lookup(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each id whether the index has it, and the stored-vector rows of those it has (in `ids` order)."""
        at = np.searchsorted(self._sorted_ids, ids)
        found = at < len(self._sorted_ids)
        found[found] = self._sorted_ids[at[found]] == ids[found]
        return found, self._row_order[at[found]]

    def _rows_of(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The given ids that are in the index, and their rows in the stored vectors."""
        rows = np.unique(self._lookup(ids)[1])  # once each, in memory order (~3x faster to read)
        return self._by_row[rows], rows

    def vector(self, chunk_id: int) -> np.ndarray:
        """The stored vector of one chunk (KeyError when absent)."""
        try:
            return self.index.reconstruct(int(chunk_id))
        except RuntimeError as exc:
            raise KeyError(chunk_id) from exc


def _stored_matrix(inner: faiss.Index) -> np.ndarray | None:
    """A read-only (n, dim) numpy view of the vectors the index stores (float32 or float16), without copying;
    None for a storage we do not read directly (then vectors are reconstructed one by one)."""
    storage = faiss.downcast_index(inner.storage) if isinstance(inner, faiss.IndexHNSW) else inner
    n, d = int(storage.ntotal), int(storage.d)
    if n == 0:
        return None
    if isinstance(storage, faiss.IndexFlat):
        return faiss.rev_swig_ptr(storage.get_xb(), n * d).reshape(n, d)
    if isinstance(storage, faiss.IndexScalarQuantizer) and storage.sq.qtype == faiss.ScalarQuantizer.QT_fp16:
        raw = faiss.rev_swig_ptr(storage.codes.data(), n * storage.code_size)
        return np.frombuffer(raw, dtype=np.float16).reshape(n, d)
    return None
