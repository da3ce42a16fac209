"""The engine a configuration asks for (`Config.engine`)."""
from __future__ import annotations

from indexer.config import Config

ENGINES = ("local", "milvus")


def open_engine(config: Config):
    """An `Engine` (indexer/engines/base.py) for `config`.

    Raises ValueError for an unknown `engine` (naming the setting) and, for Milvus, MilvusUnavailable (one line
    naming the URI) when the server cannot be reached."""
    if config.engine == "milvus":
        from indexer.engines.milvus import MilvusEngine

        return MilvusEngine(config.milvus_uri, config.milvus_token, config.milvus_collection)
    if config.engine == "local":
        from indexer.engines.local import LocalEngine

        return LocalEngine(config)
    raise ValueError(f"unknown setting engine = {config.engine!r}; choose one of {', '.join(ENGINES)}")


def publish_to_engine(config: Config, full: bool = False) -> str | None:
    """After a local run published a generation: bring the configured remote engine up to date with it.

    The local generation stays the plan and the staging area (file hashes, chunk rows, embedding cache); for
    Milvus the diff is upserted/deleted, or a full rebuild is written to new collections and the alias
    swapped. Returns a one-line summary, or None for the local engine. A Milvus that cannot be reached raises
    MilvusUnavailable naming the URI; a full rebuild has then published nothing."""
    if config.engine != "milvus":
        return None
    from indexer.engines.milvus.connection import connect
    from indexer.engines.milvus.sync import sync
    from indexer.generations import GenerationStore

    gen = GenerationStore(config.index_dir).current_path_or_none()
    if gen is None:
        return "milvus: nothing published locally yet, nothing to sync"
    client = connect(config.milvus_uri, config.milvus_token)
    try:
        r = sync(client, gen, config.milvus_collection, full=full, user_dict=config.user_dict, uri=config.milvus_uri)
    finally:
        client.close()
    kind = "full rebuild, alias swapped" if r.full else "incremental"
    return (f"milvus {config.milvus_uri} → {r.collection} ({kind}): chunks +{r.chunks_upserted} "
            f"-{r.chunks_deleted}, documents +{r.docs_upserted} -{r.docs_deleted}, {r.seconds:.1f} s")


def engine_status(config: Config) -> dict | None:
    """What `status` reports about a remote engine (None for the local one): the collection the alias points
    at and its counts. MilvusUnavailable (one line, naming the URI) when it cannot be reached."""
    if config.engine != "milvus":
        return None
    from indexer.engines.base import IndexNotFound

    engine = open_engine(config)
    try:
        name = engine.published()
        snap = engine.open(name)
        documents, chunks = snap.counts()
        snap.close()
        return {"uri": config.milvus_uri, "alias": config.milvus_collection, "collection": name,
                "documents": documents, "chunks": chunks}
    except IndexNotFound as exc:
        return {"uri": config.milvus_uri, "alias": config.milvus_collection, "collection": None, "error": str(exc)}
    finally:
        engine.close()
