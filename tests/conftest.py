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

from indexer.build.index import Index, RunReport
from indexer.core.config import Config
from indexer.search.searcher import Searcher
from indexer.storage.vectors import Encoder

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CORPUS = REPO / "corpora" / "fazhi-2023"
EVAL_SET = REPO / "corpora" / "eval"
TOWNSHIPS_CORPUS = REPO.parent / "shared" / "eval-townships" / "corpus"

logging.getLogger("jieba").setLevel(logging.WARNING)

# -- tiers: each folder under tests/ is one tier (the markers are registered in pytest.ini) ---------------------
TESTS = Path(__file__).resolve().parent
# Fixtures that load the embedding model or a browser: a test asking for one cannot be in the quick tier.
HEAVY_FIXTURES = ("encoder", "browser")


def _tiers(config: pytest.Config) -> set[str]:
    return {line.split(":", 1)[0].strip() for line in config.getini("markers")}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with its folder's tier, unless it carries another tier's marker itself (a test that
    builds an index among the quick parsing tests of its subject). A test file outside a tier folder, or a
    quick test that loads the model or a browser, is an error: `make test-quick` must stay quick."""
    tiers = _tiers(config)
    for item in items:
        folder = item.path.relative_to(TESTS).parts[0] if item.path.is_relative_to(TESTS) else ""
        if folder not in tiers:
            raise pytest.UsageError(f"{item.nodeid}: a test file lives in one of the tier folders tests/"
                                    f"{{{','.join(sorted(tiers))}}}/ (pytest.ini lists what each holds)")
        if not any(m.name in tiers for m in item.iter_markers()):
            item.add_marker(folder)
        quick = item.get_closest_marker("quick") is not None
        if quick and folder != "quick":  # `make test-quick` collects tests/quick/ alone
            raise pytest.UsageError(f"{item.nodeid}: a quick test lives in tests/quick/")
        heavy = [f for f in HEAVY_FIXTURES if f in item.fixturenames]
        if quick and heavy:
            raise pytest.UsageError(f"{item.nodeid}: uses {', '.join(heavy)}, so it is not quick: mark it with "
                                    f"its tier (@pytest.mark.index / search / web / browser) or move it")


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
                    embedding_cache=embedding_cache)
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
        config = Config(corpus_dir=corpus, index_dir=index_dir, embedding_cache=embedding_cache).with_overrides(settings)
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
    """Debian's Chromium driven by Playwright (`make system-deps` installs it; without it the test fails
    saying so: deselect the tier with -m "not browser" on a machine without a browser)."""
    from playwright.sync_api import sync_playwright

    from tests.webfixtures import CHROMIUM, CHROMIUM_ARGS, chromium_available

    if not chromium_available():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium (make system-deps)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# -- Debian packages `make system-deps` installs: a test that needs a missing one fails naming it -------------
@pytest.fixture(scope="session")
def cjk_font() -> Path:
    from tests.fixtures_formats import require_cjk_font

    return require_cjk_font()


@pytest.fixture(scope="session")
def soffice() -> str:
    from indexer.pipeline.load.legacy_format import find_soffice

    found = find_soffice()
    if found is None:
        pytest.fail("LibreOffice is missing: .doc/.wps files convert through it (libreoffice-writer-nogui, "
                    "make system-deps)")
    return found


# -- fresh builds of eval-townships + the samples, in their own interpreters (metadata, reproducibility, and
# the big index the complete-answer tests search) ----------------------------------------------------------
def _seeded_build(corpus: Path, index_dir: Path, cache: Path, seed: str) -> Path:
    """A fresh build with the default settings in its own interpreter under this PYTHONHASHSEED (set
    iteration order differs)."""
    env = dict(os.environ, PYTHONHASHSEED=seed, REPORTSEARCH_EMBEDDING_CACHE=str(cache))
    done = subprocess.run([sys.executable, "-m", "indexer.cli", "index", str(corpus), "--index-dir", str(index_dir),
                           "--no-progress", "-q"], cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout + done.stderr
    return index_dir


@pytest.fixture(scope="session")
def townships_corpus(tmp_path_factory) -> Path:
    """A folder holding ../shared/eval-townships/corpus (eval-townships/) and corpora/fazhi-2023 (fazhi-2023/)."""
    if not TOWNSHIPS_CORPUS.is_dir():
        pytest.fail(f"{TOWNSHIPS_CORPUS} is missing: these tests need ../shared/eval-townships beside the checkout")
    corpus = tmp_path_factory.mktemp("townships") / "corpus"
    shutil.copytree(TOWNSHIPS_CORPUS, corpus / "eval-townships")
    shutil.copytree(SAMPLE_CORPUS, corpus / "fazhi-2023")
    return corpus


@pytest.fixture(scope="session")
def townships_index(townships_corpus, embedding_cache) -> Path:
    """Index folder of a fresh build of townships_corpus under PYTHONHASHSEED 1, default settings. Built once
    for every test that needs the 123-report index (builds of it are the suite's most expensive step)."""
    return _seeded_build(townships_corpus, townships_corpus.parent / "seed-1", embedding_cache, "1")


@pytest.fixture(scope="session")
def seeded_builds(townships_corpus, townships_index, embedding_cache) -> tuple[Path, Path]:
    """Index folders of two fresh builds of townships_corpus under PYTHONHASHSEED 1 and 2; the second embeds
    nothing (shared embedding cache)."""
    return townships_index, _seeded_build(townships_corpus, townships_corpus.parent / "seed-2", embedding_cache, "2")
