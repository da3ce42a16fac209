"""The engine a configuration asks for (`Config.engine.name`). Publishing to it after an indexing run and
its status are operations (indexer/operations/)."""
from __future__ import annotations

from indexer.core.config import Config

ENGINES = ("local", "milvus")


def open_engine(config: Config):
    """An `Engine` (indexer/engines/base.py) for `config`.

    Raises ValueError for an unknown `engine` (naming the setting) and, for Milvus, MilvusUnavailable (one line
    naming the URI) when the server cannot be reached."""
    if config.engine.name == "milvus":
        from indexer.engines.milvus import MilvusEngine

        return MilvusEngine(config.engine.milvus.uri, config.engine.milvus.token, config.engine.milvus.collection,
                            weights=config.ranking)
    if config.engine.name == "local":
        from indexer.engines.local.engine import LocalEngine

        return LocalEngine(config)
    raise ValueError(f"unknown setting engine = {config.engine.name!r}; choose one of {', '.join(ENGINES)}")

