"""A Milvus Lite server in its own process (`milvus-lite server`, as an operator runs one without Docker), and
the comparison of what Milvus holds with the local generation it was synced from."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from indexer.core.filters import Filters
from indexer.storage.catalog import Catalog
from indexer.core.config import Config
from indexer.engines.local.engine import LocalEngine
from indexer.engines.milvus import MilvusEngine
from indexer.engines.milvus import schema
from indexer.engines.milvus.connection import connect
from indexer.engines.milvus.sync import iterate
from indexer.storage.generations import GenerationStore
from indexer.search.query import parse_query


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lite_binary() -> str:
    return shutil.which("milvus-lite") or str(Path(sys.executable).with_name("milvus-lite"))


@contextmanager
def lite_server(data_dir: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """(uri, process) of a Milvus Lite server on a free local port; stopped on exit."""
    port = free_port()
    proc = subprocess.Popen([lite_binary(), "server", "--data-dir", str(data_dir), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                client = connect(uri)
                client.list_collections()
                client.close()
                break
            except Exception:
                if time.time() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.5)
        yield uri, proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def milvus_config(config: Config, uri: str, base: str) -> Config:
    return config.with_overrides({"engine": "milvus", "milvus_uri": uri, "milvus_collection": base})


def assert_equals_local(config: Config, uri: str, base: str) -> None:
    """Every row Milvus holds behind alias `base` equals the published local generation's, and no pair of
    ours is left besides the published one and the one before it."""
    gen = GenerationStore(config.index_dir).current_path()
    cat = Catalog(gen / "catalog.sqlite")
    local_engine = LocalEngine(config)
    local = local_engine.open(local_engine.published())
    engine = MilvusEngine(uri, collection=base, alias_ttl=0)
    try:
        snap = engine.open()
        ids = sorted(int(i) for i in cat.chunk_ids())
        held = sorted(int(r["id"]) for r in iterate(engine.client, snap.chunks_collection, "id >= 0", ["id"],
                                                    strong=True))
        assert held == ids
        assert snap.chunks(ids) == cat.chunks_by_id(ids)
        assert snap.facts(ids) == local.facts(ids)
        assert [engine.client.query(snap.chunks_collection, ids=[i], output_fields=["vector"])[0]["vector"]
                for i in ids[:3]] == [local.vector(i).tolist() for i in ids[:3]]
        docs = cat.documents()
        assert snap.document_list() == docs
        assert snap.documents([d.doc_id for d in docs]) == {d.doc_id: d for d in docs}
        for d in docs:
            assert snap.paragraphs(d.doc_id) == cat.paragraphs(d.doc_id), d.path
            assert snap.aliases_of(d.doc_id) == cat.aliases_of(d.doc_id)
        parts = list(iterate(engine.client, snap.docs_collection, "n >= 0", ["key"], strong=True))
        assert len(parts) == sum(len(schema.split_utf8(_paragraphs(cat, d.doc_id))) for d in docs), "stale parts"
        assert snap.counts() == (cat.document_count(), cat.chunk_count())
        assert snap.facet_values(Filters()) == local.facet_values(Filters())
        for place, _ in local.facet_values(Filters())["place"]:
            f = Filters(place=(place,))
            assert sorted(c for c, _ in snap.keyword(parse_query("法治"), 1000, f)) == \
                sorted(c for c, _ in local.keyword(parse_query("法治"), 1000, f)), place
        ours = {n for n in engine.client.list_collections() if n.startswith(base + "_")}
        previous = snap.info.get("previous")
        assert ours <= {snap.chunks_collection, snap.docs_collection} | (
            {previous, schema.docs_of(previous)} if previous else set()), "orphaned collections left"
    finally:
        engine.close()
        local.close()
        cat.close()


def _paragraphs(cat: Catalog, doc_id: str) -> str:
    return cat.connect().execute("SELECT paragraphs FROM documents WHERE doc_id=?", (doc_id,)).fetchone()[0] or "[]"


class CountingClient:
    """A MilvusClient that counts the calls made through it (by method name)."""

    def __init__(self, client):
        self._client = client
        self.calls: dict[str, int] = {}
        self.filters: list[tuple[str, str]] = []  # (method, filter expression) of every call that had one

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def counted(*args, **kwargs):
            self.calls[name] = self.calls.get(name, 0) + 1
            if kwargs.get("filter"):
                self.filters.append((name, kwargs["filter"]))
            return attr(*args, **kwargs)
        return counted

    def total(self) -> int:
        return sum(self.calls.values())
