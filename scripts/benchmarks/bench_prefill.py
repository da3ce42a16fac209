"""Fill the shared embedding cache with every chunk of a benchmark corpus, so later benchmark builds measure
everything *but* the (one-off, ~48 min at 100k) embedding; the embedding's own cost is measured separately
on a fixed sample by bench_index.

    .venv/bin/python -m scripts.benchmarks.bench_prefill --n 10000 --n 100000
"""
from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from indexer import Config
from indexer.build.embedding_input import embedding_context, embedding_input
from indexer.pipeline.chunk import chunk_paragraphs
from indexer.pipeline.ingest import parse_file
from indexer.storage.vectors import EmbeddingCache, Encoder
from scripts.benchmarks.common import BENCH_DIR, SHARED_CACHE, make_corpus


def corpus_texts(folder: Path, config: Config) -> list[str]:
    texts = []
    for path in sorted(folder.rglob("*.txt")):
        rel = path.relative_to(folder).as_posix()
        doc = parse_file(path, rel, config.ingest.max_file_bytes)
        for c in chunk_paragraphs(doc.paragraphs, rel, config, doc_path=rel):
            texts.append(embedding_input(doc.meta, c.heading_path, c.text, embedding_context(config)))
    return texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, action="append", required=True)
    ap.add_argument("--cache", type=Path, default=SHARED_CACHE)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    config = Config()
    encoder = Encoder(config.embedding.model, config.embedding.batch_size)
    cache = EmbeddingCache(args.cache, config.embedding.model)
    for n in args.n:
        folder = BENCH_DIR / f"corpus-{n}"
        make_corpus(n, folder, config)
        texts = list(dict.fromkeys(corpus_texts(folder, config)))
        found = cache.get_many(texts)
        missing = [t for i, t in enumerate(texts) if i not in found]
        print(f"n={n}: {len(texts)} distinct texts, {len(missing)} to embed", flush=True)
        t0 = time.perf_counter()
        for start in range(0, len(missing), 512):
            batch = missing[start : start + 512]
            cache.put_many(batch, encoder.encode(batch))
            done = start + len(batch)
            rate = done / (time.perf_counter() - t0)
            print(f"  {done}/{len(missing)} ({rate:.1f}/s)", flush=True)
    cache.close()


if __name__ == "__main__":
    main()
