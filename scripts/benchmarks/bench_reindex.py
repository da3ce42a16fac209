"""Benchmark periodic reindexing on a synthetic corpus of township reports (issue 4).

Builds N report files (default 1,000) by recombining the real paragraphs of corpora/fazhi-2023 under
other place names and years, then times, through the same `Index` the CLI uses:
  1. a full build (cold embedding cache unless --cache is given),
  2. an incremental run with no change,
  3. an incremental run after one file changed (one paragraph rewritten).
Prints the figures and writes them as JSON (--json).

    .venv/bin/python -m scripts.benchmarks.bench_reindex --reports 1000 --json .bench/reindex.json
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import re
import shutil
import sys
import time
from pathlib import Path

from indexer import Config, Index
from indexer.pipeline.clean import clean_blocks
from indexer.pipeline.load.text import load as load_text
from indexer.pipeline.structure import build_paragraphs
from scripts import REPO
from scripts.benchmarks.common import peak_rss_mb
from indexer.core.config import EmbeddingSettings

SAMPLE = REPO / "corpora" / "fazhi-2023"
PLACES = ["城关镇", "杜关镇", "洛村镇", "交口乡", "菜园乡", "大营镇", "原店镇", "张湾乡", "宫前乡", "店子乡",
          "王家后乡", "西李村乡", "张村镇", "双龙湾镇", "涧北街道", "湖滨街道", "石门乡", "青山镇", "柳河乡", "白沙镇"]
SAMPLE_PLACES = ["张茅乡", "前营乡", "观音堂镇", "大铭乡", "硖石乡"]


def sample_sections() -> dict[str, list[str]]:
    """Real paragraphs of the sample reports, by top-level heading kind, with their place names masked."""
    sections: dict[str, list[str]] = {"practice": [], "problems": [], "plans": []}
    for path in sorted(SAMPLE.glob("*.txt")):
        raw = load_text(path, path.name, path.read_bytes())
        for p in build_paragraphs(clean_blocks(raw.blocks)):
            if p.is_heading or len(p.text) < 40:
                continue
            text = p.text
            for name in SAMPLE_PLACES:
                text = text.replace(name, "{place}")
            key = {"存在问题": "problems", "下一步计划": "plans"}.get(p.section_kind.value, "practice")
            sections[key].append(text)
    return sections


def write_corpus(folder: Path, reports: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    sections = sample_sections()
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(reports):
        place = f"{PLACES[i % len(PLACES)][:-1]}{i // len(PLACES) + 1}{PLACES[i % len(PLACES)][-1]}"
        year = 2019 + i % 5
        parts = [f"{place}{year}年法治政府建设工作报告", "",
                 f"{year}年，{place}深入学习贯彻习近平法治思想，现将法治政府建设情况报告如下。", ""]
        for heading, key, count in (("一、主要做法和成效", "practice", 8), ("二、存在问题", "problems", 2),
                                    ("三、下一步工作计划", "plans", 2)):
            parts += [heading, ""]
            for text in rng.sample(sections[key], min(count, len(sections[key]))):
                parts += [text.replace("{place}", place).replace("2023", str(year)), ""]
        parts += [f"{place}人民政府", f"{year + 1}年1月{1 + i % 28}日"]
        (folder / f"report_{i:05d}.txt").write_text("\n".join(parts), encoding="utf-8")
    return reports


def timed_run(index: Index, label: str) -> dict:
    t0 = time.perf_counter()
    report = index.build(progress=False)
    seconds = time.perf_counter() - t0
    assert report.exit_code == 0, report.summary()
    out = {"run": label, "seconds": round(seconds, 2), "documents": report.documents, "chunks": report.chunks,
           "added": len(report.added), "changed": len(report.changed), "embedded": report.embedded,
           "cache_hits": report.embedding_cache_hits, "timings": {k: round(v, 2) for k, v in report.timings.items()}}
    print(f"{label:<22} {seconds:8.1f} s   docs {report.documents}  chunks {report.chunks}  "
          f"embedded {report.embedded}  stages {out['timings']}", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--workdir", default=str(REPO / ".bench" / "reindex"))
    parser.add_argument("--cache", help="embedding cache to reuse (default: a fresh, cold one)")
    parser.add_argument("--json", help="write results here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    corpus = work / "corpus"
    write_corpus(corpus, args.reports)
    cache = Path(args.cache) if args.cache else work / "embeddings.sqlite"
    config = Config(corpus_dir=corpus, index_dir=work / "index", embedding=EmbeddingSettings(cache=cache))
    index = Index(config)
    print(f"synthetic corpus: {args.reports} reports in {corpus}; embedding cache {cache}", flush=True)

    results = [timed_run(index, "full build")]
    results.append(timed_run(index, "no-change run"))
    target = corpus / "report_00000.txt"
    text = target.read_text(encoding="utf-8")
    first = re.search(r"\n\n([^\n]{40,})\n", text)
    target.write_text(text.replace(first.group(1), first.group(1) + "同时新增了一项便民举措。"), encoding="utf-8")
    results.append(timed_run(index, "one-changed-file run"))

    summary = {"reports": args.reports, "model": config.embedding.model, "runs": results,
               "peak_rss_mb": round(peak_rss_mb()), "cold_cache": not args.cache}
    print(f"peak RSS {summary['peak_rss_mb']} MB", flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
