"""Calls to Milvus per query and filtered semantic completeness, Milvus Lite against the local engine.

    python -m scripts.benchmarks.bench_milvus_calls GENERATION_DIR QUERIES_TSV [--out x.json]

Syncs one published local generation into a fresh Milvus Lite file, then
- runs every query of QUERIES_TSV (qid, kind, query) through the `Searcher` façade on Milvus in each mode,
  through a client that counts the calls (by method), and reports calls per query (mean, max, by method);
  the first query (opening the snapshot) is left out;
- for every year (and the five largest places), a semantic search limited to that filter (limit 1000) on
  both engines: rows returned by Milvus vs the local engine (which returns every row of a small filter).
Only public verbs are used, so the same script measures an older tree (PYTHONPATH=that tree).
"""
from __future__ import annotations

import statistics
from collections import Counter

from indexer import Config, Filters, SearchRequest, Searcher
from indexer.engines.factory import open_engine
from indexer.storage.vectors import Encoder
from scripts.benchmarks.common import CountingClient as Counting, emit_json, milvus_args, milvus_lite_copy, read_queries_tsv


def main(argv: list[str] | None = None) -> None:
    args = milvus_args(__doc__, argv)
    queries = read_queries_tsv(args.queries)
    index_dir = args.generation.parent.parent
    out: dict = {"queries": len(queries)}
    with milvus_lite_copy(args.generation) as (db, _, _):
        config = Config(index_dir=index_dir).with_overrides({"engine": "milvus", "milvus_uri": db,
                                                             "milvus_collection": "bench"})
        encoder = Encoder(config.embedding.model)
        engine = open_engine(config)
        engine.client = counting = Counting(engine.client)
        searcher = Searcher(config, encoder, engine)
        searcher.search(SearchRequest(query=queries[0], mode="hybrid"))
        for mode in ("keyword", "semantic", "hybrid"):
            per_query, by_method = [], Counter()
            for q in queries:
                counting.calls.clear()
                searcher.search(SearchRequest(query=q, mode=mode))
                per_query.append(sum(counting.calls.values()))
                by_method.update(counting.calls)
            out[f"calls_{mode}"] = {
                "mean": round(statistics.mean(per_query), 2), "max": max(per_query),
                "by_method_per_query": {k: round(v / len(queries), 2) for k, v in by_method.items()}}
        # Filtered completeness: each engine's own snapshot, asked directly (the façade adds the floor).
        local_engine = open_engine(Config(index_dir=index_dir))
        local = local_engine.open(local_engine.published())
        with searcher.snapshot() as snap:
            values = snap.facet_values(Filters())
            vec = encoder.encode_query("法治政府建设")
            filtered = {}
            for field, top in (("year", None), ("place", 5)):
                for value, n in values[field][:top]:
                    f = Filters(**{field: (int(value) if field == "year" else value,)})
                    filtered[f"{field}={value}"] = {"rows": n, "milvus": len(snap.semantic(vec, 1000, f)),
                                                    "local": len(local.semantic(vec, 1000, f))}
            out["filtered_semantic"] = filtered
        local.close()
        local_engine.close()
        searcher.close()
    emit_json(out, args.out)


if __name__ == "__main__":
    main()
