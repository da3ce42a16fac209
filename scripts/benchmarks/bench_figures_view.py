"""Latency of the 数据 page (GET /figures, issue 30) for common queries: the whole request through the real Flask
app in this process (Searcher.figures + rendering one page of the table), one request at a time.

    python -m scripts.benchmarks.bench_figures_view --index-dir .bench/perf/index-10000-tantivy [--rounds 10]
        [--query 工作 --query 法治 ...] [--json .bench/results/bench_figures_view.json]

The index is only read (an embedding cache the searcher might open is a temporary file). For each query the first
request of the process is timed apart ("first"): it groups the query's measures (search/figures.py MeasureGrouper:
the vectors the build stored, else the model encodes them, once per process). Then `--rounds`
rounds ask every query again, cycling through the page's views (sorted by place, by value descending, page 2),
as users re-sort and page a table (served from the Searcher's FiguresCache; `--uncached`: every request builds
its table again): those form the p50/p95 the target (≤ 150 ms at 100k chunks) is about.
Printed per query: matching paragraphs, figures (rows), and the page's and Searcher.figures's own times.

    python -m scripts.benchmarks.bench_figures_view --index-dir <100k index> --fresh 2 [--no-prepare]

`--fresh N`: each query's first table in N processes of its own (queries interleaved): the searcher opened and,
as search_web/serve.py does before serving, the figure columns loaded and the templates compiled (not with
`--no-prepare`); then one GET /figures. Printed: its time, the preparation's, how many measures the model
encoded, whether the float32 (batch) model was loaded.
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from indexer import load_config
from scripts.benchmarks.common import BENCH_DIR, machine_info, percentiles, write_json

QUERIES = ("工作", "法治", "规定", "宣传", "开展", "调解", "信访", "普法宣传")
VIEWS = ("", "&sort=value&desc=1", "&page=2")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--query", action="append", help=f"default: {' '.join(QUERIES)}")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--uncached", action="store_true",
                    help="keep no tables between requests ([figures] table_cache_entries = 0): every request reads the "
                         "catalog and builds its rows again, as a query nobody asked before does")
    ap.add_argument("--fresh", type=int, default=0, metavar="N",
                    help="instead: each query's first table in N fresh processes each (open the searcher as a server "
                         "does, then one GET /figures): nothing of the figures warm, measures never seen")
    ap.add_argument("--no-prepare", action="store_true",
                    help="with --fresh: do not load the figure columns before the first request (a server does)")
    ap.add_argument("--child", help=argparse.SUPPRESS)  # one fresh process's query (--fresh runs them)
    ap.add_argument("--json", type=Path, default=BENCH_DIR / "results" / "bench_figures_view.json")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.fresh:
        return fresh_processes(args)

    from indexer.search.figures import FiguresRequest
    from indexer.search.searcher import Searcher
    from search_web import create_app

    # Only read: anything that would open the index's embedding cache gets a throwaway one.
    scratch = Path(tempfile.mkdtemp(prefix="bench-figures-"))
    overrides: dict = {"index_dir": args.index_dir, "embedding.cache": scratch / "cache.sqlite"}
    if args.uncached:
        overrides["figures.table_cache_entries"] = 0
    config = load_config().with_overrides(overrides)
    t0 = time.perf_counter()
    searcher = Searcher.open(config)
    print(f"opened {args.index_dir} in {time.perf_counter() - t0:.1f} s: {searcher.health().get('chunks')} chunks")
    client = create_app(config, searcher).test_client()
    queries = args.query or list(QUERIES)
    if args.child:
        t = time.perf_counter()
        if not args.no_prepare:  # as search_web/serve.py does at a server's start (Searcher.prepare_figures)
            with searcher.snapshot() as snap:
                getattr(snap, "figure_columns", lambda: None)()
            for name in client.application.jinja_env.list_templates():
                client.application.jinja_env.get_template(name)
        prepare_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        response = client.get(f"/figures?q={quote(args.child)}")
        ms = (time.perf_counter() - t) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{args.child}: HTTP {response.status_code}")
        # the float32 model is loaded only by a batch encode (a serving process encodes queries in bfloat16)
        print(json.dumps({"first_ms": round(ms, 1), "prepare_ms": round(prepare_ms, 1),
                          "measures_encoded": getattr(searcher._measures, "encoded", -1),
                          "batch_model_loaded": searcher.encoder._model is not None}))
        searcher.close()
        shutil.rmtree(scratch, ignore_errors=True)
        return

    def get(url: str) -> float:
        t = time.perf_counter()
        response = client.get(url)
        ms = (time.perf_counter() - t) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code} {response.data[:200]!r}")
        return ms

    per_query: dict[str, dict] = {}
    for q in queries:
        first = get(f"/figures?q={quote(q)}")
        figures = searcher.figures(FiguresRequest(q))
        per_query[q] = {"first_ms": round(first, 1), "paragraphs": figures.paragraphs, "rows": figures.total,
                        "groups": len(figures.groups), "page_ms": [], "searcher_ms": []}
    for r in range(args.rounds):
        for q in queries:
            per_query[q]["page_ms"].append(get(f"/figures?q={quote(q)}{VIEWS[r % len(VIEWS)]}"))
            per_query[q]["searcher_ms"].append(searcher.figures(FiguresRequest(q)).took_ms)

    print(f"\n{'query':10s} {'paragraphs':>10s} {'figures':>8s} {'groups':>6s} {'first ms':>9s} "
          f"{'page p50':>9s} {'page p95':>9s} {'figures() p50':>14s}")
    for q, d in per_query.items():
        page, own = percentiles(d["page_ms"]), percentiles(d["searcher_ms"])
        d["page"], d["searcher"] = page, own
        print(f"{q:10s} {d['paragraphs']:>10d} {d['rows']:>8d} {d['groups']:>6d} {d['first_ms']:>9.1f} "
              f"{page['p50']:>9.1f} {page['p95']:>9.1f} {own['p50']:>14.1f}")
    every = percentiles([ms for d in per_query.values() for ms in d["page_ms"]])
    firsts = percentiles([d["first_ms"] for d in per_query.values()])
    print(f"\nall repeated requests ({every['n']}): p50 {every['p50']} ms, p95 {every['p95']} ms, max {every['max']} ms")
    print(f"first request per query ({firsts['n']}): p50 {firsts['p50']} ms, max {firsts['max']} ms")
    print(f"load average {machine_info()['load_avg']}")
    for d in per_query.values():
        del d["page_ms"], d["searcher_ms"]
    write_json(args.json, {"machine": machine_info(), "command": " ".join(sys.argv), "index_dir": str(args.index_dir),
                           "uncached": args.uncached,
                           "repeated": every, "first": firsts, "queries": per_query})
    searcher.close()
    shutil.rmtree(scratch, ignore_errors=True)


def fresh_processes(args: argparse.Namespace) -> None:
    """Each query's first request in processes of its own (--child), queries interleaved round by round."""
    queries = args.query or list(QUERIES)
    per_query: dict[str, list[dict]] = {q: [] for q in queries}
    for _ in range(args.fresh):
        for q in queries:
            out = subprocess.run([sys.executable, *(["-P"] if sys.flags.safe_path else []), "-m", "scripts.benchmarks.bench_figures_view", "--index-dir",
                                  str(args.index_dir), "--child", q, *(["--no-prepare"] if args.no_prepare else [])], capture_output=True, text=True, check=True)
            per_query[q].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'query':10s} {'first ms':>20s} {'prepare ms':>20s} {'measures encoded':>17s} {'batch model loaded':>19s}")
    for q, runs in per_query.items():
        print(f"{q:10s} {' / '.join(str(r['first_ms']) for r in runs):>20s} "
              f"{' / '.join(str(r['prepare_ms']) for r in runs):>20s} "
              f"{max(r['measures_encoded'] for r in runs):>17d} {any(r['batch_model_loaded'] for r in runs)!s:>19s}")
    firsts = percentiles([r["first_ms"] for runs in per_query.values() for r in runs])
    print(f"\nfirst table of a fresh process ({firsts['n']}): p50 {firsts['p50']} ms, p95 {firsts['p95']} ms, "
          f"max {firsts['max']} ms")
    print(f"load average {machine_info()['load_avg']}")
    write_json(args.json, {"machine": machine_info(), "command": " ".join(sys.argv), "index_dir": str(args.index_dir),
                           "fresh": firsts, "queries": per_query})


if __name__ == "__main__":
    main()
