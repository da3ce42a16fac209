"""Milvus Lite figures for the Milvus engine: sync time, on-disk size, and agreement with the local engine.

    python scripts/bench_milvus.py GENERATION_DIR QUERIES_TSV [--out x.json]

Syncs one published local generation into a fresh Milvus Lite file (a temporary directory), reports the
sync time and the Lite file size (and both extrapolated linearly per million chunks — Lite, a functional
stand-in, not Standalone/Distributed), then runs every query of QUERIES_TSV (qid, kind, query) through both
engines and reports overlap@10: |top10 local ∩ top10 Milvus| / 10 for keyword (Whoosh/tantivy vs Milvus BM25
over the same words) and semantic (FAISS vs Milvus HNSW over the same vectors).
"""
from __future__ import annotations

import argparse
import csv
import json
import logging
import statistics
import tempfile
import time
from pathlib import Path

from indexer.core.filters import Filters
from indexer.storage.catalog import Catalog
from indexer.core.config import Config
from indexer.engines.milvus import MilvusEngine
from indexer.engines.milvus.connection import connect
from indexer.engines.milvus.sync import sync
from indexer.storage.fulltext.factory import open_fulltext
from indexer.search.query import parse_query
from indexer.storage.vectors import Encoder
from indexer.storage.vectors.faiss_index import VectorIndex


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("generation", type=Path)
    ap.add_argument("queries", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    gen = args.generation
    cat = Catalog(gen / "catalog.sqlite")
    n_chunks = cat.chunk_count()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "x.db"
        client = connect(str(db))
        t0 = time.perf_counter()
        report = sync(client, gen, base="bench")
        sync_s = time.perf_counter() - t0
        client.close()
        size = _size(db)
        engine = MilvusEngine(str(db), collection="bench")
        snap = engine.open()
        ft = open_fulltext(gen / "fulltext", Config())
        vi = VectorIndex.load(gen / "vectors.faiss")
        enc = Encoder(cat.info().get("model", "m3e-small"))
        with args.queries.open(encoding="utf-8") as f:
            queries = [r for r in csv.DictReader(f, delimiter="\t")]
        kw, sem, kw_ms, sem_ms = [], [], [], []
        for q in queries:
            pq = parse_query(q["query"])
            local_k = [c for c, _ in ft.search(pq, 10, Filters())]
            t = time.perf_counter()
            milvus_k = [c for c, _ in snap.keyword(pq, 10, Filters())]
            kw_ms.append((time.perf_counter() - t) * 1000)
            if local_k or milvus_k:
                kw.append(len(set(local_k) & set(milvus_k)) / 10)
            vec = enc.encode([pq.semantic_text or q["query"]])[0]
            local_s = [c for c, _ in vi.search(vec, 10)]
            t = time.perf_counter()
            milvus_s = [c for c, _ in snap.semantic(vec, 10, Filters())]
            sem_ms.append((time.perf_counter() - t) * 1000)
            sem.append(len(set(local_s) & set(milvus_s)) / 10)
        engine.close()
        ft.close()
    out = {
        "generation": str(gen), "chunks": n_chunks, "documents": cat.document_count(),
        "sync_seconds": round(sync_s, 2), "lite_bytes": size,
        "lite_bytes_per_million_chunks": round(size / n_chunks * 1e6),
        "sync_seconds_per_million_chunks_lite": round(sync_s / n_chunks * 1e6),
        "queries": len(queries), "keyword_overlap_at_10": round(statistics.mean(kw), 3) if kw else None,
        "semantic_overlap_at_10": round(statistics.mean(sem), 3),
        "keyword_ms_median": round(statistics.median(kw_ms), 1), "semantic_ms_median": round(statistics.median(sem_ms), 1),
        "report": report.__dict__,
    }
    cat.close()
    text = json.dumps(out, ensure_ascii=False, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
