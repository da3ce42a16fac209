"""A corpus of the sample reports plus real reports of ../shared/eval-townships, indexed once per test module:
the salutation 各位代表,同志们: of 0171, the fragment 组建 of 0003, 李桥乡's 微事不出格、小事不出村… (0026), and
enough other townships for a long place facet and more than ten pages of results."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexer.build.index import Index
from indexer.core.config import Config, EmbeddingSettings
from indexer.search.searcher import Searcher

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "corpora" / "fazhi-2023"
TOWNSHIPS = REPO.parent / "shared" / "eval-townships" / "corpus"
TOWNSHIP_FILES = ["0003.txt", "0026.txt", "0171.txt", *[f"{n:04d}.txt" for n in (1, 2, 4, 5, 7, 8, 9, 10, 11, 12,
                                                                                   13, 14, 16, 17, 19, 20)]]


def build_mixed(tmp_path_factory, encoder, embedding_cache) -> tuple[Config, Searcher]:
    if not TOWNSHIPS.is_dir():
        pytest.fail(f"{TOWNSHIPS} is missing: these tests need ../shared/eval-townships beside the checkout")
    corpus = tmp_path_factory.mktemp("mixed-corpus")
    for path in SAMPLE.glob("*.txt"):
        shutil.copy(path, corpus / path.name)
    for name in TOWNSHIP_FILES:
        shutil.copy(TOWNSHIPS / name, corpus / f"t{name}")
    config = Config(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("mixed-index"),
                    embedding=EmbeddingSettings(cache=embedding_cache))
    report = Index(config, encoder).build(progress=False)
    assert report.exit_code == 0, report.summary()
    return config, Searcher.open(config, encoder)
