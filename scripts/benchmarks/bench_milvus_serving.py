"""Milvus Lite against the local engine at scale, in one run: calls to Milvus per query and p50/p95 per mode.

    python -m scripts.benchmarks.bench_milvus_serving --data-dir LITE_DIR \
        --index INDEX_DIR:BASE [--index INDEX_DIR:BASE ...] [--queries N] [--rounds R] [--out x.json]

Starts one `milvus-lite server` on LITE_DIR (a folder of its own; it keeps the collections between runs),
brings each BASE up to date with its index's published generation by a plain `sync` (a full one the first
time: ~1 min at 10k chunks, ~10 min at 100k on Lite; then a no-op), and runs bench_query's query set
(short, very common, quoted phrases, long questions; `--queries N`: the first N of each kind) through the
`Searcher` façade on both engines, interleaved query by query (local, then Milvus), mode after mode, page size 10:
- keyword, semantic, hybrid: `search()` in that mode;
- grouped: hybrid, one hit per place (`group_by_place`);
- facets: the facets of an empty search (`Searcher.facets`, `/api/facets`), alternately without a filter and
  with a year filter.
Every query is run once (hybrid) on each engine before timing (query vectors then come from the searcher's cache on
both: the times are the engines', not the encoder's). Calls = every call to the Milvus client, by method.
Only public verbs, so an older tree can be measured the same way (PYTHONPATH=<tree>:. python -P -m ...).
"""
from __future__ import annotations

import argparse
import logging
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from indexer import Config, Filters, SearchRequest, Searcher
from indexer.engines.factory import open_engine
from indexer.storage.generations import GenerationStore
from indexer.storage.vectors import Encoder
from scripts.benchmarks.bench_query import QUERIES
from scripts.benchmarks.common import CountingClient as Counting, emit_json, machine_info, percentiles

MODES = ["keyword", "semantic", "hybrid", "grouped", "facets"]
# Beyond bench_query's 28 (>= 30 per mode, issue 28): quoted strings of every rarity, so the bigram lookups
# (indexer/engines/milvus/lookup.py) and the LIKE scan they fall back to are both measured.
EXTRA = ['"八五普法"', '"营商环境"', '"人居环境整治"', '"矛盾纠纷多元化解"']


def lite_server(data_dir: Path) -> tuple[str, subprocess.Popen]:
    from indexer.engines.milvus.connection import connect

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    binary = shutil.which("milvus-lite") or str(Path(sys.executable).with_name("milvus-lite"))
    proc = subprocess.Popen([binary, "server", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            client = connect(uri)
            client.list_collections()
            client.close()
            return uri, proc
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                proc.terminate()
                raise
            time.sleep(0.5)


def workload(n: int | None) -> list[str]:
    return [q for qs in [*QUERIES.values(), EXTRA] for q in qs[:n]]


def _call(searcher: Searcher, mode: str, query: str, i: int, year: int) -> object:
    if mode == "facets":
        return searcher.facets(Filters(year=(year,)) if i % 2 else Filters())
    if mode == "grouped":
        return searcher.search(SearchRequest(query=query, mode="hybrid", size=10, group_by_place=True))
    return searcher.search(SearchRequest(query=query, mode=mode, size=10))


def bench_index(uri: str, index_dir: Path, base: str, queries: list[str], rounds: int, encoder: Encoder,
                do_sync: bool = True) -> dict:
    from indexer.engines.milvus.connection import connect
    from indexer.engines.milvus.sync import sync

    gen = GenerationStore(index_dir).current_path()
    sync_info: dict = {"skipped": True}
    if do_sync:  # a no-op sync still hashes every chunk of the generation (minutes at 100k on a loaded machine)
        client = connect(uri)
        t0 = time.perf_counter()
        report = sync(client, gen, base=base)
        sync_info = {"seconds": round(time.perf_counter() - t0, 1), "full": report.full, "unchanged": report.unchanged}
        client.close()
    local_config = Config(index_dir=index_dir)
    milvus_config = local_config.with_overrides({"engine": "milvus", "milvus_uri": uri, "milvus_collection": base})
    local = Searcher(local_config, encoder)
    engine = open_engine(milvus_config)
    engine.client = counting = Counting(engine.client)
    milvus = Searcher(milvus_config, encoder, engine)
    documents, chunks = local.health()["documents"], local.health()["chunks"]
    year = next(int(v) for v, _ in local.facets()["year"] if v.isdigit())  # the largest known year
    for i, q in enumerate(queries):  # warm: the query vectors, the snapshots, jieba (one mode: every mode's
        _call(local, "hybrid", q, i, year)  # vector is the same query's; the timed rounds are ~1 h at 100k on Lite)
        _call(milvus, "hybrid", q, i, year)
    times: dict[str, dict[str, list[float]]] = {m: {"local": [], "milvus": []} for m in MODES}
    calls: dict[str, list[int]] = {m: [] for m in MODES}
    by_method: dict[str, Counter] = {m: Counter() for m in MODES}
    samples: dict[str, list] = {m: [] for m in MODES}  # (query, local ms, milvus ms): where the time goes
    for _ in range(rounds):  # mode by mode: the same query's other modes are far apart (no reuse of its facts)
        for mode in MODES:
            for i, q in enumerate(queries):
                t = time.perf_counter()
                _call(local, mode, q, i, year)
                times[mode]["local"].append((time.perf_counter() - t) * 1000)
                counting.calls.clear()
                t = time.perf_counter()
                _call(milvus, mode, q, i, year)
                times[mode]["milvus"].append((time.perf_counter() - t) * 1000)
                calls[mode].append(sum(counting.calls.values()))
                samples[mode].append((q, round(times[mode]["local"][-1], 1), round(times[mode]["milvus"][-1], 1)))
                by_method[mode].update(counting.calls)
    local.close()
    milvus.close()
    n = len(queries) * rounds
    return {
        "index_dir": str(index_dir), "base": base, "documents": documents, "chunks": chunks,
        "sync": sync_info,
        "queries": len(queries), "rounds": rounds,
        "modes": {m: {"local_ms": percentiles(times[m]["local"]), "milvus_ms": percentiles(times[m]["milvus"]),
                      "calls_per_query": {"mean": round(sum(calls[m]) / n, 2), "max": max(calls[m]),
                                          "by_method": {k: round(v / n, 2) for k, v in by_method[m].items()}},
                      "samples": samples[m]}
                  for m in MODES},
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, required=True, help="the Lite server's folder (kept between runs)")
    ap.add_argument("--index", action="append", required=True, help="INDEX_DIR:BASE (repeatable)")
    ap.add_argument("--queries", type=int, default=None, help="the first N queries of each kind")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--uri", help="a Lite/Milvus server already running on --data-dir (not started or stopped here)")
    ap.add_argument("--no-sync", action="store_true", help="the collections are up to date: do not sync")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    queries = workload(args.queries)
    encoder = Encoder(Config().embedding.model)
    encoder.prepare_queries()
    uri, proc = (args.uri, None) if args.uri else lite_server(args.data_dir)
    out: dict = {"machine": machine_info(), "command": " ".join(sys.argv), "runs": []}
    try:
        for spec in args.index:
            index_dir, _, base = spec.rpartition(":")
            out["runs"].append(bench_index(uri, Path(index_dir), base, queries, args.rounds, encoder,
                                           not args.no_sync))
            emit_json(out, args.out)  # after each index: a long run killed later keeps what it measured
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(60)


if __name__ == "__main__":
    main()
