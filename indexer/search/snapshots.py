"""The façade's handle on an engine's current snapshot: switch when a newer one is published, while queries
already running finish on the snapshot they started with (each closes after its last query)."""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from indexer.engines.base import Engine, IndexNotFound, Snapshot

log = logging.getLogger(__name__)


class _Held:
    """A snapshot with its count of running queries; retired ones close when the count reaches zero."""

    def __init__(self, snapshot: Snapshot):
        self.snapshot = snapshot
        self.refs = 0
        self.retired = False
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            self.refs += 1

    def release(self) -> None:
        with self._lock:
            self.refs -= 1
            done = self.retired and self.refs == 0
        if done:
            self.snapshot.close()

    def retire(self) -> None:
        with self._lock:
            self.retired = True
            done = self.refs == 0
        if done:
            self.snapshot.close()


class CurrentSnapshot:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._held: _Held | None = None
        self._stamp: object | None = None
        self._switch_lock = threading.Lock()
        # set by a server: readies each newly published snapshot in the background (its figure columns), so
        # the first user after a reindex does not pay for it
        self.on_switch: Callable[[Snapshot], None] | None = None

    @contextmanager
    def use(self) -> Iterator[Snapshot]:
        """The current snapshot for one query (one cheap stamp check per call)."""
        stamp = self.engine.stamp()
        if stamp != self._stamp or self._held is None:
            with self._switch_lock:
                if stamp != self._stamp or self._held is None:
                    self._switch(stamp)
        with self._switch_lock:
            held = self._held
            held.acquire()
        try:
            yield held.snapshot
        finally:
            held.release()

    def _switch(self, stamp: object | None) -> None:
        serving = self._held.snapshot.name if self._held is not None else None
        try:
            name = self.engine.published()
        except IndexNotFound as exc:
            if serving is None:
                raise
            log.warning("%s; still serving %s", exc, serving)
            self._stamp = stamp  # warned once per change, not on every query
            return
        if name == serving:
            self._stamp = stamp
            return
        try:
            new = self.engine.open(name)
        except IndexNotFound as exc:
            if serving is None:
                raise
            log.warning("%s; still serving %s (tried again on the next query)", exc, serving)
            return
        self._stamp = stamp
        old, self._held = self._held, _Held(new)
        if old is not None:
            log.info("switched from %s to %s", old.snapshot.name, name)
            old.retire()
            if self.on_switch is not None:
                self._held.acquire()  # kept open while it is readied, even if retired meanwhile
                threading.Thread(target=self._ready, args=(self._held, self.on_switch), daemon=True,
                                 name=f"ready-{name}").start()

    @staticmethod
    def _ready(held: _Held, ready: Callable[[Snapshot], None]) -> None:
        try:
            ready(held.snapshot)
        except Exception as exc:  # the first query that needs it loads it instead, and reports what is wrong
            log.warning("readying %s in the background failed: %s", held.snapshot.name, exc)
        finally:
            held.release()

    def close(self) -> None:
        """Retire the current snapshot and close the engine (a Milvus client's connection)."""
        with self._switch_lock:
            if self._held is not None:
                self._held.retire()
                self._held = None
        self.engine.close()
