"""Score extract_figures against the hand-judged truth (tests/data/figures/truth.tsv).

    python -m indexer.evaluation.figures tests/data/figures/truth.tsv [--split all|dev|heldout] [--errors]

Every paragraph of every file named in the truth is run through the extractor (a covered file is complete:
each of its figures is in the truth). A figure matches on (file, paragraph, as_written, value, unit);
qualifier and measure are then compared on the matched pairs. Measures: "exact" is string equality,
"overlap" means the longest common substring is at least 2 characters and at least half of the shorter phrase.
The held-out split is every third covered file in sorted order (kept out while the rules were written).
"""
from __future__ import annotations

import argparse
import csv
import logging
import os
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from indexer.evaluation.metrics import MatchCounts
from indexer.pipeline.figures.extract import Figure, extract_figures

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
TRUTH_COLUMNS = ["file", "paragraph_index", "sentence", "as_written", "value", "qualifier", "unit", "measure"]


def default_roots() -> dict[str, Path]:
    """Where the truth's file prefixes live: years/ in the repository, eval-townships/ in ../shared."""
    shared = Path(os.environ.get("EVAL_TOWNSHIPS", REPO.parent / "shared" / "eval-townships" / "corpus"))
    return {"years": REPO / "corpora" / "years", "eval-townships": shared}


@dataclass(frozen=True)
class TruthRow:
    file: str
    paragraph: int
    sentence: str
    as_written: str
    value: str
    qualifier: str
    unit: str
    measure: str


@dataclass
class Score(MatchCounts):
    files: int = 0
    qualifier_ok: int = 0
    measure_exact: int = 0
    measure_overlap: int = 0
    missed: list[TruthRow] = field(default_factory=list)
    spurious: list[tuple[str, int, Figure]] = field(default_factory=list)
    wrong: list[tuple[TruthRow, Figure]] = field(default_factory=list)  # matched, qualifier or measure differs

    def rate(self, n: int) -> float:
        return n / self.matched if self.matched else 0.0


def read_truth(path: Path) -> list[TruthRow]:
    if not path.is_file():
        raise SystemExit(f"figures truth not found: {path}")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header != TRUTH_COLUMNS:
            raise SystemExit(f"{path}: expected columns {' '.join(TRUTH_COLUMNS)}, got {header}")
        return [TruthRow(r[0], int(r[1]), *r[2:]) for r in reader if r]


def paragraphs(file: str, roots: dict[str, Path]) -> list[str]:
    """The file's non-empty lines: paragraph_index counts these, 0-based."""
    prefix, _, name = file.partition("/")
    if prefix not in roots:
        raise SystemExit(f"truth names {file!r}: unknown prefix {prefix!r} (known: {', '.join(roots)})")
    path = roots[prefix] / name
    if not path.is_file():
        raise SystemExit(f"{file}: {path} not found (set EVAL_TOWNSHIPS for the eval-townships corpus)")
    return [line.rstrip("\n") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def covered_files(truth: list[TruthRow], roots: dict[str, Path], complete: tuple[str, ...]) -> list[str]:
    """Files in the truth, plus every file under the roots judged complete (files with no figure have no row)."""
    files = {row.file for row in truth}
    for prefix in complete:
        if prefix not in roots or not roots[prefix].is_dir():
            raise SystemExit(f"--complete {prefix}: no such corpus root ({roots.get(prefix)})")
        files.update(f"{prefix}/{p.name}" for p in roots[prefix].iterdir() if p.suffix == ".txt")
    return sorted(files)


def split_files(files: list[str], with_rows: set[str], split: str) -> list[str]:
    """Held out: every third file in sorted order, counted separately among files with and without figures."""
    if split == "all":
        return sorted(files)
    held: set[str] = set()
    for group in (sorted(f for f in files if f in with_rows), sorted(f for f in files if f not in with_rows)):
        held.update(f for i, f in enumerate(group) if i % 3 == 2)
    return sorted(f for f in files if (f in held) == (split == "heldout"))


def measures_overlap(a: str, b: str) -> bool:
    if not a or not b:
        return False
    short, long_ = sorted((a, b), key=len)
    best = 0
    for i in range(len(short)):
        for j in range(i + best + 1, len(short) + 1):
            if short[i:j] in long_:
                best = j - i
            else:
                break
    return best >= 2 and best * 2 >= len(short)


def _same_value(truth: str, figure: Figure) -> bool:
    if "-" in truth:
        lo, hi = (float(x) for x in truth.split("-"))
        return figure.value_high is not None and abs(figure.value - lo) < 1e-6 and abs(figure.value_high - hi) < 1e-6
    return figure.value_high is None and abs(figure.value - float(truth)) < 1e-6 * max(1.0, float(truth))


def score(truth: list[TruthRow], roots: dict[str, Path], split: str = "all",
          complete: tuple[str, ...] = ("years",)) -> Score:
    """`complete`: corpus roots whose every file was judged (the README of the truth says which)."""
    by_file: dict[str, list[TruthRow]] = defaultdict(list)
    for row in truth:
        by_file[row.file].append(row)
    result = Score()
    for file in split_files(covered_files(truth, roots, complete), set(by_file), split):
        result.files += 1
        expected: dict[int, list[TruthRow]] = defaultdict(list)
        for row in by_file[file]:
            expected[row.paragraph].append(row)
        texts = paragraphs(file, roots)
        beyond = [row for rows in expected.values() for row in rows if row.paragraph >= len(texts)]
        if beyond:
            raise SystemExit(f"truth names paragraph {beyond[0].paragraph} of {file} ({beyond[0].as_written!r}), "
                             f"which has {len(texts)} non-empty lines")
        for index, text in enumerate(texts):
            found = extract_figures(text)
            rows = list(expected.get(index, []))
            result.truth += len(rows)
            result.predicted += len(found)
            for figure in found:
                hit = next((r for r in rows if r.as_written == figure.as_written and r.unit == figure.unit
                            and _same_value(r.value, figure)), None)
                if hit is None:
                    result.spurious.append((file, index, figure))
                    continue
                rows.remove(hit)
                result.matched += 1
                result.qualifier_ok += hit.qualifier == figure.qualifier
                result.measure_exact += hit.measure == figure.measure
                overlap = measures_overlap(hit.measure, figure.measure)
                result.measure_overlap += overlap
                if hit.qualifier != figure.qualifier or not overlap:
                    result.wrong.append((hit, figure))
            result.missed.extend(rows)
    return result


def table(scores: dict[str, Score]) -> str:
    columns = ["split", "files", "truth", "found", "matched", "precision", "recall", "qualifier", "measure exact",
               "measure overlap"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for name, s in scores.items():
        lines.append(f"| {name} | {s.files} | {s.truth} | {s.predicted} | {s.matched} | {s.precision:.3f} | "
                     f"{s.recall:.3f} | {s.rate(s.qualifier_ok):.3f} | {s.rate(s.measure_exact):.3f} | "
                     f"{s.rate(s.measure_overlap):.3f} |")
    return "\n".join(lines)


def errors(s: Score) -> str:
    out = []
    for r in s.missed:
        out.append(f"missed   {r.file}#{r.paragraph} {r.as_written}{r.unit} [{r.qualifier}] {r.measure} | {r.sentence}")
    for file, index, f in s.spurious:
        out.append(f"spurious {file}#{index} {f.as_written}{f.unit} [{f.qualifier}] {f.measure} | {f.sentence}")
    for r, f in s.wrong:
        out.append(f"differs  {r.file}#{r.paragraph} {r.as_written}{r.unit}: qualifier {r.qualifier!r}/{f.qualifier!r}"
                   f" measure {r.measure} / {f.measure}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer.evaluation.figures", description=__doc__.split("\n")[0])
    parser.add_argument("truth", type=Path, help="truth.tsv (tests/data/figures/truth.tsv)")
    parser.add_argument("--split", choices=["all", "dev", "heldout", "each"], default="each",
                        help="which covered files to score (default: held-out, dev and all, one row each)")
    parser.add_argument("--errors", action="store_true",
                        help="list missed, spurious and differing figures (with the default split: of the dev "
                             "files only, so that the held-out ones stay unseen)")
    parser.add_argument("--complete", nargs="*", default=["years"],
                        help="corpus roots whose every file is covered, also those with no figure (default: years)")
    args = parser.parse_args(argv)
    truth = read_truth(args.truth)
    splits = ["heldout", "dev", "all"] if args.split == "each" else [args.split]
    scores = {name: score(truth, default_roots(), name, tuple(args.complete)) for name in splits}
    print(table(scores))
    if args.errors:
        print(errors(scores[splits[-1]] if args.split != "each" else scores["dev"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
