"""What reading PDFs in a capped child process costs (issue 29): the sample report as a PDF, read through
load_file in this process (max_pdf_memory_bytes = 0) and in the child, alternately; wall time per PDF
(medians) and CPU time per PDF (this process + the reader processes), and the worker's one-time start.

    .venv/bin/python -m scripts.benchmarks.bench_pdf_process [--rounds 40] [--json out.json]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from indexer.pipeline.load import DEFAULT_LIMITS, ReadLimits, load_file
from indexer.pipeline.load.pdf_process import stop_worker
from tests.fixtures_formats import build_pdf, report_items

IN_PROCESS = dataclasses.replace(DEFAULT_LIMITS, pdf_memory_bytes=0)


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _read(pdf: Path, limits: ReadLimits) -> float:
    t0 = time.perf_counter()
    load_file(pdf, pdf.name, 50 << 20, limits)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    pdf = build_pdf(report_items(), Path(tempfile.mkdtemp()) / "report.pdf")
    _read(pdf, IN_PROCESS)
    start = _read(pdf, DEFAULT_LIMITS)  # starts the worker process (and reads once)
    stop_worker()
    once = _cpu(resource.RUSAGE_CHILDREN)  # CPU of a worker's start, its warm-up and one read
    _read(pdf, DEFAULT_LIMITS)
    walls: dict[str, list[float]] = {"in process": [], "child": []}
    cpu = {"in process": 0.0, "child": 0.0}
    for _ in range(args.rounds):
        for name, limits in (("in process", IN_PROCESS), ("child", DEFAULT_LIMITS)):
            before = _cpu(resource.RUSAGE_SELF)
            walls[name].append(_read(pdf, limits))
            cpu[name] += _cpu(resource.RUSAGE_SELF) - before
    stop_worker()
    cpu["child"] += _cpu(resource.RUSAGE_CHILDREN) - 2 * once  # the reader processes', less the two starts
    result = {
        "pdf_bytes": pdf.stat().st_size, "rounds": args.rounds, "load_avg": os.getloadavg(),
        "worker_start_ms": round(1000 * start, 1),
        **{f"wall_ms_{k.replace(' ', '_')}": round(1000 * statistics.median(v), 1) for k, v in walls.items()},
        **{f"cpu_ms_{k.replace(' ', '_')}": round(1000 * v / args.rounds, 1) for k, v in cpu.items()},
    }
    print(f"{result['pdf_bytes']:,}-byte PDF, {args.rounds} rounds, load average {result['load_avg'][0]:.1f}")
    for name in walls:
        key = name.replace(" ", "_")
        print(f"  {name:10}: wall {result[f'wall_ms_{key}']:7.1f} ms (median), CPU {result[f'cpu_ms_{key}']:6.1f} ms")
    print(f"  first PDF, starting the worker: {result['worker_start_ms']:.0f} ms")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
