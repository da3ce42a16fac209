"""Latency of GET /api/search under concurrent clients, against the real app under waitress.

    python -m scripts.benchmarks.bench_web --index-dir index [--clients 8] [--requests 400] [--json out.json]
    python -m scripts.benchmarks.bench_web --index-dir index --query-set stard     # distinct questions: every one encoded

Starts the production server (`python -m search_web.serve`, one Searcher) as its own process on a free
127.0.0.1 port -- clients in the same process would compete with it for the GIL -- then `--clients`
threads here send the queries round-robin over the modes. Reports client-observed latency (what a user
waits for, incl. HTTP and waiting for a worker) and the server's own `took_ms`, as p50/p95/max, plus errors,
throughput and the server process's peak RSS.

Query sets: `eval` (default: the 30 judged sample queries, repeated, so after the first round the
server's query-vector cache answers the encoding, as it does for popular queries in production) or
`stard` (the STARD questions, all distinct: every request encodes its query).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from indexer import load_config
from scripts import REPO

DEFAULT_QUERIES = REPO / "corpora" / "eval" / "queries.tsv"
FALLBACK_QUERIES = ["信访积案化解做法", "法律顾问", "防范养老诈骗", "重大决策合法性审查", "普法宣传", "小事不出村"]


STARD_QUERIES = REPO.parent / "shared" / "bench" / "stard" / "queries.jsonl"


def load_queries(path: Path | None, query_set: str = "eval") -> list[str]:
    if path is None and query_set == "stard":
        return [json.loads(line)["text"] for line in STARD_QUERIES.read_text(encoding="utf-8").splitlines() if line]
    if path is None:
        if not DEFAULT_QUERIES.exists():
            return FALLBACK_QUERIES
        path = DEFAULT_QUERIES
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        text = cols[-1].strip()
        if text and not (cols[0] == "qid"):  # skip a TSV header
            queries.append(text)
    return queries or FALLBACK_QUERIES


class ServerProcess:
    """`python -m search_web.serve` in its own process, as `make serve` runs it."""

    def __init__(self, index_dir: str, threads: int, workers: int, config: str | None):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        cmd = [sys.executable, "-m", "search_web.serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--threads", str(threads), "--workers", str(workers), "--index-dir", index_dir] + (["--config", config] if config else [])
        self.log = open(BENCH_LOG, "w", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 300
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {BENCH_LOG}")
            try:
                urllib.request.urlopen(f"{self.url}/api/health", timeout=5).read()
                return
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not answer within 300 s; see {BENCH_LOG}") from None
                time.sleep(0.5)

    def memory_mb(self) -> dict[str, float]:
        """Peak RSS of each process (parent, workers) and their summed PSS now: forked workers share the
        model and index pages with the parent, which RSS counts once per process and PSS splits."""
        pids = [self.proc.pid] + sorted(_children(self.proc.pid))
        peak = [_status_kb(p, "VmHWM:") / 1024 for p in pids]
        pss = sum(_pss_kb(p) for p in pids) / 1024
        return {"processes": len(pids), "peak_rss_max": round(max(peak), 1), "pss_total": round(pss, 1)}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


BENCH_LOG = REPO / ".bench" / "bench_web_server.log"


def _children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.add(int(entry.name))
            except OSError:
                continue
    return out


def _status_kb(pid: int, key: str) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return next((float(line.split()[1]) for line in fh if line.startswith(key)), float("nan"))


def _pss_kb(pid: int) -> float:
    with open(f"/proc/{pid}/smaps_rollup") as fh:
        return next((float(line.split()[1]) for line in fh if line.startswith("Pss:")), float("nan"))


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarize(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50), 2),
        "p95": round(percentile(values, 95), 2),
        "max": round(max(values), 2) if values else float("nan"),
        "mean": round(statistics.fmean(values), 2) if values else float("nan"),
    }


def run(base_url: str, queries: list[str], clients: int, total: int, modes: list[str], size: int) -> dict:
    jobs = [(queries[i % len(queries)], modes[i % len(modes)]) for i in range(total)]
    lock = threading.Lock()
    client_ms: list[float] = []
    server_ms: list[float] = []
    errors: list[str] = []
    cursor = iter(range(total))

    def worker() -> None:
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                return
            query, mode = jobs[i]
            url = f"{base_url}/api/search?{urlencode({'q': query, 'mode': mode, 'size': size})}"
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=120) as response:
                    body = json.load(response)
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    client_ms.append(elapsed)
                    server_ms.append(float(body["took_ms"]))
            except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
                with lock:
                    errors.append(f"{mode} {query!r}: {exc}")

    # one warm-up request per mode so the first measured query does not pay for lazy loading
    for mode in modes:
        urllib.request.urlopen(f"{base_url}/api/search?{urlencode({'q': queries[0], 'mode': mode})}", timeout=300).read()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": total,
        "modes": modes,
        "ok": len(client_ms),
        "errors": len(errors),
        "error_samples": errors[:5],
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(client_ms) / wall, 2) if wall else 0.0,
        "client_ms": summarize(client_ms),
        "server_took_ms": summarize(server_ms),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="TOML config file")
    parser.add_argument("--index-dir", help="index directory (default: from config, else ./index)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--modes", default="hybrid,keyword,semantic", help="comma-separated, used round-robin")
    parser.add_argument("--size", type=int, default=10)
    parser.add_argument("--queries", type=Path, help="file of queries, one per line or TSV with the query last")
    parser.add_argument("--query-set", choices=("eval", "stard"), default="eval",
                        help="built-in queries when --queries is not given (see above)")
    parser.add_argument("--threads", type=int, default=None, help="threads per worker (default: the server's)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: the server's)")
    parser.add_argument("--json", dest="json_out", help="write the result as JSON to this file ('-' for stdout)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    config = load_config(args.config, cli_overrides={"index_dir": args.index_dir})
    from search_web.serve import DEFAULT_THREADS, DEFAULT_WORKERS

    threads, workers = args.threads or DEFAULT_THREADS, args.workers or DEFAULT_WORKERS
    BENCH_LOG.parent.mkdir(exist_ok=True)
    server = ServerProcess(str(config.index_dir), threads, workers, args.config)
    try:
        result = run(server.url, load_queries(args.queries, args.query_set), args.clients, args.requests,
                     [m.strip() for m in args.modes.split(",") if m.strip()], args.size)
        result["server_memory_mb"] = server.memory_mb()
    finally:
        server.stop()
    result["server_threads"], result["server_workers"] = threads, workers
    result["query_set"] = str(args.queries) if args.queries else args.query_set
    result["load_avg_after"] = os.getloadavg()
    result["index_dir"] = str(config.index_dir)

    c, s = result["client_ms"], result["server_took_ms"]
    print(f"{result['requests']} requests, {result['clients']} clients, modes {','.join(result['modes'])}: "
          f"{result['ok']} ok, {result['errors']} errors, {result['throughput_rps']} req/s")
    print(f"  client latency ms: p50 {c['p50']}  p95 {c['p95']}  max {c['max']}")
    print(f"  server took_ms:    p50 {s['p50']}  p95 {s['p95']}  max {s['max']}")
    m = result["server_memory_mb"]
    print(f"  server: {result['server_workers']} workers x {result['server_threads']} threads; {m['processes']} processes,"
          f" peak RSS of the largest {m['peak_rss_max']} MB, PSS of all together {m['pss_total']} MB")
    for sample in result["error_samples"]:
        print(f"  error: {sample}")
    if args.json_out == "-":
        print(json.dumps(result, ensure_ascii=False, indent=2))
    elif args.json_out:
        Path(args.json_out).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
