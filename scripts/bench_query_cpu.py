"""Per-query CPU time (thread_time, ms) of Searcher.search per mode, bench_query.py's workload.

CPU time rather than wall time: it compares two versions of the code on a machine that other work is using.
Usage: python scripts/bench_query_cpu.py INDEX_DIR ROUNDS  (prints one JSON line)"""
import dataclasses
import json
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_query import MODES, QUERIES, request
from indexer.core.config import Config
from indexer.search.searcher import Searcher
logging.basicConfig(level=logging.WARNING)
cfg = dataclasses.replace(Config(), index_dir=Path(sys.argv[1]))
s = Searcher.open(cfg)
for m in MODES:
    s.search(request("法治政府建设", m))
out = {}
for enc in (True, False):
    per = {m: [] for m in MODES}
    for _ in range(int(sys.argv[2])):
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
