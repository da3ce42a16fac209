"""`MilvusEngine`: resolves the alias to a snapshot; `stamp()` changes when a rebuild swaps the alias.

The alias is re-checked at most every `ALIAS_TTL_S` (not on every query: each check is a round trip), so a
searcher switches to a swapped pair within that time; an incremental sync changes the pair in place and
needs no switch."""
from __future__ import annotations

import logging
import threading
import time

from indexer.core.config import RankingSettings
from indexer.engines.base import IndexNotFound
from indexer.engines.milvus.connection import MilvusUnavailable, connect, is_connection_error, reason_of
from indexer.engines.milvus.snapshot import MilvusSnapshot
from indexer.engines.milvus.sync import published, published_name

log = logging.getLogger(__name__)

ALIAS_TTL_S = 2.0


class NothingPublished(IndexNotFound):
    """No collection behind the alias yet: the façade reports it like an unpublished local index."""


class MilvusEngine:
    def __init__(self, uri: str, token: str = "", collection: str = "reportsearch", alias_ttl: float = ALIAS_TTL_S,
                 weights: RankingSettings = RankingSettings()):
        self.weights = weights
        self.uri = uri
        self.collection = collection
        self.alias_ttl = alias_ttl
        self.client = connect(uri, token)
        self._stamp: tuple[float, str | None] | None = None  # (when resolved, chunks collection)
        self._lock = threading.Lock()

    def _guard(self, call, *args):
        try:
            return call(self.client, *args)
        except MilvusUnavailable:
            raise
        except Exception as exc:  # the server went away after connecting
            if is_connection_error(exc):
                raise MilvusUnavailable(self.uri, reason_of(exc)) from exc
            raise

    def stamp(self) -> object | None:
        """The collection the alias points at (an incremental sync keeps it; a rebuild changes it),
        resolved at most every `alias_ttl` seconds."""
        with self._lock:
            cached = self._stamp
            if cached is not None and time.monotonic() - cached[0] < self.alias_ttl:
                return cached[1]
        name = self._guard(published_name, self.collection)
        with self._lock:
            self._stamp = (time.monotonic(), name)
        return name

    def published(self) -> str:
        """The chunks collection the alias points at (engines/base.py Engine.published)."""
        name = self._guard(published_name, self.collection)
        if name is None:
            raise NothingPublished(f"nothing is published in Milvus at {self.uri} under '{self.collection}'"
                                   " (run: reportsearch index --engine milvus)")
        return name

    def open(self, name: str | None = None) -> MilvusSnapshot:
        current = self._guard(published, self.collection)
        if current is None or (name is not None and current[0] != name):
            raise NothingPublished(f"collection {name or self.collection} is not published in Milvus at {self.uri}"
                                   " (run: reportsearch index --engine milvus)")
        chunks, docs, info = current
        return MilvusSnapshot(self.client, chunks, docs, info, self.uri, self.weights)

    def close(self) -> None:
        self.client.close()
