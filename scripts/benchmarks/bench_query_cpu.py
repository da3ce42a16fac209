"""Per-query CPU time (thread_time, ms) of Searcher.search per mode, bench_query's workload; prints one JSON line.

    python -m scripts.benchmarks.bench_query_cpu INDEX_DIR ROUNDS

CPU time rather than wall time: it compares two versions of the code on a machine that other work is using.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time
from pathlib import Path

from indexer import Config, Searcher
from scripts.benchmarks.bench_query import MODES, QUERIES, request


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("index_dir", type=Path)
    ap.add_argument("rounds", type=int)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    cfg = dataclasses.replace(Config(), index_dir=args.index_dir)
    s = Searcher.open(cfg)
    for m in MODES:
        s.search(request("法治政府建设", m))
    out = {}
    for enc in (True, False):
        per = {m: [] for m in MODES}
        for _ in range(args.rounds):
            for m in MODES:
                for qs in QUERIES.values():
                    for q in qs:
                        if enc:
                            s._qcache.clear()
                        t = time.thread_time()
                        s.search(request(q, m))
                        per[m].append((time.thread_time() - t) * 1000)
        out["with_encoding" if enc else "cached_vectors"] = {m: round(sum(v) / len(v), 2) for m, v in per.items()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
