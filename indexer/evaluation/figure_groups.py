"""Score measure grouping against the judged groups (tests/data/figures/measure_groups.tsv): pairwise precision/recall.

    python -m indexer.evaluation.figure_groups tests/data/figures/measure_groups.tsv [--thresholds 0.85 0.9] [--errors]

A pair of measures counts when both are in one group. Rows: "dev" and "heldout" are every other judged group
(the threshold was chosen on dev); "all" clusters all measures together, so it also meets the confusions
between the halves. Loads the embedding model, so it sits with the apps (scripts/tools/check_imports.py).
"""
from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from indexer.evaluation.metrics import MatchCounts
from indexer.pipeline.figures.grouping import DEFAULT_THRESHOLD, group_measures, read_groups
from indexer.storage.vectors.encoder import Encoder


@dataclass
class PairScore(MatchCounts):
    """Pairs of measures put in one group, against the judged groups' pairs."""

    measures: int = 0


def measure_pairs(groups: Sequence[Sequence[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for g in groups for p in itertools.combinations(g, 2)}


def pair_score(predicted: Sequence[Sequence[str]], truth: Sequence[Sequence[str]]) -> PairScore:
    p, t = measure_pairs(predicted), measure_pairs(truth)
    return PairScore(truth=len(t), predicted=len(p), matched=len(p & t), measures=sum(len(g) for g in truth))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer.evaluation.figure_groups",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("groups", type=Path, help="measure_groups.tsv (group_id, measure)")
    parser.add_argument("--model", default="m3e-small")
    parser.add_argument("--thresholds", type=float, nargs="*", default=[DEFAULT_THRESHOLD])
    parser.add_argument("--errors", action="store_true", help="list wrongly joined and wrongly split pairs")
    args = parser.parse_args(argv)
    groups = read_groups(args.groups)
    # halves by group order (every other group): the threshold was chosen on "dev"; "all" clusters every
    # measure together, so it also meets the confusions between the halves (第一/第二产业产值 are in different ones)
    order = sorted(groups)
    splits = {"dev": [groups[g] for i, g in enumerate(order) if i % 2 == 0],
              "heldout": [groups[g] for i, g in enumerate(order) if i % 2 == 1],
              "all": [groups[g] for g in order]}
    encoder = Encoder(args.model)
    print("| split | threshold | measures | true pairs | predicted pairs | matched | pair precision | pair recall |")
    print("|---|---|---|---|---|---|---|---|")
    for threshold in args.thresholds:
        for name, truth in splits.items():
            predicted = group_measures([m for g in truth for m in g], encoder, threshold)
            s = pair_score(predicted, truth)
            print(f"| {name} | {threshold:.2f} | {s.measures} | {s.truth} | {s.predicted} | "
                  f"{s.matched} | {s.precision:.3f} | {s.recall:.3f} |")
            if args.errors and name == "all":
                p, t = measure_pairs(predicted), measure_pairs(truth)
                for pair in sorted(p - t, key=sorted):
                    print("  joined, judged different:", " / ".join(sorted(pair)))
                for pair in sorted(t - p, key=sorted):
                    print("  split, judged the same:  ", " / ".join(sorted(pair)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
