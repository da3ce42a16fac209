"""Damaged index files found at query time: a query that fails inside the engine (a truncated full-text
segment makes Whoosh raise EOFError, tantivy its own error) is explained by the integrity check of the
snapshot, so the user gets "index damaged: <what>, run `reportsearch index --full`" (CLI exit 2, web 503)
instead of a traceback or a 500; an error the check cannot explain is re-raised as it was (a bug)."""
from __future__ import annotations

import logging
import threading

from indexer.engines.base import IndexDamaged, IndexUnavailable, Snapshot
from indexer.search.types import QueryError

log = logging.getLogger(__name__)

# Errors that say something about the request, never about the files.
_NOT_DAMAGE = (IndexUnavailable, QueryError, KeyError)


class DamageCheck:
    """Remembers, per snapshot, the damage a failed query revealed (a generation never changes: once damaged,
    always damaged, until a run publishes a new one)."""

    def __init__(self) -> None:
        self._found: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def explain(self, snap: Snapshot, exc: BaseException) -> IndexDamaged | None:
        """The damage behind `exc`, raised inside a query on `snap`; None when the files are whole."""
        if isinstance(exc, _NOT_DAMAGE) or not isinstance(exc, Exception):
            return None
        damage = self.damage(snap, checksums=True)
        if damage:
            log.debug("a query failed on damaged files: %s: %s", type(exc).__name__, exc)
        return IndexDamaged(damage) if damage else None

    def damage(self, snap: Snapshot, checksums: bool = False) -> list[str]:
        """What is wrong with the snapshot's files: known from an earlier failed query, else checked now
        (sizes and counts; with `checksums`, every file's CRC-32 too). Engines that cannot tell say nothing."""
        with self._lock:
            known = self._found.get(snap.name)
        if known:
            return known
        check = getattr(snap, "damage", None)
        found = check(checksums) if check is not None else []
        if found:
            with self._lock:
                self._found[snap.name] = found
        return found
