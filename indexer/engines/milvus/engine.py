"""`MilvusEngine`: resolves the alias to a snapshot; `stamp()` changes when a rebuild swaps the alias."""
from __future__ import annotations

import logging

from indexer.engines.base import IndexNotFound
from indexer.engines.milvus.connection import MilvusUnavailable, connect, is_connection_error, reason_of
from indexer.engines.milvus.snapshot import MilvusSnapshot
from indexer.engines.milvus.sync import published

log = logging.getLogger(__name__)


class NothingPublished(IndexNotFound):
    """No collection behind the alias yet: the façade reports it like an unpublished local index."""


class MilvusEngine:
    def __init__(self, uri: str, token: str = "", collection: str = "reportsearch"):
        self.uri = uri
        self.collection = collection
        self.client = connect(uri, token)

    def _published(self):
        try:
            return published(self.client, self.collection)
        except Exception as exc:  # the server went away after connecting
            if is_connection_error(exc):
                raise MilvusUnavailable(self.uri, reason_of(exc)) from exc
            raise

    def stamp(self) -> object | None:
        """The collection the alias points at (an incremental sync keeps it; a rebuild changes it)."""
        current = self._published()
        return current[0] if current else None

    def published(self) -> str:
        """The chunks collection the alias points at (engines/base.py Engine.published)."""
        current = self._published()
        if current is None:
            raise NothingPublished(f"nothing is published in Milvus at {self.uri} under '{self.collection}'"
                                   " (run: reportsearch index --engine milvus)")
        return current[0]

    def open(self, name: str | None = None) -> MilvusSnapshot:
        current = self._published()
        if current is None or (name is not None and current[0] != name):
            raise NothingPublished(f"collection {name or self.collection} is not published in Milvus at {self.uri}"
                                   " (run: reportsearch index --engine milvus)")
        chunks, docs, info = current
        return MilvusSnapshot(self.client, chunks, docs, info, self.uri)

    def close(self) -> None:
        self.client.close()
