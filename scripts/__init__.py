"""Maintainer programs around the library, run as modules from the repository root:

    python -m scripts.tools.check_imports              # tools: the layer check, scripts/tools/reindex.sh for cron
    python -m scripts.benchmarks.bench_query --help    # benchmarks: speed, memory, quality (docs/benchmarks.md)
    python -m scripts.labs.relevance_lab --help        # labs: offline experiments (docs/evaluation.md)

They use the library's public API (`indexer`: Config, Index, Searcher; `indexer.engines.factory` where an
engine itself is measured) and never patch `sys.path`.
"""
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent  # the checkout: corpora/, .bench/, ../shared beside it
