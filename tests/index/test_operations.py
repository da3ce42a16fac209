"""The operations layer (indexer/operations/): one indexing run -- build and publish the local generation,
bring the configured engine up to date, the advice -- and the status an operator reads afterwards; the CLI's
`index` and `status` (and so scripts/reindex.sh) are these calls plus printing."""
from __future__ import annotations

import shutil
import socket

import pytest

from indexer.core.config import Config
from indexer.operations.indexing import index
from indexer.operations.status import advice_for, status
from indexer.storage.fulltext.factory import WHOOSH_ADVICE_CHUNKS
from indexer.storage.generations import IndexUnavailable

from conftest import SAMPLE_CORPUS


def _corpus(tmp_path, n: int = 2):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in sorted(SAMPLE_CORPUS.glob("*.txt"))[:n]:
        shutil.copy(path, corpus / path.name)
    return corpus


def test_a_dry_run_changes_nothing_and_a_run_publishes_what_status_reports(tmp_path, encoder, embedding_cache):
    config = Config(corpus_dir=_corpus(tmp_path), index_dir=tmp_path / "index").with_overrides(
        {"embedding.cache": embedding_cache})
    dry = index(config, dry_run=True, progress=False, encoder=encoder)
    assert len(dry.report.added) == 2 and dry.engine_line is None and dry.advice is None
    assert status(config)["generation"] is None  # nothing published, nothing written
    run = index(config, progress=False, encoder=encoder)
    assert run.report.exit_code == 0, run.report.summary()
    assert run.engine_line is None and run.advice is None  # the local engine; a small Whoosh index
    now = status(config)
    assert now["generation"] == run.report.generation and now["documents"] == 2 and "milvus" not in now
    assert now["last_run"]["status"] == "ok" and now["last_run"]["exit_code"] == 0


def test_an_unreachable_milvus_fails_the_run_with_the_local_generation_published(tmp_path, encoder, embedding_cache):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        uri = f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens there once the socket is closed
    config = Config(corpus_dir=_corpus(tmp_path, 1), index_dir=tmp_path / "index").with_overrides(
        {"embedding.cache": embedding_cache, "engine.name": "milvus", "engine.milvus.uri": uri})
    run = index(config, progress=False, encoder=encoder)
    assert run.report.exit_code == 2 and run.engine_line is None
    assert "local generation" in run.report.error and uri in run.report.error
    local = status(Config(index_dir=config.index_dir))  # the local index: published, last run failed
    assert local["generation"] == run.report.generation and local["last_run"]["status"] == "failed"
    with pytest.raises(IndexUnavailable, match=uri):
        status(config)  # the engine's part cannot be told: one line naming the URI


def test_the_advice_reads_the_published_backend_and_size_from_the_status():
    assert advice_for({}) is None  # nothing published
    assert advice_for({"fulltext_backend": "whoosh", "chunks": WHOOSH_ADVICE_CHUNKS}) is None
    assert "tantivy" in advice_for({"fulltext_backend": "whoosh", "chunks": WHOOSH_ADVICE_CHUNKS + 1})
