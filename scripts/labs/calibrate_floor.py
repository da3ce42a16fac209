"""Calibrate Config.retrieval.semantic_floor: nDCG@10 and Recall@100 per evaluation set for candidate floors.

    .venv/bin/python -m scripts.labs.calibrate_floor                  # the three sets, default floors
    .venv/bin/python -m scripts.labs.calibrate_floor --floors 0,0.6,0.65 --modes hybrid --json floor.json

The floor drops hits that only the semantic side found (no literal match) when their cosine similarity to
the query is below it. Vector search always returns neighbours, so without a floor every query "finds" the
whole candidate list; the right floor cuts that noise while costing (almost) nothing on judged queries.
Rerun after any change to the embedding side (model, embedded text): cosines move with it.

For each set and floor it prints, per mode, nDCG@10, Recall@100 and the mean number of results a query
claims (`total`), then the largest floor whose hybrid nDCG@10 and Recall@100 stay within --tolerance of
no floor on every set. Indexes are the cached evaluation indexes of `reportsearch eval` (.bench/).
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from indexer import SearchRequest, Searcher, load_config
from indexer.evaluation.datasets import load_dataset
from indexer.evaluation.indexes import prepare_index
from indexer.evaluation.run import evaluate
from scripts import REPO

SHARED = REPO.parent / "shared"
DEFAULT_SETS = [
    f"{REPO / 'corpora' / 'eval'}",
    f"{SHARED / 'eval-townships'}:{SHARED / 'eval-townships' / 'corpus'}",
    f"{SHARED / 'bench' / 'stard' / 'small'}",
]
DEFAULT_FLOORS = "0,0.55,0.6,0.62,0.64,0.66,0.68,0.7,0.72,0.75"
METRICS = ("ndcg@10", "recall@100")


def parse_set(spec: str) -> tuple[Path, Path | None]:
    """DIR or DIR:CORPUS (a passage-level set names the folder it judges)."""
    root, _, corpus = spec.partition(":")
    return Path(root), Path(corpus) if corpus else None


def mean_total(searcher: Searcher, dataset, mode: str) -> float:
    totals = [searcher.search(SearchRequest(q.text, mode=mode, size=10)).total for q in dataset.queries]
    return sum(totals) / max(1, len(totals))


def calibrate(spec: str, floors: list[float], modes: list[str], base_config) -> dict:
    root, corpus = parse_set(spec)
    dataset = load_dataset(root, corpus)
    config = prepare_index(dataset, base_config, bench_dir=REPO / ".bench")
    searcher = Searcher.open(config)
    rows: dict[str, dict[str, dict[str, float]]] = {}
    try:
        for floor in floors:
            # One searcher for every floor: query vectors are encoded once (the floor is read per query).
            searcher.config = config.with_overrides({"retrieval.semantic_floor": floor})
            result = evaluate(searcher, dataset, modes)
            rows[str(floor)] = {mode: {**{m: result.summary(mode).values[m] for m in METRICS},
                                       "mean_total": mean_total(searcher, dataset, mode)} for mode in modes}
            line = "  ".join(f"{mode} nDCG@10 {v['ndcg@10']:.4f} R@100 {v['recall@100']:.4f} total {v['mean_total']:6.1f}"
                             for mode, v in rows[str(floor)].items())
            print(f"  {dataset.name:<16} floor {floor:<5} {line}", flush=True)
    finally:
        searcher.close()
    return {"dataset": str(root), "queries": len(dataset.queries), "floors": rows}


def suggest(results: list[dict], floors: list[float], tolerance: float) -> float:
    """The largest floor whose hybrid metrics stay within `tolerance` of no floor on every set."""
    best = floors[0]
    for floor in floors:
        ok = all(r["floors"][str(floor)]["hybrid"][m] >= r["floors"][str(floors[0])]["hybrid"][m] - tolerance
                 for r in results for m in METRICS if "hybrid" in r["floors"][str(floor)])
        if ok:
            best = floor
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="*", default=DEFAULT_SETS, help="DIR or DIR:CORPUS (default: the three sets)")
    ap.add_argument("--floors", default=DEFAULT_FLOORS, help=f"comma-separated, the first is the baseline "
                                                             f"(default {DEFAULT_FLOORS})")
    ap.add_argument("--modes", default="hybrid,semantic")
    ap.add_argument("--tolerance", type=float, default=0.005, help="allowed loss in hybrid nDCG@10 / R@100")
    ap.add_argument("--config", help="TOML config (e.g. another model)")
    ap.add_argument("--json", type=Path, help="write all figures here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    floors = [float(f) for f in args.floors.split(",")]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    base = load_config(args.config)
    if base.embedding.cache is None:
        base = base.with_overrides({"embedding.cache": REPO / ".bench" / "embeddings.sqlite"})
    results = []
    for spec in args.sets:
        print(f"{spec}:", flush=True)
        results.append(calibrate(spec, floors, modes, base))
    if "hybrid" in modes:
        print(f"largest floor within {args.tolerance} of no floor (hybrid nDCG@10 and R@100, every set): "
              f"{suggest(results, floors, args.tolerance)}")
    if args.json:
        args.json.write_text(json.dumps({"model": base.embedding.model, "modes": modes, "sets": results},
                                        ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
