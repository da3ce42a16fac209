"""Shared fixtures: the real model (loaded once per session) and real indexes built in tmp folders."""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

import pytest
from filelock import FileLock

from indexer.build.index import Index
from indexer.build.report import RunReport
from indexer.core.config import Config, EmbeddingSettings
from indexer.search.searcher import Searcher
from indexer.storage.vectors import Encoder

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CORPUS = REPO / "corpora" / "fazhi-2023"
EVAL_SET = REPO / "corpora" / "eval"
TOWNSHIPS_CORPUS = REPO.parent / "shared" / "eval-townships" / "corpus"
YEARS_CORPUS = REPO / "corpora" / "years"

logging.getLogger("jieba").setLevel(logging.WARNING)

# Under pytest-xdist (`make test` runs two workers) each worker has its own session: the costly townships
# builds are made once, by the first worker that needs them, in a folder all workers share.
SHARED_ACROSS_WORKERS = "PYTEST_XDIST_WORKER" in os.environ

# -- tiers: each folder under tests/ is one tier (the markers are registered in pytest.ini) ---------------------
TESTS = Path(__file__).resolve().parent
# Fixtures that load the embedding model, a browser or build the townships corpus: a test asking for one
# cannot be in the quick tier.
HEAVY_FIXTURES = ("encoder", "browser", "townships_builds")


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
    # Files that search the townships builds run last (order otherwise kept): the builds start with the session
    # in the background and are done by then, instead of a worker sitting idle waiting for them.
    waits = {item.path for item in items if "townships_builds" in item.fixturenames}
    items.sort(key=lambda item: item.path in waits)


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


@pytest.fixture(scope="session")
def years_index(tmp_path_factory, encoder, embedding_cache) -> Config:
    """A published index of corpora/years (29 reports, 12 places over 2-4 years: 历年对比, issue 30)."""
    config = Config(corpus_dir=YEARS_CORPUS, index_dir=tmp_path_factory.mktemp("years-index"),
                    embedding=EmbeddingSettings(cache=embedding_cache))
    report = Index(config, encoder).build(progress=False)
    assert report.exit_code == 0, report.summary()
    return config


@pytest.fixture(scope="session")
def years_searcher(years_index, encoder) -> Searcher:
    s = Searcher.open(years_index, encoder)
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
class TownshipsBuilds:
    """Two fresh builds of ../shared/eval-townships/corpus + corpora/fazhi-2023 with the default settings, each
    in its own interpreter under PYTHONHASHSEED 1, then 2 (set iteration order differs). They run one after
    the other in a background thread from the start of the session, so the second core builds while the
    first runs the tests before their first user. Their embedding cache is their own (the second build
    embeds nothing); once the first is done, tests read it (filled_cache)."""

    def __init__(self, root: Path):
        self.root = root
        self.corpus = root / "corpus"
        self.cache = root / "embeddings.sqlite"
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._running: list[subprocess.Popen] = []
        shutil.copytree(TOWNSHIPS_CORPUS, self.corpus / "eval-townships")
        shutil.copytree(SAMPLE_CORPUS, self.corpus / "fazhi-2023")
        self._builds = [self._pool.submit(self._build, seed) for seed in ("1", "2")]

    def _build(self, seed: str) -> Path:
        index_dir = self.root / f"seed-{seed}"
        env = dict(os.environ, PYTHONHASHSEED=seed, REPORTSEARCH_EMBEDDING_CACHE=str(self.cache))
        proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "index", str(self.corpus), "--index-dir",
                                 str(index_dir), "--no-progress", "-q"], cwd=REPO, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._running.append(proc)
        output, _ = proc.communicate(timeout=1800)
        assert proc.returncode == 0, output
        (self.root / f"seed-{seed}.done").touch()  # other pytest workers wait for this mark
        return index_dir

    def index(self, seed: int) -> Path:
        """The index folder of the build under this seed, once it is done."""
        return self._builds[seed - 1].result()

    def filled_cache(self) -> Path:
        """The builds' embedding cache once build 1 is done: it holds every text of the corpus then (build 2
        embeds nothing, only looks up; readers share the WAL file with it). Waiting for build 2 as well
        cost the complete-answer tests ~80 s of the suite's critical path."""
        self.index(1)
        return self.cache

    def stop(self) -> None:
        if SHARED_ACROSS_WORKERS:  # another worker may still be waiting for these builds: let them finish
            self._pool.shutdown(wait=True)
            return
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in self._running:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session", autouse=True)
def _townships_builds(request, tmp_path_factory) -> Iterator[TownshipsBuilds | FinishedTownshipsBuilds | None]:
    """Starts TownshipsBuilds at the start of the session when a collected test needs them."""
    needed = any("townships_builds" in item.fixturenames for item in request.session.items)
    if not needed or not TOWNSHIPS_CORPUS.is_dir():  # missing: townships_builds fails naming it
        yield None
        return
    if not SHARED_ACROSS_WORKERS:
        builds = TownshipsBuilds(tmp_path_factory.mktemp("townships"))
        yield builds
        builds.stop()
        return
    # pytest -n: the first worker to get here builds into a folder every worker sees; the others wait for it
    root = tmp_path_factory.getbasetemp().parent / "townships"
    with FileLock(str(root) + ".lock"):
        first = not root.exists()
        if first:
            root.mkdir()
    if not first:
        yield FinishedTownshipsBuilds(root)
        return
    builds = TownshipsBuilds(root)
    yield builds
    builds.stop()


class FinishedTownshipsBuilds:
    """Another pytest worker's TownshipsBuilds, read once its builds are marked done."""

    def __init__(self, root: Path):
        self.root = root
        self.corpus = root / "corpus"
        self.cache = root / "embeddings.sqlite"

    def index(self, seed: int) -> Path:
        mark = self.root / f"seed-{seed}.done"
        deadline = time.monotonic() + 1800
        while not mark.exists():
            if time.monotonic() > deadline:
                pytest.fail(f"the townships build {seed} of another pytest worker did not finish ({mark})")
            time.sleep(0.5)
        return self.root / f"seed-{seed}"

    def filled_cache(self) -> Path:
        self.index(1)
        return self.cache


@pytest.fixture(scope="session")
def townships_builds(_townships_builds) -> TownshipsBuilds | FinishedTownshipsBuilds:
    if _townships_builds is None:
        pytest.fail(f"{TOWNSHIPS_CORPUS} is missing: these tests need ../shared/eval-townships beside the checkout")
    return _townships_builds


@pytest.fixture(scope="session")
def townships_index(townships_builds) -> Path:
    """Index folder of the PYTHONHASHSEED 1 build: the 123-report index several tiers search (its builds are
    the suite's most expensive step, so it is built once)."""
    return townships_builds.index(1)


@pytest.fixture(scope="session")
def seeded_builds(townships_builds) -> tuple[Path, Path]:
    """Index folders of the builds under PYTHONHASHSEED 1 and 2."""
    return townships_builds.index(1), townships_builds.index(2)
