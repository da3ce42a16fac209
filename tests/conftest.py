"""Shared fixtures: the real model (loaded once per session) and real indexes built in tmp folders."""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from indexer.build.index import Index
from indexer.build.report import RunReport
from indexer.core.config import Config, EmbeddingSettings
from indexer.search.searcher import Searcher
from indexer.storage.vectors import Encoder

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CORPUS = REPO / "corpora" / "fazhi-2023"
EVAL_SET = REPO / "corpora" / "eval"
TOWNSHIPS_CORPUS = REPO.parent / "shared" / "eval-townships" / "corpus"

logging.getLogger("jieba").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    enc = Encoder("m3e-small")
    enc.model  # load once for the whole session
    return enc


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory) -> Path:
    """One embedding cache for every index the tests build: the same texts are embedded once."""
    return tmp_path_factory.mktemp("embeddings") / "embeddings.sqlite"


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory, encoder, embedding_cache) -> Config:
    """A published index of the five sample reports."""
    config = Config(corpus_dir=SAMPLE_CORPUS, index_dir=tmp_path_factory.mktemp("sample-index"),
                    embedding=EmbeddingSettings(cache=embedding_cache))
    report = Index(config, encoder).build(progress=False)
    assert report.exit_code == 0, report.summary()
    return config


@pytest.fixture(scope="session")
def searcher(sample_index, encoder) -> Searcher:
    s = Searcher.open(sample_index, encoder)
    yield s
    s.close()


@pytest.fixture
def build_index(tmp_path, encoder, embedding_cache) -> Callable[..., tuple[Config, RunReport]]:
    """build_index({"a.txt": "…", "b.txt": b"…"}, full=False, **settings) -> (config, report): writes the
    files into a corpus folder under tmp_path and indexes it (call again to re-index incrementally)."""
    corpus = tmp_path / "corpus"
    index_dir = tmp_path / "index"

    def build(files: dict[str, str | bytes] | None = None, full: bool = False, **settings) -> tuple[Config, RunReport]:
        corpus.mkdir(exist_ok=True)
        for name, content in (files or {}).items():
            path = corpus / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        config = Config(corpus_dir=corpus, index_dir=index_dir,
                        embedding=EmbeddingSettings(cache=embedding_cache)).with_overrides(settings)
        report = Index(config, encoder).build(full=full, progress=False)
        return config, report

    build.corpus = corpus  # type: ignore[attr-defined]
    build.index_dir = index_dir  # type: ignore[attr-defined]
    return build


# -- the Flask app over the sample index, through its test client (API and page tests) --------------------
@pytest.fixture(scope="module")
def app(sample_index, searcher):
    from search_web import create_app

    return create_app(sample_index, searcher)


@pytest.fixture()
def client(app):
    return app.test_client()


# -- the served app and one Chromium, for the browser tests (tests/test_web_*browser*.py) -----------------
@pytest.fixture(scope="module")
def server(sample_index, searcher):
    """The app under a real waitress server on a free local port, over the sample index."""
    from tests.webfixtures import live_server

    with live_server(sample_index, searcher) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (the browser test modules skip when either is missing)."""
    from playwright.sync_api import sync_playwright

    from tests.webfixtures import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# -- two fresh builds of eval-townships + the samples under different hash seeds (reproducibility, metadata) --
def _seeded_build(corpus: Path, index_dir: Path, cache: Path, seed: str) -> Path:
    """A fresh build in its own interpreter under this PYTHONHASHSEED (set iteration order differs)."""
    env = dict(os.environ, PYTHONHASHSEED=seed, REPORTSEARCH_EMBEDDING_CACHE=str(cache),
               REPORTSEARCH_SENTENCE_RERANK="off")
    done = subprocess.run([sys.executable, "-m", "indexer.cli", "index", str(corpus), "--index-dir", str(index_dir),
                           "--no-progress", "-q"], cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout + done.stderr
    return index_dir


@pytest.fixture(scope="session")
def seeded_builds(tmp_path_factory, embedding_cache) -> tuple[Path, Path]:
    """Index folders of two fresh builds (PYTHONHASHSEED 1 and 2) of ../shared/eval-townships/corpus +
    corpora/fazhi-2023; the second embeds nothing (shared embedding cache)."""
    if not TOWNSHIPS_CORPUS.is_dir():
        pytest.fail(f"{TOWNSHIPS_CORPUS} is missing: these tests need ../shared/eval-townships beside the checkout")
    root = tmp_path_factory.mktemp("seeded")
    corpus = root / "corpus"
    shutil.copytree(TOWNSHIPS_CORPUS, corpus / "eval-townships")
    shutil.copytree(SAMPLE_CORPUS, corpus / "fazhi-2023")
    return (_seeded_build(corpus, root / "seed-1", embedding_cache, "1"),
            _seeded_build(corpus, root / "seed-2", embedding_cache, "2"))
