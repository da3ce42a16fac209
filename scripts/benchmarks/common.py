"""Shared helpers for the benchmark scripts: benchmark corpora, peak RSS, percentiles, JSON results.

Benchmark corpora (`make_corpus`) are folders of .txt files built from real text only, so they go through
the same parse -> chunk -> index path as a user's corpus:
- the five real township reports of corpora/fazhi-2023/ (copied as they are);
- report-like documents recombined from those reports' sentences (20% of the chunks), each with a place and
  a year in its title so filters have something to select;
- STARD statute articles (../shared/bench/stard), STARD small's passages first, one file per run of up to 40
  articles of one statute (title line = statute name, one paragraph per article).
Everything is deterministic and prefix-stable: the 10k corpus's files are also in the 100k corpus, so one
shared embedding cache embeds each text once across all runs.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import logging
import os
import random
import re
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Iterable, Iterator

from indexer import Config
from indexer.pipeline.chunk import split_text
from scripts import REPO

STARD = REPO.parent / "shared" / "bench" / "stard"
SAMPLE = REPO / "corpora" / "fazhi-2023"
BENCH_DIR = REPO / ".bench"
SHARED_CACHE = BENCH_DIR / "embeddings.sqlite"
CORPUS_VERSION = "3"  # bump when make_corpus output changes

_ARTICLE = re.compile(r"^(.*?)(第[零〇一二三四五六七八九十百千]+条(?:之[一二三四五六七八九十]+)?)$")
_SENT = re.compile(r"[^。；！？]+[。；！？]")
PLACES = ["观音堂镇", "张茅乡", "菜园乡", "西张村镇", "大营镇", "原店镇", "张湾乡", "硖石乡", "宫前乡", "店子乡",
          "城关镇", "王家后乡", "杜关镇", "洛村镇", "交口乡", "西李村乡", "张村镇", "双龙湾镇", "涧北街道", "湖滨街道"]


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            qid, pid, rel = line.split("\t")[:3]
            qrels.setdefault(qid, {})[pid] = int(rel)
    return qrels


def split_title(title: str) -> tuple[str, str]:
    """'某某法第九条' -> ('某某法', '第九条'); titles without an article number keep everything as the name."""
    m = _ARTICLE.match(title)
    return (m.group(1), m.group(2)) if m else (title, "")


def _chunks_of(text: str, config: Config) -> int:
    return len(split_text(text, config.analysis.max_chunk_chars, config.analysis.min_chunk_chars))


def file_chunks(path: Path, rel: str, config: Config) -> int:
    """Chunks the real pipeline makes of one corpus file (parsing decides paragraphs, not our guess)."""
    from indexer.pipeline.chunk import chunk_paragraphs
    from indexer.pipeline.ingest import parse_file

    try:
        doc = parse_file(path, rel, config.ingest.max_file_bytes)
    except Exception as exc:  # noqa: BLE001 - a file our parser rejects (or crashes on) is left out
        print(f"leaving out {rel}: {type(exc).__name__}: {exc}", file=sys.stderr)
        path.unlink()
        return 0
    return len(chunk_paragraphs(doc.paragraphs, rel, config, doc_path=rel))


def stard_passages_ordered() -> list[dict]:
    """All STARD passages, STARD small's ones first (in its order), then the rest in corpus order."""
    small = read_jsonl(STARD / "small" / "corpus.jsonl")
    seen = {p["id"] for p in small}
    return small + [p for p in read_jsonl(STARD / "corpus.jsonl") if p["id"] not in seen]


def _statute_files(passages: Iterable[dict], per_file: int = 40) -> Iterator[tuple[str, list[dict]]]:
    """Consecutive passages of one statute, at most `per_file` per file."""
    group: list[dict] = []
    name = None
    for p in passages:
        statute, _ = split_title(p["title"])
        if group and (statute != name or len(group) >= per_file):
            yield name, group
            group = []
        name = statute
        group.append(p)
    if group:
        yield name, group


def statute_text(statute: str, group: list[dict]) -> str:
    lines = [statute, ""]
    for p in group:
        _, article = split_title(p["title"])
        lines += [f"{article}　{p['text']}" if article else p["text"], ""]
    return "\n".join(lines)


def _report_sentences() -> tuple[list[str], list[str]]:
    """Sentences of the sample reports' body paragraphs, and their heading-like short lines."""
    sentences, headings = [], []
    for path in sorted(SAMPLE.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line:
                continue
            if len(line) < 30 and not line.endswith("。"):
                headings.append(line)
            else:
                sentences += [s.strip() for s in _SENT.findall(line) if len(s.strip()) >= 8]
    return sentences, headings


def _recombined_reports(rng: random.Random, config: Config) -> Iterator[tuple[str, str, int]]:
    """Endless report-like documents: (file stem, text, chunks)."""
    sentences, headings = _report_sentences()
    i = 0
    while True:
        place, year = rng.choice(PLACES), rng.randint(2019, 2023)
        lines = [f"{place}{year}年度法治政府建设工作报告", ""]
        chunks = 0
        for h in range(rng.randint(3, 6)):
            lines += [rng.choice(headings), ""]
            for _ in range(rng.randint(3, 7)):
                para = "".join(rng.sample(sentences, rng.randint(2, 5)))
                lines += [para, ""]
                chunks += _chunks_of(para, config)
        yield f"r{i:06d}", "\n".join(lines), chunks
        i += 1


def make_corpus(n_chunks: int, dest: Path, config: Config = Config(), seed: int = 7) -> dict:
    """Write a benchmark corpus of about `n_chunks` chunks into `dest` (reused if already complete)."""
    marker = dest / ".complete.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        if info.get("version") == CORPUS_VERSION and info.get("n") == n_chunks:
            return info
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "reports").mkdir(parents=True)
    (dest / "stard").mkdir()
    total = 0
    for path in sorted(SAMPLE.glob("*.txt")):
        shutil.copy2(path, dest / "reports" / path.name)
        total += file_chunks(path, path.name, config)
    report_target = n_chunks // 5
    reports = _recombined_reports(random.Random(seed), config)
    files = 0

    def add_reports(target: int) -> None:
        nonlocal total, files
        while total < target:
            stem, text, _ = next(reports)
            target_path = dest / "reports" / f"{stem}.txt"
            target_path.write_text(text, encoding="utf-8")
            total += file_chunks(target_path, f"reports/{stem}.txt", config)
            files += 1

    add_reports(report_target)
    for k, (statute, group) in enumerate(_statute_files(stard_passages_ordered())):
        if total >= n_chunks:
            break
        digest = hashlib.sha1(statute.encode()).hexdigest()[:8]
        target_path = dest / "stard" / f"s{k:05d}_{digest}.txt"
        target_path.write_text(statute_text(statute, group), encoding="utf-8")
        total += file_chunks(target_path, f"stard/{target_path.name}", config)
        files += 1
    add_reports(n_chunks)  # past STARD's ~58k chunks the rest is recombined reports
    info = {"version": CORPUS_VERSION, "n": n_chunks, "chunks": total, "files": files + 5}
    marker.write_text(json.dumps(info))
    return info


# ------------------------------------------------------------------ measurement helpers


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class RssSampler:
    """Samples this process's RSS in a thread: peak RSS over a window (ru_maxrss only ever grows)."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, current_rss_mb())
            self._stop.wait(self.interval)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, current_rss_mb())


def percentiles(values_ms: list[float]) -> dict[str, float]:
    if not values_ms:
        return {}
    xs = sorted(values_ms)

    def pct(p: float) -> float:
        k = (len(xs) - 1) * p
        lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
        return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)

    return {"n": len(xs), "p50": round(pct(0.50), 2), "p95": round(pct(0.95), 2), "p99": round(pct(0.99), 2),
            "mean": round(statistics.fmean(xs), 2), "max": round(xs[-1], 2)}


def ndcg_at_k(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    import math

    dcg = sum(relevant.get(pid, 0) / math.log2(i + 2) for i, pid in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def machine_info() -> dict:
    import platform

    return {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg(),
            "time": time.strftime("%Y-%m-%d %H:%M:%S")}


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"wrote {path}")


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


# ------------------------------------------------------------------ Milvus Lite benchmarks


def milvus_args(doc: str, argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of the Milvus benchmarks: GENERATION_DIR QUERIES_TSV [--out x.json]."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("generation", type=Path, help="a published local generation (index/generations/<name>)")
    ap.add_argument("queries", type=Path, help="TSV with a header and a `query` column (qid, kind, query)")
    ap.add_argument("--out", type=Path, help="also write the JSON result here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    return args


def read_queries_tsv(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [r["query"] for r in csv.DictReader(fh, delimiter="\t")]


@contextlib.contextmanager
def milvus_lite_copy(generation: Path, collection: str = "bench") -> Iterator[tuple[str, object, float]]:
    """A fresh Milvus Lite file (in a temporary folder) holding `generation` synced under `collection`:
    yields (its URI, the sync report, the sync's seconds)."""
    from indexer.engines.milvus.connection import connect
    from indexer.engines.milvus.sync import sync

    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "x.db")
        client = connect(db)
        try:
            t0 = time.perf_counter()
            report = sync(client, generation, base=collection)
            seconds = time.perf_counter() - t0
        finally:
            client.close()
        yield db, report, seconds


def emit_json(out: dict, path: Path | None) -> None:
    """Print a result as JSON, and write it to `path` when given."""
    text = json.dumps(out, ensure_ascii=False, indent=2)
    print(text)
    if path:
        path.write_text(text + "\n", encoding="utf-8")


class CountingClient:
    """A MilvusClient that counts the calls made through it, by method (the Milvus benchmarks' calls per query)."""

    def __init__(self, client):
        self._client = client
        self.calls: Counter = Counter()

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def counted(*args, **kwargs):
            self.calls[name] += 1
            return attr(*args, **kwargs)
        return counted
