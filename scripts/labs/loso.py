"""Leave-one-set-out choice of a setting from `reportsearch eval --json` runs (issue 12, direction 1).

    python -m scripts.labs.loso .bench/results/grid --sets sample,town,stard

The folder holds one JSON per set and configuration, named `<set>-<config>.json` (the `--json` output of
`reportsearch eval`). For each held-out set, the configuration with the best mean hybrid nDCG@10 (all
queries) on the other sets is chosen and its figure on the held-out set is reported; then the per-kind
table of every configuration, so a choice that costs one kind is visible.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def load(folder: Path, sets: list[str]) -> dict[str, dict[str, dict]]:
    """{config: {set: metrics}} for the configurations run on every set."""
    runs: dict[str, dict[str, dict]] = {}
    for path in sorted(folder.glob("*.json")):
        name, _, config = path.stem.partition("-")
        if name in sets and config:
            runs.setdefault(config, {})[name] = json.loads(path.read_text(encoding="utf-8"))["metrics"]
    return {c: r for c, r in runs.items() if set(r) == set(sets)}


def ndcg(metrics: dict, mode: str = "hybrid", kind: str = "all") -> float | None:
    value = metrics.get(mode, {}).get(kind, {}).get("ndcg@10")
    return None if value is None else float(value)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--sets", default="sample,town,stard")
    args = ap.parse_args()
    sets = args.sets.split(",")
    runs = load(args.folder, sets)
    if not runs:
        raise SystemExit(f"no configuration in {args.folder} was run on all of {', '.join(sets)}")
    print("held-out set | chosen on the others | its mean there | held-out hybrid nDCG@10")
    for held in sets:
        others = [s for s in sets if s != held]
        best = max(runs, key=lambda c: sum(ndcg(runs[c][s]) for s in others) / len(others))
        mean = sum(ndcg(runs[best][s]) for s in others) / len(others)
        print(f"{held} | {best} | {mean:.4f} | {ndcg(runs[best][held]):.4f}")
    everywhere = max(runs, key=lambda c: sum(ndcg(runs[c][s]) for s in sets))
    print(f"fitted on all sets: {everywhere}")
    print("\nhybrid nDCG@10 per configuration, set and kind (semantic mode in brackets):")
    for config in sorted(runs):
        cells = []
        for s in sets:
            m = runs[config][s]
            kinds = [k for k in m["hybrid"] if k != "all"] + ["all"]
            cells.append(s + " " + " / ".join(f"{ndcg(m, 'hybrid', k):.4f}" for k in kinds)
                         + f" ({ndcg(m, 'semantic'):.4f})")
        print(f"{config:8s} " + " | ".join(cells))


if __name__ == "__main__":
    main()
