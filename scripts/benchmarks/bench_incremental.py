"""What a periodic reindex costs on a large existing index: one file changed, changed back, no change.

    .venv/bin/python -m scripts.benchmarks.bench_incremental --index-dir .bench/perf/index-100000-tantivy \
        --corpus .bench/corpus-100000 --embedding-cache .bench/perf/cache-100000-tantivy.sqlite

Edits one report of the corpus (one sentence), runs `Index.build()` (incremental, as cron does), restores
the file, runs again, then runs once more with nothing changed, printing each run's stage timings. The index
must have been built from that corpus (bench_index); its embedding cache supplies the vectors of the
unchanged chunks, the real model embeds the changed ones.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from indexer import Config, Index
from scripts.benchmarks.common import machine_info, write_json
from indexer.core.config import EmbeddingSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--embedding-cache", type=Path, required=True)
    parser.add_argument("--json", dest="json_out")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    config = Config(corpus_dir=args.corpus, index_dir=args.index_dir,
                    embedding=EmbeddingSettings(cache=args.embedding_cache))
    target = sorted(args.corpus.rglob("*.txt"))[7]
    original = target.read_text(encoding="utf-8")
    index = Index(config)
    runs = []

    def run(label: str) -> None:
        t0 = time.perf_counter()
        report = index.build(progress=False)
        wall = time.perf_counter() - t0
        if report.exit_code != 0:
            raise SystemExit(f"{label}: exit {report.exit_code}: {report.summary()}")
        row = {"run": label, "wall_s": round(wall, 1), "changed": report.changed, "chunks": report.chunks,
               "embedded": report.embedded, "vector_index": report.vector_index,
               "timings_s": {k: round(v, 1) for k, v in report.timings.items()}}
        runs.append(row)
        print(f"{label:18s} {row['wall_s']:7.1f} s  vector index {report.vector_index or '-':8s} {row['timings_s']}",
              flush=True)

    try:
        target.write_text(original.replace("。", "，并持续推进。", 1), encoding="utf-8")
        run("one file changed")
    finally:
        target.write_text(original, encoding="utf-8")
    run("changed back")
    run("no change")
    if args.json_out:
        write_json(Path(args.json_out), {"machine": machine_info(), "command": " ".join(sys.argv),
                                         "file": str(target), "runs": runs})
    return 0


if __name__ == "__main__":
    sys.exit(main())
