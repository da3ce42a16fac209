"""Embedding cache keyed by (model, embedded text): an unchanged chunk is never embedded twice.

It lives outside generations, so a rebuild after a config change that does not touch the model, or a
rename, re-embeds nothing. SQLite in WAL mode: a killed run loses at most its last uncommitted batch.
It is only a cache: a damaged file is moved aside (`<name>.damaged`, replacing an older one) and a new,
empty cache is started, so a corrupt cache never stops a run; its embeddings are simply computed again.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Callable, Sequence, TypeVar

import numpy as np

from indexer.core.config import Config

log = logging.getLogger(__name__)

_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
T = TypeVar("T")


def embedding_cache_path(config: Config) -> Path:
    """Where the embedding cache lives: `embedding_cache`, or beside the generations of the index."""
    return Path(config.embedding.cache or Path(config.index_dir) / "embeddings.sqlite")


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def is_corruption(exc: BaseException) -> bool:
    """An SQLite error saying the file is damaged (not a database, malformed), as opposed to locked/full."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.DatabaseError) and code is not None and code & 0xFF in (_SQLITE_CORRUPT,
                                                                                          _SQLITE_NOTADB)


def _note_path(path: Path) -> Path:
    return path.with_name(path.name + ".damaged.txt")


def _write_note(path: Path, aside: Path, reason: str) -> None:
    """Leave word of the move for the next indexing run, which reports it: a search process that moved the
    cache aside has no report of its own, and the operator would never hear of it."""
    import sys
    import time

    who = f"PID {os.getpid()}, {Path(sys.argv[0]).name} {' '.join(sys.argv[1:2])}".strip()
    try:
        _note_path(path).write_text(f"{time.strftime('%Y-%m-%d %H:%M:%S')} by {who}: moved aside to {aside} "
                                    f"({reason})\n", encoding="utf-8")
    except OSError as exc:
        log.warning("cannot leave a note of the damaged embedding cache: %s", exc)


def take_damage_note(path: Path) -> str | None:
    """The note of an earlier move aside (by any process) not yet reported; removed once read."""
    note = _note_path(Path(path))
    try:
        text = note.read_text(encoding="utf-8", errors="replace").strip()
        note.unlink()
    except OSError:
        return None
    return text or None


class EmbeddingCache:
    def __init__(self, path: Path, model_key: str):
        self.path = Path(path)
        self.model_key = model_key
        self._lock = threading.Lock()
        self.moved_aside: list[tuple[Path, str]] = []  # (where the damaged file went, why)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn: sqlite3.Connection | None = None
        self._guard(self._open)

    def _open(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = sqlite3.connect(self.path, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, key BLOB NOT NULL, vec BLOB NOT NULL,"
            " PRIMARY KEY(model, key)) WITHOUT ROWID"
        )
        self._conn.commit()

    def _guard(self, action: Callable[[], T], on_reset: Callable[[], T] | None = None) -> T:
        """Run `action`; if the file turns out to be damaged, move it aside, start anew and run `on_reset`
        (or `action` again)."""
        try:
            return action()
        except sqlite3.DatabaseError as exc:
            if not is_corruption(exc):
                raise
            self._move_aside(str(exc))
            return (on_reset or action)()

    def _move_aside(self, reason: str) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        aside = self.path.with_name(self.path.name + ".damaged")
        os.replace(self.path, aside)
        for suffix in ("-wal", "-shm"):  # the WAL of a damaged file belongs to it, not to the new one
            try:
                os.remove(f"{self.path}{suffix}")
            except FileNotFoundError:
                pass
        self.moved_aside.append((aside, reason))
        _write_note(self.path, aside, reason)
        log.warning("embedding cache %s is damaged (%s): moved aside to %s; starting a new cache "
                    "(embeddings are computed again)", self.path, reason, aside)
        self._open()

    def get_many(self, texts: Sequence[str]) -> dict[int, np.ndarray]:
        """Return {position in texts: vector} for the texts that are cached."""
        keys = [text_key(t) for t in texts]

        def read() -> dict[bytes, np.ndarray]:
            found: dict[bytes, np.ndarray] = {}
            for i in range(0, len(keys), 500):
                batch = keys[i : i + 500]
                marks = ",".join("?" * len(batch))
                rows = self._conn.execute(
                    f"SELECT key, vec FROM embeddings WHERE model=? AND key IN ({marks})", [self.model_key, *batch]
                )
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
            return found

        with self._lock:
            found = self._guard(read, on_reset=dict)
        return {i: found[k] for i, k in enumerate(keys) if k in found}

    def put_many(self, texts: Sequence[str], vecs: np.ndarray) -> None:
        rows = [(self.model_key, text_key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in zip(texts, vecs)]

        def write() -> None:
            with self._conn:
                self._conn.executemany("INSERT OR REPLACE INTO embeddings(model, key, vec) VALUES(?,?,?)", rows)

        with self._lock:
            self._guard(write)

    def encode(self, texts: Sequence[str], encoder, batch: int = 256) -> np.ndarray:
        """Vectors of `texts` (rows in order): cached ones read, the rest encoded in batches and stored. For
        one-off tools (the eval baseline, the lab scripts); the build has its own loop with progress."""
        found = self.get_many(texts)
        missing = [i for i in range(len(texts)) if i not in found]
        if missing:
            log.info("embedding %d texts (%d cached)", len(missing), len(found))
        vecs = np.zeros((len(texts), encoder.dim), dtype=np.float32)
        for i, v in found.items():
            vecs[i] = v
        for start in range(0, len(missing), batch):
            rows = missing[start:start + batch]
            out = encoder.encode([texts[i] for i in rows])
            self.put_many([texts[i] for i in rows], out)
            vecs[rows] = out
        return vecs

    def count(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM embeddings WHERE model=?", (self.model_key,)).fetchone()[0]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()

