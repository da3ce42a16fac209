"""Embedding cache keyed by (model, embedded text): an unchanged chunk is never embedded twice.

It lives outside generations, so a rebuild after a config change that does not touch the model, or a
rename, re-embeds nothing. SQLite in WAL mode: a killed run loses at most its last uncommitted batch.
"""
from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path
from typing import Sequence

import numpy as np


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class EmbeddingCache:
    def __init__(self, path: Path, model_key: str):
        self.path = Path(path)
        self.model_key = model_key
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, key BLOB NOT NULL, vec BLOB NOT NULL,"
            " PRIMARY KEY(model, key)) WITHOUT ROWID"
        )
        self._conn.commit()

    def get_many(self, texts: Sequence[str]) -> dict[int, np.ndarray]:
        """Return {position in texts: vector} for the texts that are cached."""
        keys = [text_key(t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                batch = keys[i : i + 500]
                marks = ",".join("?" * len(batch))
                rows = self._conn.execute(
                    f"SELECT key, vec FROM embeddings WHERE model=? AND key IN ({marks})", [self.model_key, *batch]
                )
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return {i: found[k] for i, k in enumerate(keys) if k in found}

    def put_many(self, texts: Sequence[str], vecs: np.ndarray) -> None:
        with self._lock, self._conn:
            self._conn.executemany(
                "INSERT OR REPLACE INTO embeddings(model, key, vec) VALUES(?,?,?)",
                [(self.model_key, text_key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in zip(texts, vecs)],
            )

    def count(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM embeddings WHERE model=?", (self.model_key,)).fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
