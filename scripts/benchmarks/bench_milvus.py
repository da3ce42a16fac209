"""Milvus Lite figures for the Milvus engine: sync time, on-disk size, and agreement with the local engine.

    python -m scripts.benchmarks.bench_milvus GENERATION_DIR QUERIES_TSV [--out x.json]

Syncs one published local generation into a fresh Milvus Lite file (a temporary directory), reports the
sync time and the Lite file size (and both extrapolated linearly per million chunks — Lite, a functional
stand-in, not Standalone/Distributed), then runs every query of QUERIES_TSV (qid, kind, query) through both
engines and reports overlap@10: |top10 local ∩ top10 Milvus| / 10 for keyword (Whoosh/tantivy vs Milvus BM25
over the same words) and semantic (FAISS vs Milvus HNSW over the same vectors).
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

from indexer import Config, Filters
from indexer.engines.factory import open_engine
from indexer.search.query import parse_query
from indexer.storage.vectors import Encoder
from scripts.benchmarks.common import emit_json, milvus_args, milvus_lite_copy, read_queries_tsv


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def main(argv: list[str] | None = None) -> None:
    args = milvus_args(__doc__, argv)
    gen = args.generation
    # Both sides through the engine factory: the local engine on this very generation, Milvus on its copy.
    local_engine = open_engine(Config(index_dir=gen.parent.parent))
    local = local_engine.open(gen.name)
    info = local.info
    n_docs, n_chunks = local.counts()
    queries = read_queries_tsv(args.queries)
    with milvus_lite_copy(gen) as (db, report, sync_s):
        size = _size(Path(db))
        engine = open_engine(Config().with_overrides({"engine": "milvus", "milvus_uri": db,
                                                      "milvus_collection": "bench"}))
        snap = engine.open(engine.published())
        enc = Encoder(info.get("model", "m3e-small"))
        kw, sem, kw_ms, sem_ms = [], [], [], []
        for query in queries:
            pq = parse_query(query)
            local_k = [c for c, _ in local.keyword(pq, 10, Filters())]
            t = time.perf_counter()
            milvus_k = [c for c, _ in snap.keyword(pq, 10, Filters())]
            kw_ms.append((time.perf_counter() - t) * 1000)
            if local_k or milvus_k:
                kw.append(len(set(local_k) & set(milvus_k)) / 10)
            vec = enc.encode([pq.semantic_text or query])[0]
            local_s = [c for c, _ in local.semantic(vec, 10, Filters())]
            t = time.perf_counter()
            milvus_s = [c for c, _ in snap.semantic(vec, 10, Filters())]
            sem_ms.append((time.perf_counter() - t) * 1000)
            sem.append(len(set(local_s) & set(milvus_s)) / 10)
        snap.close()
        engine.close()
    local.close()
    local_engine.close()
    out = {
        "generation": str(gen), "chunks": n_chunks, "documents": n_docs,
        "sync_seconds": round(sync_s, 2), "lite_bytes": size,
        "lite_bytes_per_million_chunks": round(size / n_chunks * 1e6),
        "sync_seconds_per_million_chunks_lite": round(sync_s / n_chunks * 1e6),
        "queries": len(queries), "keyword_overlap_at_10": round(statistics.mean(kw), 3) if kw else None,
        "semantic_overlap_at_10": round(statistics.mean(sem), 3),
        "keyword_ms_median": round(statistics.median(kw_ms), 1), "semantic_ms_median": round(statistics.median(sem_ms), 1),
        "report": report.__dict__,
    }
    emit_json(out, args.out)

if __name__ == "__main__":
    main()
