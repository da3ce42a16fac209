"""Score the year-by-year paragraph alignment (search/years.py) against the hand-judged truth
(tests/data/alignment/truth.tsv, 17 year pairs of corpora/years).

    python -m indexer.evaluation.alignment --index-dir INDEX [--threshold T] [--sweep] [--errors]

INDEX is an index of corpora/years (`reportsearch index corpora/years --index-dir INDEX`). The truth numbers the
non-empty lines of each file (0 = title); the index may join a run-in heading line with its body into one
paragraph, so each line is mapped to the stored paragraph holding its text and takes that paragraph's label.
A truth row is right when its label is: 延续 / 新增 for every paragraph of the later year, 未再提及 for the
earlier paragraphs the truth leaves unpaired. "counterpart" counts the 延续 rows paired with the right earlier
paragraph. The threshold is chosen on the development pairs (every other pair in truth order, the first
included) and reported on the held-out rest too; `--sweep` prints the development accuracy per threshold.
"""
from __future__ import annotations

import argparse
import csv
import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from indexer.core.config import Config
from indexer.search.align import CONTINUED, DROPPED, NEW, align
from indexer.search.searcher import Searcher
from indexer.search.years import ReportSide

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
TRUTH = REPO / "tests" / "data" / "alignment" / "truth.tsv"
FIGURE_TRUTH = TRUTH.with_name("figure_pairs.tsv")
CORPUS = REPO / "corpora" / "years"
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class TruthRow:
    side: str
    line: int
    label: str
    counterpart: int | None
    ambiguous: bool


@dataclass
class PairTruth:
    place: str
    earlier: str  # file names
    later: str
    rows: list[TruthRow] = field(default_factory=list)


@dataclass
class Score:
    rows: int = 0
    right: int = 0
    clear_rows: int = 0  # without the rows whose note starts with "ambiguous:"
    clear_right: int = 0
    continued: int = 0  # truth 延续 rows
    counterpart_right: int = 0  # … predicted 延续 with the same counterpart
    errors: list[str] = field(default_factory=list)

    def add(self, other: "Score") -> None:
        for name in ("rows", "right", "clear_rows", "clear_right", "continued", "counterpart_right"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)

    @property
    def accuracy(self) -> float:
        return self.right / self.rows if self.rows else 0.0

    @property
    def clear_accuracy(self) -> float:
        return self.clear_right / self.clear_rows if self.clear_rows else 0.0


def read_truth(path: Path = TRUTH) -> list[PairTruth]:
    if not path.is_file():
        raise SystemExit(f"alignment truth not found: {path}")
    pairs: dict[tuple[str, str, str], PairTruth] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            key = (r["place"], r["earlier_file"], r["later_file"])
            pair = pairs.setdefault(key, PairTruth(*key))
            pair.rows.append(TruthRow(r["side"], int(r["paragraph_index"]), r["label"],
                                      int(r["counterpart_index"]) if r["counterpart_index"] else None,
                                      r["note"].startswith("ambiguous:")))
    return list(pairs.values())


def split(pairs: list[PairTruth]) -> tuple[list[PairTruth], list[PairTruth]]:
    """(development, held-out): every other pair in truth order."""
    return pairs[0::2], pairs[1::2]


def line_map(path: Path, side: ReportSide) -> dict[int, int]:
    """File line (truth numbering, non-empty lines) -> index of the stored paragraph that holds its text."""
    lines = [_SPACE.sub("", line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    stored = [(p.index, _SPACE.sub("", p.text)) for p in side.align_paragraphs]
    out: dict[int, int] = {}
    at = 0
    for n, line in enumerate(lines):
        if n == 0:
            continue  # the title
        for k in range(at, len(stored)):
            if line and line in stored[k][1]:
                out[n], at = stored[k][0], k
                break
        else:
            raise ValueError(f"{path.name} line {n} is in no stored paragraph: {line[:30]}")
    return out


class PairData:
    """One truth pair's two reports read from the index once (the threshold sweep re-aligns them)."""

    def __init__(self, searcher: Searcher, truth: PairTruth, corpus: Path = CORPUS):
        self.truth = truth
        with searcher.snapshot() as snap:
            docs = {d.path.rsplit("/", 1)[-1]: d for d in snap.document_list()}
            for name in (truth.earlier, truth.later):
                if name not in docs:
                    raise SystemExit(f"{name} is not in the index: index corpora/years first")
            self.left = ReportSide(snap, docs[truth.earlier], searcher._text_vectors)
            self.right = ReportSide(snap, docs[truth.later], searcher._text_vectors)
        self.left_lines = line_map(corpus / truth.earlier, self.left)
        self.right_lines = line_map(corpus / truth.later, self.right)

    def score(self, threshold: float) -> Score:
        pairs = align(self.left.align_paragraphs, self.right.align_paragraphs, threshold)
        later_of = {p.later: p for p in pairs if p.later is not None}
        paired_earlier = {p.earlier for p in pairs if p.earlier is not None and p.later is not None}
        s = Score()
        for row in self.truth.rows:
            if row.side == "later":
                p = later_of[self.right_lines[row.line]]
                got, counterpart = p.label, p.earlier
            else:
                got = CONTINUED if self.left_lines[row.line] in paired_earlier else DROPPED
                counterpart = None
            ok = got == row.label or (row.side == "earlier" and got == DROPPED)
            s.rows += 1
            s.right += ok
            s.clear_rows += not row.ambiguous
            s.clear_right += ok and not row.ambiguous
            if row.label == CONTINUED:
                s.continued += 1
                s.counterpart_right += ok and counterpart == self.left_lines.get(row.counterpart)
            if not ok:
                s.errors.append(f"{self.truth.place} {self.truth.earlier}→{self.truth.later} {row.side} ¶{row.line}: "
                                f"truth {row.label}, got {got}{' (ambiguous)' if row.ambiguous else ''}")
        return s


@dataclass
class FigureScore:
    truth: int = 0  # figure pairs judged (figure_pairs.tsv)
    found: int = 0  # pairs the comparison shows
    right: int = 0  # … that are judged pairs
    missed: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)


def figure_score(searcher: Searcher, pairs: list[PairData], path: Path = FIGURE_TRUTH) -> FigureScore:
    """The figures across the years of each truth pair (`Searcher.years`) against figure_pairs.tsv, matched on
    both figures as written (number, 余/多, unit)."""
    from collections import Counter

    from indexer.search.years import YearsRequest

    with path.open(encoding="utf-8", newline="") as fh:
        judged = Counter((r["earlier_file"], r["later_file"], r["earlier_as_written"], r["later_as_written"])
                         for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    shown: Counter = Counter()
    for p in pairs:
        e, l = p.left.doc.meta, p.right.doc.meta
        response = searcher.years(YearsRequest(l.place, (e.year, l.year)))
        for f in response.comparisons[0].figures:
            shown[(p.truth.earlier, p.truth.later, f.earlier + f.unit, f.later + f.unit)] += 1
    s = FigureScore(truth=sum(judged.values()), found=sum(shown.values()), right=sum((judged & shown).values()))
    s.missed = [" ".join(k) for k in (judged - shown).elements()]
    s.spurious = [" ".join(k) for k in (shown - judged).elements()]
    return s


def evaluate(pairs: list[PairData], threshold: float) -> tuple[Score, list[tuple[PairData, Score]]]:
    total, each = Score(), []
    for p in pairs:
        s = p.score(threshold)
        total.add(s)
        each.append((p, s))
    return total, each


def choose_threshold(dev: list[PairData], grid: list[float]) -> tuple[float, list[tuple[float, float]]]:
    """The threshold with the best development accuracy (the middle one of a tie: the widest margin)."""
    sweep = [(t, evaluate(dev, t)[0].accuracy) for t in grid]
    best = max(a for _, a in sweep)
    tied = [t for t, a in sweep if a == best]
    return tied[len(tied) // 2], sweep


def report(pairs: list[PairData], dev_names: set[tuple[str, str]], threshold: float, errors: bool) -> str:
    total, each = evaluate(pairs, threshold)
    lines = [f"threshold {threshold:.2f}", "",
             "| place | pair | split | rows | label accuracy | without ambiguous | 延续 with the right counterpart |",
             "|---|---|---|---|---|---|---|"]
    for p, s in each:
        t = p.truth
        split_name = "dev" if (t.earlier, t.later) in dev_names else "held-out"
        lines.append(f"| {t.place} | {t.earlier[:4]}→{t.later[:4]} | {split_name} | {s.rows} | {s.accuracy:.3f} | "
                     f"{s.clear_accuracy:.3f} | {s.counterpart_right}/{s.continued} |")
    for name, chosen in (("dev", True), ("held-out", False)):
        part = Score()
        for p, s in each:
            if ((p.truth.earlier, p.truth.later) in dev_names) == chosen:
                part.add(s)
        lines.append(f"| **{name}** | | | {part.rows} | {part.accuracy:.3f} | {part.clear_accuracy:.3f} | "
                     f"{part.counterpart_right}/{part.continued} |")
    lines.append(f"| **all** | | | {total.rows} | {total.accuracy:.3f} | {total.clear_accuracy:.3f} | "
                 f"{total.counterpart_right}/{total.continued} |")
    if errors:
        lines += ["", *total.errors]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", required=True, help="an index of corpora/years")
    parser.add_argument("--truth", default=str(TRUTH))
    parser.add_argument("--threshold", type=float, help="score at this threshold (default: the configured one)")
    parser.add_argument("--sweep", action="store_true", help="choose the threshold on the development pairs")
    parser.add_argument("--errors", action="store_true", help="list the wrong rows")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    config = Config(index_dir=Path(args.index_dir))
    searcher = Searcher.open(config)
    try:
        truth = read_truth(Path(args.truth))
        dev_truth, _ = split(truth)
        dev_names = {(t.earlier, t.later) for t in dev_truth}
        pairs = [PairData(searcher, t) for t in truth]
        threshold = args.threshold if args.threshold is not None else config.figures.align_threshold
        if args.sweep:
            grid = [round(0.30 + 0.01 * k, 2) for k in range(51)]
            threshold, sweep = choose_threshold([p for p in pairs if (p.truth.earlier, p.truth.later) in dev_names],
                                                grid)
            print("development accuracy by threshold: "
                  + ", ".join(f"{t:.2f} {a:.3f}" for t, a in sweep if round(t * 100) % 2 == 0))
            print(f"chosen on the development pairs: {threshold:.2f}\n")
        print(report(pairs, dev_names, threshold, args.errors))
        if args.threshold is None or args.threshold == config.figures.align_threshold:
            f = figure_score(searcher, pairs)
            print(f"\nfigures across the years (figure_pairs.tsv): {f.right} of {f.truth} judged pairs shown, "
                  f"{f.found - f.right} shown that are not judged pairs")
            if args.errors:
                print("\n".join(["missed:", *f.missed, "not judged:", *f.spurious]))
    finally:
        searcher.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
