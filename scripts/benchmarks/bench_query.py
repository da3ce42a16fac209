"""Query latency per mode (p50/p95/p99), single-threaded and with 8 threads, and the serving process's RSS.

    .venv/bin/python -m scripts.benchmarks.bench_query --index-dir .bench/perf/index-100000-tantivy --label 100k
    .venv/bin/python -m scripts.benchmarks.bench_query --stard-small [--backend tantivy]   # + nDCG@10 on STARD small/

Run one index per process: the RSS figures are this process's (Searcher + model + index), i.e. what a
serving process holds. Every query is timed through the public `Searcher.search` (the same call the web app
makes), page size 10, with the query-vector cache emptied before each call so query encoding is included.
Modes: keyword, semantic, hybrid, hybrid+filters (year / place filter), grouped (hybrid, one hit per place).
The query set mixes short terms, very common terms (工作, 法治), quoted phrases and long questions.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from indexer import Config, Filters, SearchRequest, Searcher, load_config
from scripts.benchmarks.common import (
    BENCH_DIR, SHARED_CACHE, STARD, RssSampler, current_rss_mb, machine_info, ndcg_at_k, percentiles,
    read_jsonl, read_qrels, write_json,
)

from indexer.core.config import EmbeddingSettings, IndexSettings
QUERIES = {
    "short": ["信访", "调解", "行政复议", "合同", "普法", "执法", "消防", "土地"],
    "common": ["工作", "法治", "人民", "规定", "政府", "管理"],
    "phrase": ['"法治政府建设"', '"小事不出村"', '"人民调解委员会"', '"行政执法"', '"依法行政"', '"法律顾问"'],
    "question": [
        "乡镇如何化解信访积案和矛盾纠纷",
        "怎样防止老年人被电信诈骗",
        "村里的法律顾问平时都做些什么工作",
        "行政执法过程中存在哪些问题，下一步怎么改进",
        "夫妻一方经营个体工商户所欠债务由谁偿还",
        "劳动合同到期后单位不续签需要支付经济补偿吗",
        "交通事故责任认定书不服可以申请复核吗",
        "农村宅基地可以继承吗",
    ],
}
MODES = ["keyword", "semantic", "hybrid", "hybrid+filters", "grouped", "facets+filters"]
# "facets+filters": two facet fields active (year, place), so each of their facet counts needs the query
# without its own filter (disjunctive facets), besides the filtered search itself.
FACET_FILTERS = Filters(year=(2021, 2022, 2023), place=("大铭乡", "李桥乡", "观音堂镇", "张茅乡"))


def pasted_sentences(searcher: Searcher, n: int) -> list[str]:
    """n sentences of 18–45 characters as a user would paste them (the staff's use: find the original
    wording), taken from the indexed text itself, through the searcher: one from each of the first hits of
    the short terms in turn (deterministic for an index)."""
    import re

    found: list[str] = []
    hits = [searcher.search(SearchRequest(query=q, mode="keyword", size=n)).hits for q in QUERIES["short"]]
    for rank in range(n):
        for per_term in hits:
            if rank < len(per_term) and len(found) < n:
                sentence = next((m.group(0) for m in re.finditer(r"[^。；！？\n]{18,45}[。；！？]", per_term[rank].text)
                                 if m.group(0) not in found), None)
                if sentence:
                    found.append(sentence)
    return found


def request(query: str, mode: str) -> SearchRequest:
    if mode == "hybrid+filters":
        return SearchRequest(query=query, mode="hybrid", size=10, filters=Filters(year=(2021, 2022, 2023)))
    if mode == "grouped":
        return SearchRequest(query=query, mode="hybrid", size=10, group_by_place=True)
    if mode == "facets+filters":
        return SearchRequest(query=query, mode="hybrid", size=10, filters=FACET_FILTERS)
    return SearchRequest(query=query, mode=mode, size=10)


CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}
clock = CLOCKS["wall"]  # --clock cpu: the calling thread's CPU time, to compare code on a loaded machine


def timed_search(searcher: Searcher, req: SearchRequest) -> float:
    searcher._qcache.clear()  # include query encoding in every measurement
    t0 = clock()
    searcher.search(req)
    return (clock() - t0) * 1000


def workload(rounds: int) -> list[tuple[str, str, str]]:
    return [(mode, kind, q) for _ in range(rounds) for mode in MODES for kind, qs in QUERIES.items() for q in qs]


def run_single(searcher: Searcher, rounds: int) -> dict:
    per_mode: dict[str, list[float]] = {m: [] for m in MODES}
    per_kind: dict[str, list[float]] = {}
    for mode, kind, q in workload(rounds):
        ms = timed_search(searcher, request(q, mode))
        per_mode[mode].append(ms)
        per_kind.setdefault(f"{mode}/{kind}", []).append(ms)
    return {"per_mode": {m: percentiles(v) for m, v in per_mode.items()},
            "per_mode_and_kind": {k: percentiles(v) for k, v in per_kind.items()}}


def run_threads(searcher: Searcher, rounds: int, threads: int) -> dict:
    jobs = workload(rounds)
    per_mode: dict[str, list[float]] = {m: [] for m in MODES}
    lock = threading.Lock()

    def one(job: tuple[str, str, str]) -> None:
        mode, _, q = job
        ms = timed_search(searcher, request(q, mode))
        with lock:
            per_mode[mode].append(ms)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, jobs))
    wall = time.perf_counter() - t0
    return {"threads": threads, "queries": len(jobs), "qps": round(len(jobs) / wall, 1),
            "per_mode": {m: percentiles(v) for m, v in per_mode.items()}}


def stard_ndcg(searcher: Searcher, mode: str = "hybrid") -> dict:
    """nDCG@10 over STARD small's 308 queries; a hit counts as its passage (document path = <passage id>.txt)."""
    from indexer.evaluation.datasets import passage_id

    queries = read_jsonl(STARD / "small" / "queries.jsonl")
    qrels = read_qrels(STARD / "small" / "qrels.tsv")
    scores, lat = [], []
    for q in queries:
        t0 = time.perf_counter()
        resp = searcher.search(SearchRequest(query=q["text"][:500], mode=mode, size=30))
        lat.append((time.perf_counter() - t0) * 1000)
        ranked: list[str] = []
        for hit in resp.hits:
            if passage_id(hit.path) not in ranked:
                ranked.append(passage_id(hit.path))
        scores.append(ndcg_at_k(ranked, qrels.get(str(q["id"]), {}), 10))
    return {"mode": mode, "queries": len(queries), "ndcg@10": round(sum(scores) / len(scores), 4),
            "latency_ms": percentiles(lat)}


def stard_small_config(backend: str) -> Config:
    from indexer.evaluation.datasets import load_dataset
    from indexer.evaluation.indexes import prepare_index

    dataset = load_dataset(STARD / "small")
    config = Config(embedding=EmbeddingSettings(cache=SHARED_CACHE), index=IndexSettings(fulltext=backend))
    t0 = time.perf_counter()
    config = prepare_index(dataset, config, bench_dir=BENCH_DIR / "perf" / f"stard-{backend}")
    print(f"STARD small index ready in {time.perf_counter() - t0:.1f} s: {config.index_dir}")
    return config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index-dir", type=Path)
    ap.add_argument("--stard-small", action="store_true", help="index STARD small/ (cached) and add nDCG@10")
    ap.add_argument("--backend", default="tantivy", choices=["tantivy", "whoosh"])
    ap.add_argument("--label", default="")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=8, help="0: single-threaded runs only")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--pasted", type=int, default=0,
                    help="add N sentences pasted from the index's own text as the query kind 'pasted'")
    ap.add_argument("--clock", choices=list(CLOCKS), default="wall",
                    help="cpu: time.thread_time of the searching thread (excludes waiting for a core; the"
                         " model's own worker threads, if any, are not counted)")
    args = ap.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    logging.basicConfig(level=logging.WARNING)
    if args.stard_small:
        config = stard_small_config(args.backend)
        label = args.label or f"stard-small-{args.backend}"
    elif args.index_dir:
        config = dataclasses.replace(load_config(), index_dir=args.index_dir)  # REPORTSEARCH_* apply (A/B)
        label = args.label or args.index_dir.name
    else:
        ap.error("give --index-dir or --stard-small")
    rss_before = current_rss_mb()
    with RssSampler() as rss:
        searcher = Searcher.open(config)
        rss_open = current_rss_mb()
        health = searcher.health()
        if args.pasted:
            QUERIES["pasted"] = pasted_sentences(searcher, args.pasted)
        for mode in MODES:  # warm-up
            searcher.search(request("法治政府建设", mode))
        single = run_single(searcher, args.rounds)
        multi = run_threads(searcher, args.rounds, args.threads) if args.threads else None
        ndcg = stard_ndcg(searcher) if args.stard_small else None
    out = {"label": label, "clock": args.clock, "machine": machine_info(), "command": " ".join(sys.argv),
           "index": health,
           "single_thread": single, "threads": multi,
           "rss_mb": {"before_open": round(rss_before, 1), "after_open": round(rss_open, 1),
                      "peak_serving": round(rss.peak, 1)}}
    if ndcg:
        out["stard_small"] = ndcg
    print(f"\n== {label}: {health['chunks']} chunks, {health['documents']} documents")
    print(f"{'mode':16s} {'p50':>8s} {'p95':>8s} {'p99':>8s}   | {args.threads} threads: {'p50':>8s} {'p95':>8s}")
    for m in MODES:
        s = single["per_mode"][m]
        t = multi["per_mode"][m] if multi else {"p50": float("nan"), "p95": float("nan")}
        print(f"{m:16s} {s['p50']:8.1f} {s['p95']:8.1f} {s['p99']:8.1f}   |            {t['p50']:8.1f} {t['p95']:8.1f}")
    if multi:
        print(f"{args.threads} threads: {multi['qps']} queries/s")
    print(f"RSS after open {rss_open:.0f} MB, peak {rss.peak:.0f} MB")
    for k in ("keyword/common", "keyword/phrase", "hybrid/question", "grouped/common", "facets+filters/common",
              "keyword/pasted", "hybrid/pasted"):
        if k in single["per_mode_and_kind"]:
            print(f"  {k}: {single['per_mode_and_kind'][k]}")
    if ndcg:
        print(f"STARD small nDCG@10 ({ndcg['mode']}): {ndcg['ndcg@10']}")
    write_json(args.json or BENCH_DIR / "results" / f"bench_query_{label}.json", out)
    searcher.close()


if __name__ == "__main__":
    main()
