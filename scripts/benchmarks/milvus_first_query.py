"""First-time query latency of a searcher on Milvus, with and without the indexer's embedding cache — what a
serving machine that only reaches Milvus pays (docs/milvus.md "Query path without the indexer's cache").

    python -m scripts.benchmarks.milvus_first_query INDEX_DIR QUERIES_TSV [--cache index|fresh]
        [--mode hybrid] [--out x.json]

Syncs INDEX_DIR's published generation into a fresh Milvus Lite file, opens one Searcher on it (the query
encoder loaded, as `serve` does) with `embedding.cache` either the index's own cache (the indexing machine)
or a new empty file (another machine), and runs every query of the TSV once: each is a first-time query
(its vector is not in the searcher's LRU). Reports p50/p95 and the process's first query apart.
Only the library's public API is used, so the same file measures another checkout's code:
`PYTHONPATH=<tree> python -P <this file> …`.
"""
from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from indexer.core.config import Config
from indexer.engines.milvus.connection import connect
from indexer.engines.milvus.sync import sync
from indexer.search.searcher import Searcher
from indexer.search.types import SearchRequest
from indexer.storage.generations import GenerationStore
from scripts.benchmarks.common import emit_json, percentiles, read_queries_tsv


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("index_dir", type=Path)
    ap.add_argument("queries", type=Path)
    ap.add_argument("--cache", choices=["index", "fresh"], default="fresh")
    ap.add_argument("--mode", default="hybrid")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    queries = read_queries_tsv(args.queries)
    gen = GenerationStore(args.index_dir).current_path()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "m.db")
        client = connect(db)
        sync(client, gen, base="firstq")
        client.close()
        cache = args.index_dir / "embeddings.sqlite" if args.cache == "index" else Path(tmp) / "fresh.sqlite"
        config = Config(index_dir=args.index_dir).with_overrides({
            "engine": "milvus", "milvus_uri": db, "milvus_collection": "firstq", "embedding.cache": str(cache)})
        t0 = time.perf_counter()
        searcher = Searcher.open(config)
        open_s = time.perf_counter() - t0
        ms = []
        try:
            for q in queries:
                t = time.perf_counter()
                searcher.search(SearchRequest(query=q, mode=args.mode))
                ms.append((time.perf_counter() - t) * 1000)
        finally:
            searcher.close()
    emit_json({"index": str(args.index_dir), "cache": args.cache, "mode": args.mode, "open_seconds": round(open_s, 2),
               "first_query_ms": round(ms[0], 1), "queries_ms": percentiles(ms)}, args.out)


if __name__ == "__main__":
    main()
