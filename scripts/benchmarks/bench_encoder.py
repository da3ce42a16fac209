"""Encoder backends side by side: speed on the same texts in the same run, and retrieval quality (nDCG@10).

    .venv/bin/python -m scripts.benchmarks.bench_encoder [--passages 2000] [--speed-texts 200]

Quality is measured on a reduced STARD small corpus, because embedding all 10,000 passages once more per
backend does not fit in a session on this shared machine: every judged passage of the 308 dev queries plus
random distractors (fixed seed) up to `--passages`. Both backends index exactly the same documents and are
scored on the same queries, so the *difference* is what this measures; absolute values are higher than on
the full small/ corpus (fewer distractors).
"""
from __future__ import annotations

import argparse
import logging
import random
import shutil
import sys
import time
from pathlib import Path

from indexer import Config, Index, SearchRequest, Searcher
from indexer.evaluation.datasets import corpus_documents
from indexer.storage.vectors import Encoder
from scripts.benchmarks.common import (
    BENCH_DIR, SHARED_CACHE, STARD, machine_info, ndcg_at_k, read_jsonl, read_qrels, write_json,
)
from indexer.core.config import EmbeddingSettings

BACKENDS = ("torch", "torch-int8")


def reduced_documents(n: int) -> list:
    qrels = read_qrels(STARD / "small" / "qrels.tsv")
    judged = {pid for rels in qrels.values() for pid in rels}
    docs = list(corpus_documents(STARD / "small"))
    keep = [d for d in docs if d.path in judged]
    others = [d for d in docs if d.path not in judged]
    random.Random(11).shuffle(others)
    return keep + others[: max(0, n - len(keep))]


def ndcg(searcher: Searcher, mode: str) -> float:
    queries = read_jsonl(STARD / "small" / "queries.jsonl")
    qrels = read_qrels(STARD / "small" / "qrels.tsv")
    total = 0.0
    for q in queries:
        resp = searcher.search(SearchRequest(query=q["text"][:500], mode=mode, size=30))
        ranked: list[str] = []
        for h in resp.hits:
            if h.path not in ranked:
                ranked.append(h.path)
        total += ndcg_at_k(ranked, qrels.get(str(q["id"]), {}), 10)
    return round(total / len(queries), 4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--passages", type=int, default=2000)
    ap.add_argument("--speed-texts", type=int, default=200)
    ap.add_argument("--json", type=Path, default=BENCH_DIR / "results" / "bench_encoder.json")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    docs = reduced_documents(args.passages)
    texts = [f"{d.meta.title}\n{d.paragraphs[0].text}" for d in docs[: args.speed_texts]]
    out: dict = {"machine": machine_info(), "command": " ".join(sys.argv), "passages": len(docs), "backends": {}}
    encoders = {b: Encoder("m3e-small", 32, b) for b in BACKENDS}
    for b, enc in encoders.items():
        enc.encode(texts[:16])  # load (and quantize) before timing
    # Alternate the backends twice so a change of load on the shared machine hits both alike.
    speed: dict[str, list[float]] = {b: [] for b in BACKENDS}
    for _ in range(2):
        for b, enc in encoders.items():
            t0 = time.perf_counter()
            enc.encode(texts)
            speed[b].append(len(texts) / (time.perf_counter() - t0))
    for b in BACKENDS:
        index_dir = BENCH_DIR / "perf" / f"encoder-{b}-{len(docs)}"
        shutil.rmtree(index_dir, ignore_errors=True)
        config = Config(index_dir=index_dir, embedding=EmbeddingSettings(cache=SHARED_CACHE, backend=b))
        t0 = time.perf_counter()
        report = Index(config, encoders[b]).build_documents(docs, progress=False)
        build_s = time.perf_counter() - t0
        searcher = Searcher.open(config, encoders[b])
        out["backends"][b] = {
            "chunks_per_s": [round(x, 2) for x in speed[b]], "build_s": round(build_s, 1),
            "embedded": report.embedded, "from_cache": report.embedding_cache_hits,
            "ndcg@10": {m: ndcg(searcher, m) for m in ("semantic", "hybrid")},
        }
        searcher.close()
        print(b, out["backends"][b], flush=True)
    t, q = out["backends"]["torch"], out["backends"]["torch-int8"]
    out["speedup"] = round(sum(speed["torch-int8"]) / sum(speed["torch"]), 3)
    out["ndcg_delta"] = {m: round(q["ndcg@10"][m] - t["ndcg@10"][m], 4) for m in ("semantic", "hybrid")}
    print(f"int8 speed-up {out['speedup']}x; nDCG@10 change {out['ndcg_delta']}")
    write_json(args.json, out)


if __name__ == "__main__":
    main()
