"""Sentence-transformers encoder, loaded once, returning L2-normalised float32 vectors."""
from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from indexer.storage.vectors.models import BUNDLED_MODELS, resolve_model  # noqa: F401 (re-exported)

if TYPE_CHECKING:
    from indexer.core.config import Config

log = logging.getLogger(__name__)

ENCODER_BACKENDS = ("torch", "torch-int8")

# One query is encoded on one thread: splitting its small matrices over both cores gains little when idle,
# and when the other core is busy (a build, other requests) torch's threads wait for each other, measured at
# 350 ms instead of 20 ms per query on this 2-core machine. Batches (indexing) use every core.
# torch's thread count is per process, so it is switched only when the kind of call changes: a serving
# process stays at one thread, a build at all of them.
_batch_threads: int | None = None  # torch's own default, read before the first switch


def _set_threads(single: bool) -> None:
    global _batch_threads
    import torch

    if _batch_threads is None:
        _batch_threads = torch.get_num_threads()
    n = 1 if single else _batch_threads
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def cache_key(model: str, backend: str = "torch") -> str:
    """Embedding-cache key: vectors of another backend differ slightly, so they are cached apart."""
    return model if backend == "torch" else f"{model}#{backend}"


# "auto": the GPU when torch sees one. Embedding is the cost that grows with the corpus (issue 15), so a
# machine with a GPU should use it; queries are single sentences and fine on CPU.
DEVICES = ("cpu", "cuda", "auto")


# A query is one short text: its cost is reading the weights, not arithmetic. On a CPU with native bfloat16
# (AVX512-BF16 / AMX) a bfloat16 copy of the model encodes it in ~60% of the time (12 vs 21 ms on this
# machine) with cosine ≥ 0.99998 to the float32 vector (docs/benchmarks.md). Indexing always uses float32,
# so stored and cached vectors never depend on it.
QUERY_PRECISIONS = ("auto", "float32", "bfloat16")
QUERY_WARM_TOKENS = 32  # tokens ≈ characters for Chinese; longer queries warm up on first use


@functools.cache  # asked on every query; the CPU does not change
def native_bfloat16() -> bool:
    """Whether this CPU computes in bfloat16 natively (emulated bfloat16 is slower than float32)."""
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # private in torch: absent means no
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def _torch_device(device: str, backend: str) -> str:
    if backend == "torch-int8":
        return "cpu"  # dynamic int8 quantization is a CPU kernel
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class Encoder:
    """Lazy, thread-safe wrapper around a SentenceTransformer model.

    backend "torch" runs the model as shipped; "torch-int8" quantizes its Linear layers to int8 at load
    (torch dynamic quantization: no export step, no extra package), ~1.5x faster on CPU; its speed and
    retrieval quality are measured in docs/benchmarks.md.
    """

    def __init__(self, model: str, batch_size: int = 32, backend: str = "torch", device: str = "cpu",
                 query_precision: str = "auto", index_dir: Path | str | None = None):
        if backend not in ENCODER_BACKENDS:
            raise ValueError(f"unknown encoder_backend {backend!r}; choose one of {', '.join(ENCODER_BACKENDS)}")
        if device not in DEVICES:
            raise ValueError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
        if query_precision not in QUERY_PRECISIONS:
            raise ValueError(f"unknown query_precision {query_precision!r}; "
                             f"choose one of {', '.join(QUERY_PRECISIONS)}")
        self.query_precision = query_precision
        self._query_model = None
        self.name = model
        self.index_dir = index_dir  # where an adapted model (`adapted-<hash>`) is stored (models.py)
        self.device = device
        self.batch_size = batch_size
        self.backend = backend
        self._model = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: "Config", model: str | None = None) -> "Encoder":
        """The encoder a Config asks for (`model` overrides its model: an index built with another one, or the
        index's adapted model)."""
        e = config.embedding
        return cls(model or e.model, e.batch_size, e.backend, e.device, e.query_precision, config.index_dir)

    def _load(self, device: str, **model_kwargs):
        from sentence_transformers import SentenceTransformer  # heavy import: only when needed
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # its weight-loading bar is noise in cron logs
        path = resolve_model(self.name, self.index_dir)
        log.info("loading embedding model %s (%s) %s", self.name, path, model_kwargs or "")
        return SentenceTransformer(path, device=device, model_kwargs=model_kwargs or None)

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    model = self._load(_torch_device(self.device, self.backend))
                    if self.backend == "torch-int8":
                        import torch

                        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
                    self._model = model
        return self._model

    @property
    def query_dtype(self) -> str:
        """The precision queries are encoded in: bfloat16 only for the plain CPU model (int8 is quantized
        already; a GPU is fast in float32) and, on "auto", only where the CPU has it natively."""
        if self.query_precision == "float32" or self.backend != "torch" or \
                _torch_device(self.device, self.backend) != "cpu":
            return "float32"
        if self.query_precision == "bfloat16" or native_bfloat16():
            return "bfloat16"
        return "float32"

    def _query_encoder(self):
        if self.query_dtype == "float32":
            return self.model
        if self._query_model is None:
            with self._lock:
                if self._query_model is None:
                    import torch

                    # Loaded in bfloat16 from the files (+half the model's memory); a converted copy of the
                    # float32 model would leave the copy's float32 pages behind in the heap.
                    query_model = self._load("cpu", dtype=torch.bfloat16)
                    _set_threads(single=True)
                    # oneDNN prepares its bfloat16 kernels per input length on first use (+5-10 ms each, ~2 MB):
                    # do it at start for the lengths most queries have, not on users' first queries.
                    for n in range(1, QUERY_WARM_TOKENS + 1):
                        query_model.encode(["法" * n], show_progress_bar=False)
                    self._query_model = query_model
        return self._query_model

    def prepare_queries(self) -> None:
        """Load what encoding queries needs now (a server's start), not on the first user's query. With
        bfloat16 queries the float32 model is loaded only when a batch needs it (a build; sentence vectors an
        index does not store), which a serving process on a current local index never does."""
        self._query_encoder()

    @property
    def dim(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        _set_threads(single=len(texts) == 1)
        vecs = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Short texts as queries are encoded (the query model, loaded at a server's start), in one batch: the
        measures and heading lines a year comparison needs vectors for (search/years.py)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        _set_threads(single=True)
        vecs = self._query_encoder().encode(list(texts), convert_to_tensor=True, show_progress_bar=False)
        vecs = vecs.float().cpu().numpy()
        norms = np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(vecs / norms, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One query's vector (float32, L2-normalised), in `query_dtype`; never used for stored vectors."""
        _set_threads(single=True)
        # normalised once, in float32 (not in the model's bfloat16)
        vec = self._query_encoder().encode([text], convert_to_tensor=True, show_progress_bar=False)[0]
        vec = vec.float().cpu().numpy()
        return np.ascontiguousarray(vec / max(float(np.linalg.norm(vec)), 1e-12), dtype=np.float32)
