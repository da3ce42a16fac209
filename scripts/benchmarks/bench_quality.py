"""Retrieval-quality benchmarks: the acceptance runs and the fusion sweep behind docs/evaluation.md.

    python -m scripts.benchmarks.bench_quality run [sample|stard-small|stard-full ...]  # `reportsearch eval` on each
    python -m scripts.benchmarks.bench_quality sweep DATASET [--depth 100]             # fusion grid, offline

`run` prints the same tables as `reportsearch eval`. STARD lives outside the repository
(../shared/bench/stard, or $STARD_DIR); when it is missing those runs are skipped with a message. The full
corpus (56,467 passages) is a manual benchmark: its first build embeds for 30+ minutes on 2 cores.

`sweep` fetches each retriever's top list once per query (no collapsing, as the fusion sees them) and
re-fuses them under every setting of the grid, so a whole grid costs one pass of queries.
"""
from __future__ import annotations

import argparse
import logging
import os
import pickle
import sys
import time
from pathlib import Path

from indexer import Config, SearchRequest, Searcher, load_config
from indexer.evaluation.datasets import Dataset, load_dataset
from indexer.evaluation.indexes import prepare_index
from indexer.evaluation.metrics import score_ranking, summarize
from indexer.evaluation.run import evaluate, format_table, format_worst
from indexer.search.fuse import fuse
from indexer.search.query import parse_query
from indexer.search.routing import query_kind
from scripts import REPO

log = logging.getLogger("bench_quality")

STARD = Path(os.environ.get("STARD_DIR", REPO.parent / "shared" / "bench" / "stard"))
DATASETS = {
    "sample": REPO / "corpora" / "eval",
    "stard-small": STARD / "small",
    "stard-full": STARD,
}
BENCH_DIR = REPO / ".bench"


def _config() -> Config:
    config = load_config()
    if config.embedding.cache is None:
        config = config.with_overrides({"embedding.cache": BENCH_DIR / "embeddings.sqlite"})
    return config


def _dataset(name: str) -> Dataset | None:
    path = DATASETS.get(name, Path(name))
    if not path.is_dir():
        print(f"skipped {name}: {path} not found (STARD stays outside the repo; set STARD_DIR)")
        return None
    ds = load_dataset(path)
    if name == "stard-full":  # the full corpus is evaluated on STARD's official dev queries
        dev = {line.strip() for line in (STARD / "dev_query_ids.txt").read_text().splitlines() if line.strip()}
        ds = ds.select(dev)
    return ds


def cmd_run(args: argparse.Namespace) -> int:
    config = _config()
    for name in args.datasets:
        ds = _dataset(name)
        if ds is None:
            continue
        t0 = time.perf_counter()
        cfg = prepare_index(ds, config, bench_dir=BENCH_DIR)
        searcher = Searcher.open(cfg)
        try:
            result = evaluate(searcher, ds, ("keyword", "semantic", "hybrid"))
        finally:
            searcher.close()
        print(f"== {name}: {len(ds.queries)} queries, index {cfg.index_dir} ({time.perf_counter() - t0:.0f}s)")
        print(format_table(result))
        print(format_worst(result, args.worst))
    return 0


# -- sweep ---------------------------------------------------------------------------------------

def collect(searcher: Searcher, ds: Dataset, depth: int):
    """Per query: the keyword and semantic lists as fusion receives them, and chunk -> (path, text)."""
    runs = []
    for q in ds.queries:
        lists, info = {}, {}
        for mode in ("keyword", "semantic"):
            hits = []
            for page in range(1, (depth + 99) // 100 + 1):
                resp = searcher.search(SearchRequest(q.text, mode=mode, size=100, page=page, collapse_duplicates=False))
                hits.extend(resp.hits)
                if len(resp.hits) < 100:
                    break
            hits = hits[:depth]
            lists[mode] = [(h.chunk_id, h.keyword_score if mode == "keyword" else h.semantic_score) for h in hits]
            info.update({h.chunk_id: (h.path, h.text) for h in hits})
        runs.append((q, lists, info, query_kind(parse_query(q.text))))
    return runs


def grid(fine: bool = False):
    ks = (5, 10, 20, 40, 60)
    ratios = ((1, 1), (1, 0.5), (1, 0.3), (0.7, 1), (0.5, 1), (0.3, 1))
    alphas = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8) if fine else (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    for k in ks:
        for wk, ws in ratios:
            yield f"rrf k={k} w={wk}:{ws}", dict(method="rrf", k=k, w=(wk, ws))
    for norm in ("minmax", "zscore"):
        for a in alphas:
            yield f"convex {norm} w={a:.2f}:{1 - a:.2f}", dict(method="convex", norm=norm, w=(a, 1 - a))


def cmd_sweep(args: argparse.Namespace) -> int:
    ds = _dataset(args.dataset)
    if ds is None:
        return 0
    cfg = prepare_index(ds, _config(), bench_dir=BENCH_DIR)
    # The retrieved lists depend only on the index and the depth: keep them for the next grid.
    candidates = cfg.retrieval.candidates
    cached = BENCH_DIR / f"sweep-{cfg.index_dir.name}-{len(ds.queries)}q-{args.depth}-c{candidates}.pickle"
    if cached.exists():
        runs = pickle.loads(cached.read_bytes())
    else:
        searcher = Searcher.open(cfg)
        try:
            runs = collect(searcher, ds, args.depth)
        finally:
            searcher.close()
        cached.write_bytes(pickle.dumps(runs))
    groups = {"label": lambda r: r[0].kind, "route": lambda r: r[3].value}[args.by]
    names = sorted({groups(r) for r in runs})
    header = f"{'setting':<28}" + "".join(f"{n[:9]:>10}" for n in names) + f"{'all':>10}{'R@100':>8}"
    print(f"{ds.root}: {len(runs)} queries; nDCG@10 by {args.by} kind")
    print(header)
    singles = [("keyword only", None, "keyword"), ("semantic only", None, "semantic")]
    settings = [(n, None, m) for n, _, m in singles] + [(n, s, None) for n, s in grid(args.fine)]
    for name, s, only in settings:
        per = []
        for q, lists, info, kind in runs:
            if only:
                ranking = [cid for cid, _ in lists[only]]
            else:
                fused = fuse({"keyword": lists["keyword"], "semantic": lists["semantic"]},
                             {"keyword": s["w"][0], "semantic": s["w"][1]}, s["method"], s.get("k", 60),
                             s.get("norm", "minmax"))
                ranking = [f.chunk_id for f in fused]
            per.append((groups((q, lists, info, kind)), score_ranking(ds, q, ranking, info)))
        cells = [summarize([m for g, m in per if g == n]).values["ndcg@10"] for n in names]
        total = summarize([m for _, m in per]).values
        print(f"{name:<28}" + "".join(f"{c:>10.4f}" for c in cells) + f"{total['ndcg@10']:>10.4f}"
              f"{total['recall@100']:>8.4f}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run")
    p.add_argument("datasets", nargs="*", default=["sample", "stard-small"])
    p.add_argument("--worst", type=int, default=5)
    p = sub.add_parser("sweep")
    p.add_argument("dataset")
    p.add_argument("--depth", type=int, default=100)
    p.add_argument("--by", choices=("label", "route"), default="label")
    p.add_argument("--fine", action="store_true", help="finer convex weights")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return {"run": cmd_run, "sweep": cmd_sweep}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
