"""Exact vs approximate (HNSW) vector search on real embeddings: single-query latency, recall, build time.

    .venv/bin/python -m scripts.benchmarks.bench_vectors --index-dir .bench/stard-<key> [--copies 2] [--queries 200]

Reads the stored vectors of a built index (e.g. the full-STARD evaluation index, 57,765 real m3e-small
vectors), optionally grows them with jittered copies (--copies 2 gives ~115k vectors that keep the real
neighbourhood structure), encodes STARD questions as queries, and times one query at a time on one thread:
an exact float32 scan, an exact float16 scan (what the first session used from 50k vectors), and
`VectorIndex.build` above its `ann_threshold` (our HNSW). Recall is against the exact float32 ranking.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import faiss
import numpy as np

from indexer import Config
from indexer.storage.generations import GenerationStore
from indexer.storage.vectors import Encoder, VectorIndex
from scripts.benchmarks.common import STARD, machine_info, write_json


def stored_vectors(index_dir: Path) -> np.ndarray:
    index = VectorIndex.load(GenerationStore(index_dir).current_path() / "vectors.faiss")
    ids = faiss.vector_to_array(index.index.id_map)
    return np.ascontiguousarray(index.index.reconstruct_batch(ids), dtype=np.float32)


def timed(search, queries: np.ndarray, k: int) -> tuple[dict, np.ndarray]:
    faiss.omp_set_num_threads(1)
    times, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        found.append(search(q, k))
        times.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": round(float(np.percentile(times, 50)), 2), "p95_ms": round(float(np.percentile(times, 95)), 2)}, \
        np.array(found)


def recall(found: np.ndarray, exact: np.ndarray, k: int) -> float:
    return round(float(np.mean([len(set(f[:k]) & set(e[:k])) / k for f, e in zip(found, exact)])), 4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--copies", type=int, default=1, help="1 = the stored vectors; n = plus n-1 jittered copies")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", dest="json_out")
    args = parser.parse_args(argv)

    base = stored_vectors(args.index_dir)
    rng = np.random.default_rng(0)
    parts = [base]
    for _ in range(args.copies - 1):
        jittered = base + rng.standard_normal(base.shape).astype(np.float32) * 0.03
        parts.append(jittered / np.linalg.norm(jittered, axis=1, keepdims=True))
    vecs = np.vstack(parts)
    n, dim = vecs.shape
    questions = [json.loads(line)["text"] for line in (STARD / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    queries = Encoder(Config().embedding.model).encode(questions[: args.queries]).astype(np.float32)
    k = 200  # the Searcher's candidates per side

    flat = faiss.IndexFlatIP(dim)
    flat.add(vecs)
    exact_stats, exact = timed(lambda q, k: flat.search(q[None, :], k)[1][0], queries, k)
    half = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    half.add(vecs)
    half_stats, half_found = timed(lambda q, k: half.search(q[None, :], k)[1][0], queries, k)
    cfg = Config()
    faiss.omp_set_num_threads(faiss.omp_get_max_threads())
    t0 = time.perf_counter()
    ann = VectorIndex.build(np.arange(n, dtype=np.int64), vecs, dim, ann_threshold=1, hnsw_m=cfg.index.hnsw_m,
                            hnsw_ef_search=cfg.index.hnsw_ef_search)
    build_s = time.perf_counter() - t0
    ann_stats, ann_found = timed(lambda q, k: [c for c, _ in ann.search(q, k)], queries, k)

    result = {
        "machine": machine_info(), "command": " ".join(sys.argv), "vectors": n, "queries": len(queries),
        "exact_float32": exact_stats,
        "exact_float16": {**half_stats, "recall@10": recall(half_found, exact, 10), "recall@100": recall(half_found, exact, 100)},
        "hnsw": {**ann_stats, "recall@10": recall(ann_found, exact, 10), "recall@100": recall(ann_found, exact, 100),
                 "build_s": round(build_s, 1), "m": cfg.index.hnsw_m, "ef_search": cfg.index.hnsw_ef_search},
    }
    print(f"{n} vectors, {len(queries)} queries, one thread, k={k}")
    for name in ("exact_float32", "exact_float16", "hnsw"):
        print(f"  {name:14s} {result[name]}")
    if args.json_out:
        write_json(Path(args.json_out), result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
