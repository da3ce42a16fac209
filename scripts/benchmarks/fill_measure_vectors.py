"""Add the measure vectors (issue 30: the 数据 table's grouping) to the published generation of an index built
before they were stored, in place, with the build's own code (GenerationWriter.store_measure_vectors: the
embedding cache first, the model for the rest). For benchmark copies only: the generation's manifest checksum
of catalog.sqlite no longer matches afterwards, so the next indexing run of that folder rebuilds it.

    python -m scripts.benchmarks.fill_measure_vectors --index-dir /work/wt/figvec-data/index-100000-tantivy
"""
from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from indexer import load_config
from indexer.build.report import RunReport, now
from indexer.build.write import GenerationWriter
from indexer.storage.catalog import Catalog
from indexer.storage.generations import GenerationStore
from indexer.storage.vectors import Encoder
from indexer.storage.vectors.encoder import cache_key


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index-dir", type=Path, required=True)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    config = load_config().with_overrides({"index_dir": args.index_dir})
    catalog = Catalog(GenerationStore(args.index_dir).current_path() / "catalog.sqlite", readonly=False)
    try:
        model = catalog.info().get("model", config.embedding.model)
        config = config.with_overrides({"embedding.model": model})
        encoder = Encoder.from_config(config)
        report = RunReport(corpus=str(config.corpus_dir), started=now())
        t0 = time.perf_counter()
        missing = len(catalog.measures_without_vectors(cache_key(model, config.embedding.backend)))
        GenerationWriter(config, lambda: encoder).store_measure_vectors(catalog, report, progress=False)
        print(f"{missing} measure vectors stored in {time.perf_counter() - t0:.1f} s "
              f"(model loaded: {encoder._model is not None}); {report.repairs or ''}")
    finally:
        catalog.close()


if __name__ == "__main__":
    main()
