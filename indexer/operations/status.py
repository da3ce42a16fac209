"""What `status` reports to an operator: the local index (published generation, last run, damage), the remote
engine's alias and counts, and the advice when the full-text backend has outgrown the corpus."""
from __future__ import annotations

from indexer.build.index import Index
from indexer.core.config import Config
from indexer.engines.base import IndexNotFound
from indexer.engines.factory import open_engine
from indexer.storage.fulltext.factory import scale_advice


def engine_status(config: Config) -> dict | None:
    """What `status` reports about a remote engine (None for the local one): the collection the alias points
    at and its counts. MilvusUnavailable (one line, naming the URI) when it cannot be reached."""
    if config.engine.name != "milvus":
        return None
    engine = open_engine(config)
    try:
        name = engine.published()
        snap = engine.open(name)
        documents, chunks = snap.counts()
        snap.close()
        return {"uri": config.engine.milvus.uri, "alias": config.engine.milvus.collection, "collection": name,
                "documents": documents, "chunks": chunks}
    except IndexNotFound as exc:
        return {"uri": config.engine.milvus.uri, "alias": config.engine.milvus.collection, "collection": None, "error": str(exc)}
    finally:
        engine.close()


def status(config: Config) -> dict:
    """`Index.status()` of the local index, with the remote engine's under "milvus" when one is configured."""
    out = Index(config).status()
    remote = engine_status(config)
    if remote is not None:
        out["milvus"] = remote
    return out


def advice_for(status: dict) -> str | None:
    """One line when the published index has outgrown its full-text backend (storage/fulltext/factory.py)."""
    return scale_advice(status.get("fulltext_backend", ""), int(status.get("chunks") or 0))
