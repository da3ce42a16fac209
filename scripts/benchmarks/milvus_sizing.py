"""What one published generation costs in Milvus: server memory, disk, sync time, bytes per field, and the
layout options' effect on filtered queries and recall (docs/milvus.md "Sizing").

    python -m scripts.benchmarks.milvus_sizing GENERATION_DIR --data-dir DIR [--vector-index hnsw|hnsw_sq8]
        [--partition-key year|region|none] [--queries TSV ...] [--out x.json]

Starts a `milvus-lite server` on DIR (emptied first) in its own process — as an operator without Docker runs
one — syncs the generation into it (a full rebuild), and reports:
- the server's resident memory (VmRSS from /proc) before, at its peak during the sync, and with the pair
  loaded after it; the syncing process's own peak; the data folder's size on disk; the sync's seconds; each
  per million chunks (linear);
- the average bytes per chunk of the stored VARCHARs (text, tokens, sentence vectors) and what the tokens
  took in schema 2's `w`+hex form;
- per query of the TSVs: a semantic top 10 without a filter (recall@10 against exact float32 cosine over the
  generation's own vectors), and with the most frequent year as a filter (semantic and keyword), p50 / p95 ms.
Lite is a functional stand-in: its figures say what Lite costs, not what Standalone/Distributed would.
"""
from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from indexer.core.filters import Filters
from indexer.engines.milvus import MilvusEngine, schema
from indexer.engines.milvus.connection import connect
from indexer.engines.milvus.expr import filter_expr
from indexer.engines.milvus.sync import GenerationSource, sync
from indexer.engines.milvus.tokens import decode
from indexer.search.query import parse_query
from indexer.storage.vectors import Encoder
from scripts.benchmarks.common import emit_json, peak_rss_mb, percentiles, read_queries_tsv

SAMPLE_ROWS = 2000  # chunks whose stored fields are measured (bytes per chunk)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _tree_rss_mb(pid: int) -> float:
    """RSS of the server and its children (a Lite server is one process today; a child would count)."""
    total = _rss_mb(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            try:
                total += _rss_mb(int(child))
            except OSError:
                pass
    return total


class PeakRss(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self._halt = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self.peak = max(self.peak, _tree_rss_mb(self.pid))
            except OSError:
                return
            time.sleep(0.25)

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return self.peak


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _server(data_dir: Path, port: int) -> subprocess.Popen:
    binary = shutil.which("milvus-lite") or str(Path(sys.executable).with_name("milvus-lite"))
    proc = subprocess.Popen([binary, "server", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while True:
        try:
            c = connect(f"http://127.0.0.1:{port}")
            c.list_collections()
            c.close()
            return proc
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise
            time.sleep(0.5)


def _field_bytes(gen: Path) -> dict[str, float]:
    src = GenerationSource(gen)
    try:
        ids = sorted(int(i) for i in src.catalog.chunk_ids())[:SAMPLE_ROWS]
        sums = {"text": 0, "tokens": 0, "tokens_hex_schema2": 0, "sentences": 0, "vector": 0}
        for row in src.chunk_rows(ids):
            sums["text"] += len(row["text"].encode("utf-8"))
            sums["tokens"] += len(row["tokens"])
            words = row["tokens"].split()  # schema 2: `w`/`c` + the hex of the word's UTF-8, space-separated
            sums["tokens_hex_schema2"] += sum(1 + 2 * len(decode(t).encode("utf-8")) for t in words) + len(words) - 1
            sums["sentences"] += len(row["sentences"])
            sums["vector"] += 4 * len(row["vector"])
        return {k: round(v / len(ids), 1) for k, v in sums.items()}
    finally:
        src.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("generation", type=Path)
    ap.add_argument("--data-dir", type=Path, required=True, help="the Lite server's data folder (emptied first)")
    ap.add_argument("--vector-index", default="hnsw", choices=schema.VECTOR_INDEXES)
    ap.add_argument("--partition-key", default="year", choices=["year", "region", "none"])
    ap.add_argument("--queries", type=Path, nargs="*", default=[])
    ap.add_argument("--port", type=int, default=19641)
    ap.add_argument("--keep", action="store_true", help="leave the server's data folder in place")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    layout = schema.Layout(args.vector_index, "" if args.partition_key == "none" else args.partition_key)
    gen = args.generation.resolve()
    if args.data_dir.exists():
        shutil.rmtree(args.data_dir)
    args.data_dir.mkdir(parents=True)
    proc = _server(args.data_dir, args.port)
    uri = f"http://127.0.0.1:{args.port}"
    out: dict = {"generation": str(gen), "layout": layout.describe()}
    try:
        out["rss_idle_mb"] = round(_tree_rss_mb(proc.pid), 1)
        peak = PeakRss(proc.pid)
        peak.start()
        client = connect(uri, timeout=600)
        t0 = time.perf_counter()
        report = sync(client, gen, base="size", full=True, layout=layout)
        out["sync_seconds"] = round(time.perf_counter() - t0, 1)
        client.close()
        out["rss_peak_sync_mb"] = round(peak.stop(), 1)
        out["client_peak_rss_mb"] = round(peak_rss_mb(), 1)  # this process: the diff's hashes, one batch of rows
        chunks = report.chunks_upserted
        out["chunks"], out["documents"] = chunks, report.docs_upserted
        engine = MilvusEngine(uri, collection="size")
        snap = engine.open()
        snap.counts()
        out["rss_loaded_mb"] = round(_tree_rss_mb(proc.pid), 1)
        out["disk_bytes"] = _du(args.data_dir)
        per_m = 1e6 / chunks
        # marginal: what the pair adds to an empty server
        out["per_million_chunks"] = {"rss_loaded_gb": round((out["rss_loaded_mb"] - out["rss_idle_mb"]) * per_m / 1024, 2),
                                     "disk_gb": round(out["disk_bytes"] * per_m / 1e9, 2),
                                     "sync_hours": round(out["sync_seconds"] * per_m / 3600, 2)}
        out["bytes_per_chunk"] = _field_bytes(gen)
        if args.queries:
            out["queries"] = _queries(snap, gen, [q for tsv in args.queries for q in read_queries_tsv(tsv)])
        engine.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        if not args.keep:
            shutil.rmtree(args.data_dir, ignore_errors=True)
    emit_json(out, args.out)


def _queries(snap, gen: Path, queries: list[str]) -> dict:
    src = GenerationSource(gen)
    try:
        ids = np.array(sorted(int(i) for i in src.catalog.chunk_ids()), dtype=np.int64)
        mat = np.stack([src.vectors.vector(int(i)) for i in ids]).astype(np.float32)
        info = src.info
    finally:
        src.close()
    mat /= np.linalg.norm(mat, axis=1, keepdims=True)
    years = snap.facet_values(Filters())["year"]
    year = next(int(y) for y, _ in years if y.isdigit())
    by_year = Filters(year=(year,))
    enc = Encoder(info.get("model", "m3e-small"))
    vectors = enc.encode_queries(queries)
    recall, plain_ms, year_sem_ms, year_kw_ms, year_ann_ms = [], [], [], [], []
    expr = filter_expr(by_year)
    for text, vec in zip(queries, vectors):
        vec = np.asarray(vec, dtype=np.float32)
        truth = set(ids[np.argsort(-(mat @ (vec / np.linalg.norm(vec))), kind="stable")[:10]].tolist())
        t = time.perf_counter()
        got = snap.semantic(vec, 10, Filters())
        plain_ms.append((time.perf_counter() - t) * 1000)
        recall.append(len(truth & {c for c, _ in got}) / 10)
        t = time.perf_counter()
        snap.semantic(vec, 10, by_year)
        year_sem_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()  # the filtered HNSW search itself (the snapshot searches sets this small exactly)
        snap._client.search(snap.chunks_collection, data=[vec.tolist()], anns_field="vector", limit=10, filter=expr,
                            search_params={"metric_type": "COSINE", "params": {"ef": 64}})
        year_ann_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        snap.keyword(parse_query(text), 10, by_year)
        year_kw_ms.append((time.perf_counter() - t) * 1000)
    return {"n": len(queries), "recall_at_10_vs_exact_float32": round(statistics.mean(recall), 4),
            "semantic_ms": percentiles(plain_ms), "year_filter": f"{year} ({dict(years).get(str(year))} chunks)",
            "semantic_year_ms": percentiles(year_sem_ms), "hnsw_year_ms": percentiles(year_ann_ms),
            "keyword_year_ms": percentiles(year_kw_ms)}


if __name__ == "__main__":
    main()
