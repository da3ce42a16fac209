"""The encoder of each snapshot's model: a query is encoded by the model that made the vectors it is compared
with, never by another. An index adapted to its corpus (`reportsearch adapt`) records `adapted-<hash>` as its
model; a snapshot published with another model (adapted, or back to the base) switches the encoder for the
queries on it, while queries already running on the old snapshot keep the old encoder (per thread)."""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Iterator

from indexer.core.config import Config
from indexer.storage.vectors import Encoder
from indexer.storage.vectors.models import is_adapted, resolve_model

log = logging.getLogger(__name__)


class SnapshotEncoders:
    def __init__(self, config: Config, encoder: Encoder):
        self.config = config
        self.latest = encoder  # the encoder of the newest snapshot a query used
        self._by_name = {encoder.name: encoder}
        self._lock = threading.Lock()
        self._local = threading.local()

    def of(self, model: str) -> Encoder:
        """The encoder of `model` (loaded once); raises ModelMissing when an adapted model's files are gone:
        its vectors cannot be queried with any other model."""
        if not model:
            return self.latest
        enc = self._by_name.get(model)
        if enc is not None:
            return enc
        with self._lock:
            if model not in self._by_name:
                resolve_model(model, self.config.index_dir)  # refuse now, with the reason, not at first encode
                if not is_adapted(model):
                    log.warning("index was built with model %s but %s is configured; using %s for queries",
                                model, self.config.embedding.model, model)
                # the previous one stays for queries still running on the old snapshot; older ones go
                self._by_name = {self.latest.name: self.latest, model: Encoder.from_config(self.config, model)}
            return self._by_name[model]

    @contextmanager
    def using(self, model: str) -> Iterator[Encoder]:
        """Queries in this block (this thread) encode with `model`'s encoder."""
        enc = self.of(model)
        previous = getattr(self._local, "encoder", None)
        self._local.encoder = enc
        self.latest = enc
        try:
            yield enc
        finally:
            self._local.encoder = previous

    def current(self) -> Encoder:
        return getattr(self._local, "encoder", None) or self.latest

    def set(self, encoder: Encoder) -> None:
        """Replace the encoder of its model (a lab wrapping its encode calls)."""
        with self._lock:
            self._by_name = {**self._by_name, encoder.name: encoder}
            self.latest = encoder
