"""The cost of 历年对比 (issue 30 point 3): `Searcher.years` for two reports of one place, p50/p95.

    .venv/bin/python -m scripts.benchmarks.bench_years [--backend whoosh|tantivy] [--rounds 5]

The index holds corpora/years (12 places, 17 consecutive year pairs of report excerpts) and one full-length
pair: the longest sample report (corpora/fazhi-2023) as its 2023 report and a 2024 report derived from it
(real text: every fourth paragraph dropped, every fifth with its sentences in reverse order, the year in the
title moved on), so a comparison of two whole reports is timed too. Each call goes through the public
`Searcher.years` (what the web page and the CLI call): whole reports, and scoped by a query (信访). The first
call of the process (heading texts encoded, caches cold) is reported on its own.
"""
from __future__ import annotations

import argparse
import logging
import re
import shutil
import time
from pathlib import Path

from indexer.build.index import Index
from indexer.core.config import Config, EmbeddingSettings, IndexSettings
from indexer.search.searcher import Searcher
from indexer.search.years import YearsRequest
from indexer.storage.vectors import Encoder
from scripts import REPO
from scripts.benchmarks.common import BENCH_DIR, SHARED_CACHE, machine_info, percentiles, write_json

YEARS = REPO / "corpora" / "years"
SAMPLE = REPO / "corpora" / "fazhi-2023"
_SENTENCE = re.compile(r"[^。；！？]+[。；！？]")


def derived_year(text: str) -> str:
    """A later year's report from a real one: paragraphs dropped, reordered sentences, the title's year + 1."""
    lines = [line for line in text.splitlines() if line.strip()]
    out = [re.sub(r"20(\d\d)", lambda m: f"20{int(m.group(1)) + 1:02d}", lines[0], count=1)]
    for n, line in enumerate(lines[1:], 1):
        if n % 4 == 0:
            continue
        if n % 5 == 0:
            parts = _SENTENCE.findall(line)
            line = "".join(reversed(parts)) if len(parts) > 1 else line
        out.append(line)
    return "\n\n".join(out) + "\n"


def build(root: Path, backend: str, encoder: Encoder) -> Config:
    corpus = root / "corpus"
    shutil.rmtree(corpus / "years", ignore_errors=True)
    shutil.copytree(YEARS, corpus / "years", ignore=shutil.ignore_patterns("*.md", "*.tsv"))
    longest = max(SAMPLE.glob("*.txt"), key=lambda p: p.stat().st_size)
    text = longest.read_text(encoding="utf-8")
    (corpus / "full").mkdir(exist_ok=True)
    (corpus / "full" / "a.txt").write_text(text, encoding="utf-8")
    (corpus / "full" / "b.txt").write_text(derived_year(text), encoding="utf-8")
    config = Config(corpus_dir=corpus, index_dir=root / f"index-{backend}",
                    embedding=EmbeddingSettings(cache=SHARED_CACHE), index=IndexSettings(fulltext=backend))
    report = Index(config, encoder).build(progress=False)  # incremental: unchanged files are not redone
    if report.exit_code != 0:
        raise SystemExit(report.summary())
    return config


def pairs(searcher: Searcher) -> tuple[list[tuple[str, int, int]], tuple[str, int, int]]:
    """(every consecutive year pair of corpora/years, the full-length pair) as (place, earlier, later)."""
    by_place: dict[str, set[int]] = {}
    full = None
    for d in searcher.documents():
        if d.meta.year is None:
            continue
        by_place.setdefault(d.meta.place, set()).add(d.meta.year)
        if d.path.startswith("full/"):
            full = d.meta.place
    out = []
    for place, years in sorted(by_place.items()):
        ys = sorted(years)
        if place != full:
            out.extend((place, a, b) for a, b in zip(ys, ys[1:]))
    if full is None or len(by_place[full]) != 2:
        raise SystemExit("the full-length pair was not read as one place with two years")
    a, b = sorted(by_place[full])
    return out, (full, a, b)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("whoosh", "tantivy"), default="whoosh")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--query", default="信访")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    encoder = Encoder("m3e-small")
    config = build(BENCH_DIR / "years", args.backend, encoder)
    searcher = Searcher.open(config, encoder)
    try:
        excerpts, full = pairs(searcher)
        t0 = time.perf_counter()
        first = searcher.years(YearsRequest(full[0], (full[1], full[2])))
        first_ms = (time.perf_counter() - t0) * 1000
        rows = {"full-length pair": len(first.comparisons[0].rows)}
        timings: dict[str, list[float]] = {}
        for round_no in range(args.rounds):
            for name, group in (("excerpt pairs", excerpts), ("full-length pair", [full])):
                for place, a, b in group:
                    for query, key in (("", name), (args.query, f"{name}, q")):
                        t = time.perf_counter()
                        searcher.years(YearsRequest(place, (a, b), query))
                        # the first comparison of a pair encodes its measures and stub headings (then cached)
                        key += ", first time" if round_no == 0 and not query and name != "full-length pair" else ""
                        timings.setdefault(key, []).append((time.perf_counter() - t) * 1000)
    finally:
        searcher.close()
    print(f"backend {args.backend}; {len(excerpts)} excerpt pairs, full-length pair {full[0]} {full[1]}→{full[2]} "
          f"({rows['full-length pair']} rows); first call of the process {first_ms:.1f} ms")
    result = {"backend": args.backend, "rounds": args.rounds, "first_call_ms": round(first_ms, 1),
              "machine": machine_info(), "groups": {}}
    for key, values in timings.items():
        p = percentiles(values)
        result["groups"][key] = {"calls": len(values), **p}
        print(f"{key:30s} calls {len(values):4d}  p50 {p['p50']:7.1f} ms  p95 {p['p95']:7.1f} ms  max {max(values):7.1f} ms")
    write_json(BENCH_DIR / f"bench_years_{args.backend}.json", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
