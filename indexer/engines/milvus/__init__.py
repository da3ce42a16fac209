"""The Milvus engine: one chunks collection + one documents collection behind aliases, BM25 + dense in Milvus.

Modules, one job each:
- connection.py: open a client for a URI (Lite file, Lite server, Standalone/Distributed); one clear error.
- tokens.py: our analyzer's words as ASCII tokens every Milvus tokenizer keeps whole.
- schema.py: collection layout, names and aliases.
- expr.py: filters and id lists compiled to Milvus boolean expressions, values escaped strictly.
- recheck.py: the query tree evaluated on the client (what BM25 alone cannot say: AND, NOT, phrases).
- sync.py: publish a local generation to Milvus (full rebuild + alias swap, or incremental diff).
- snapshot.py / engine.py: the read side behind indexer/engines/base.py.
"""
from indexer.engines.milvus.connection import MilvusUnavailable
from indexer.engines.milvus.engine import MilvusEngine
from indexer.engines.milvus.snapshot import MilvusSnapshot

__all__ = ["MilvusEngine", "MilvusSnapshot", "MilvusUnavailable"]
