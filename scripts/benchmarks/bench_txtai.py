"""The peer: txtai's hybrid index (dense + BM25) with the same model and the same chunks, in its own process.

    .venv/bin/python -m scripts.benchmarks.bench_txtai [--cold-chunks 1000] [--rounds 3]

Part A, cold index time, both systems embedding for themselves (same process, same model, same chunks):
the first `--cold-chunks` chunks of STARD small. Ours: `Index.build_documents` into a scratch index with an
empty embedding cache; txtai: `Embeddings({"path": m3e-small, "hybrid": True, "content": True}).index()`.

Part B, the full STARD small corpus (10,000 passages, the chunks of our STARD small index): txtai indexes it
with its dense side fed by an external transform that returns the m3e-small vectors of the same texts from
the shared embedding cache (embedding 10k chunks a second time here would take longer than this session has;
Part A is where embedding speed is compared). Then: query p50/p95 (hybrid, the bench_query query set,
query encoding included), nDCG@10 on the 308 queries, peak RSS. txtai is used as shipped: its default
tokenizer segments Chinese per UAX #29, i.e. one token per character.
Run `python -m scripts.benchmarks.bench_query --stard-small` for our side of Part B.

`--scale-index DIR [--paired]`: txtai over the chunks and vectors of one of bench_index's indexes; with
--paired our Searcher answers each query right after txtai in the same process, so both see the same load
(this machine's load drifts too much between runs for separate runs to be compared).
"""
from __future__ import annotations

import argparse
import dataclasses
import gc
import logging
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from indexer import Config, Index, SearchRequest, Searcher
from indexer.build.embedding_input import embedding_context, embedding_input
from indexer.evaluation.datasets import corpus_documents
from indexer.storage.catalog import Catalog
from indexer.storage.generations import GenerationStore
from indexer.storage.vectors import EmbeddingCache, Encoder, resolve_model
from scripts.benchmarks.bench_query import QUERIES, stard_small_config, timed_search
from scripts.benchmarks.common import (
    BENCH_DIR, SHARED_CACHE, STARD, RssSampler, current_rss_mb, machine_info, ndcg_at_k, percentiles,
    read_jsonl, read_qrels, write_json,
)
from indexer.core.config import EmbeddingSettings

PERF = BENCH_DIR / "perf"


def our_chunks(config: Config) -> list[tuple[str, str, str]]:
    """(chunk id, passage id, text, embedding input) of our STARD small index, in catalog order."""
    gen = GenerationStore(config.index_dir).current_path()
    cat = Catalog(gen / "catalog.sqlite")
    try:
        metas = {d.doc_id: (d.path, d.meta) for d in cat.documents()}
        return [(str(r.chunk_id), metas[r.doc_id][0], r.text,
                 embedding_input(metas[r.doc_id][1], r.heading_path, r.text, embedding_context(config)))
                for r in cat.iter_chunks()]
    finally:
        cat.close()


def cold_index_times(n_chunks: int, encoder: Encoder) -> dict:
    from txtai import Embeddings

    docs = []
    for doc in corpus_documents(STARD / "small"):
        docs.append(doc)
        if len(docs) >= n_chunks:
            break
    scratch = PERF / "cold-ours"
    shutil.rmtree(scratch, ignore_errors=True)
    config = Config(index_dir=scratch / "index", embedding=EmbeddingSettings(cache=scratch / "empty-cache.sqlite"))
    encoder.encode(["预热"])  # model loaded before timing, as for txtai below
    t0 = time.perf_counter()
    report = Index(config, encoder).build_documents(docs, progress=False)
    ours = time.perf_counter() - t0
    texts = [(i, embedding_input(d.meta, (), d.paragraphs[0].text, True)) for i, d in enumerate(docs)]
    emb = Embeddings({"path": resolve_model("m3e-small"), "hybrid": True, "content": True})  # loads the model
    t0 = time.perf_counter()
    emb.index(texts)
    peer = time.perf_counter() - t0
    return {"chunks_ours": report.chunks, "documents_peer": len(texts), "ours_s": round(ours, 2),
            "peer_s": round(peer, 2), "ratio_ours_over_peer": round(ours / peer, 3),
            "ours_timings": {k: round(v, 2) for k, v in report.timings.items()}}


def txtai_at_scale(index_dir: Path, rounds: int, paired: bool = False) -> dict:
    """txtai over the chunks of one of our benchmark indexes, dense side fed with that index's own vectors
    (bench_index's replay vectors): index time without embedding, query latency, RSS."""
    from txtai import Embeddings

    from indexer.storage.vectors import VectorIndex

    gen = GenerationStore(index_dir).current_path()
    cat = Catalog(gen / "catalog.sqlite")
    try:
        rows = [(r.chunk_id, r.text) for r in cat.iter_chunks()]
    finally:
        cat.close()
    vectors = VectorIndex.load(gen / "vectors.faiss")
    by_text = {text: cid for cid, text in rows}
    encoder = Encoder("m3e-small")

    def transform(texts: list[str]) -> np.ndarray:
        if len(texts) == 1 and texts[0] not in by_text:
            return encoder.encode(texts)  # a query
        return np.stack([vectors.vector(by_text[t]) if t in by_text else encoder.encode([t])[0] for t in texts])

    rss0 = current_rss_mb()
    with RssSampler() as rss:
        emb = Embeddings({"method": "external", "transform": transform, "hybrid": True, "content": True})
        t0 = time.perf_counter()
        emb.index([(str(cid), text) for cid, text in rows])
        index_s = time.perf_counter() - t0
        rss_indexed = current_rss_mb()
        lat: list[float] = []
        ours: list[float] = []
        searcher = Searcher.open(dataclasses.replace(Config(), index_dir=index_dir), encoder) if paired else None
        # Both indexes live in this process: without freezing, every cyclic GC pass would walk txtai's
        # millions of index objects and charge it to whichever side allocates more (measured: seconds).
        gc.collect()
        gc.freeze()
        queries = [q for qs in QUERIES.values() for q in qs]
        for q in queries:  # one untimed pass each: first-use costs (jieba dictionary load, caches) are not latency
            emb.search(q.strip('"'), 10)
            if searcher is not None:
                searcher.search(SearchRequest(query=q, mode="hybrid", size=10))
        for r in range(rounds):
            for i, q in enumerate(queries):
                # the same query on both sides back to back, alternating who goes first: same load
                sides = ["peer", "ours"] if (i + r) % 2 == 0 or searcher is None else ["ours", "peer"]
                for side in sides:
                    if side == "peer":
                        t0 = time.perf_counter()
                        emb.search(q.strip('"'), 10)
                        lat.append((time.perf_counter() - t0) * 1000)
                    elif searcher is not None:
                        ours.append(timed_search(searcher, SearchRequest(query=q, mode="hybrid", size=10)))
    paired_out = {}
    if searcher is not None:
        p_ours, p_peer = percentiles(ours), percentiles(lat)
        paired_out = {"paired_ours_hybrid_ms": p_ours,
                      "ratio_ours_over_peer": {k: round(p_ours[k] / p_peer[k], 3) for k in ("p50", "p95", "p99")}}
        searcher.close()
    return {"index_dir": str(index_dir), "chunks": len(rows), "index_s_without_embedding": round(index_s, 1),
            "hybrid_latency_ms": percentiles(lat), **paired_out,
            "rss_mb": {"before": round(rss0, 1), "after_index": round(rss_indexed, 1), "peak": round(rss.peak, 1)}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cold-chunks", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-cold", action="store_true")
    ap.add_argument("--json", type=Path, default=BENCH_DIR / "results" / "peer_txtai.json")
    ap.add_argument("--scale-index", type=Path, help="only: txtai over this benchmark index's chunks and vectors")
    ap.add_argument("--paired", action="store_true",
                    help="with --scale-index: also time our hybrid search on the same index, query by query")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from txtai import Embeddings

    if args.scale_index:
        result = txtai_at_scale(args.scale_index, args.rounds, args.paired)
        print(f"txtai at scale: {result}")
        write_json(args.json, {"machine": machine_info(), "command": " ".join(sys.argv), "scale": result})
        return

    config = stard_small_config("tantivy")
    encoder = Encoder(config.embedding.model, config.embedding.batch_size)
    out: dict = {"machine": machine_info(), "command": " ".join(sys.argv)}
    if not args.skip_cold:
        out["cold_index"] = cold_index_times(args.cold_chunks, encoder)
        print(f"cold index of {args.cold_chunks} chunks: {out['cold_index']}")

    chunks = our_chunks(config)
    passage_of = {cid: pid for cid, pid, _, _ in chunks}
    emb_input = {text: ei for _, _, text, ei in chunks}
    cache = EmbeddingCache(SHARED_CACHE, config.embedding.model)
    counts = {"cached": 0, "encoded": 0}

    def transform(texts: list[str]) -> np.ndarray:
        inputs = [emb_input.get(t, t) for t in texts]
        found = cache.get_many(inputs)
        missing = [i for i in range(len(inputs)) if i not in found]
        vecs = np.zeros((len(inputs), 512), dtype=np.float32)
        for i, v in found.items():
            vecs[i] = v
        if missing:
            vecs[missing] = encoder.encode([inputs[i] for i in missing])
        counts["cached"] += len(found)
        counts["encoded"] += len(missing)
        return vecs

    rss0 = current_rss_mb()
    with RssSampler() as rss:
        emb = Embeddings({"method": "external", "transform": transform, "hybrid": True, "content": True})
        t0 = time.perf_counter()
        emb.index([(cid, text) for cid, _, text, _ in chunks])
        index_s = time.perf_counter() - t0
        rss_indexed = current_rss_mb()
        lat: list[float] = []
        for _ in range(args.rounds):
            for qs in QUERIES.values():
                for q in qs:
                    t0 = time.perf_counter()
                    emb.search(q.strip('"'), 10)
                    lat.append((time.perf_counter() - t0) * 1000)
        queries = read_jsonl(STARD / "small" / "queries.jsonl")
        qrels = read_qrels(STARD / "small" / "qrels.tsv")
        scores, stard_lat = [], []
        for q in queries:
            t0 = time.perf_counter()
            hits = emb.search(q["text"], 30)
            stard_lat.append((time.perf_counter() - t0) * 1000)
            ranked: list[str] = []
            for h in hits:
                pid = passage_of[str(h["id"])]
                if pid not in ranked:
                    ranked.append(pid)
            scores.append(ndcg_at_k(ranked, qrels.get(str(q["id"]), {}), 10))
    out["stard_small"] = {
        "chunks": len(chunks), "index_s_without_embedding": round(index_s, 2),
        "vectors": counts, "hybrid_latency_ms": percentiles(lat), "stard_query_latency_ms": percentiles(stard_lat),
        "ndcg@10": round(sum(scores) / len(scores), 4), "queries": len(queries),
        "rss_mb": {"before": round(rss0, 1), "after_index": round(rss_indexed, 1), "peak": round(rss.peak, 1)},
    }
    print(f"txtai on STARD small: {out['stard_small']}")
    write_json(args.json, out)
    cache.close()


if __name__ == "__main__":
    main()
