"""Adapt the embedding model to the indexed corpus (`reportsearch adapt`, issue 27 direction 4).

Unsupervised: the pairs the reports label themselves (build/adapt_pairs.py), one pass of sentence-transformers'
MultipleNegativesRankingLoss (in-batch negatives) at a small learning rate, seeded, on the configured device
(CPU unless `embedding.device` says cuda/auto). The result is stored with the index as
`<index_dir>/models/adapted-<hash of its weights>/` and named in `models/ACTIVE.json`; the next build embeds
with it (the recorded model changes, so every chunk is re-embedded, cached under the adapted model's name).
The adapted model is a derivative of the base model and inherits its licence (m3e: non-commercial use only).
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.build.adapt_pairs import Pair, batches, collect_pairs
from indexer.core.config import Config
from indexer.storage.generations import GenerationStore
from indexer.storage.layout import GenerationLayout
from indexer.storage.vectors.encoder import _set_threads, _torch_device
from indexer.storage.vectors.models import (
    ADAPTED_PREFIX, RECORD, adapted_path, is_adapted, models_dir, read_active, resolve_model, write_active,
)

log = logging.getLogger(__name__)

BATCH_SIZE = 32  # in-batch negatives per anchor: 31
TRAIN_MAX_TOKENS = 256  # paragraphs are cut at 350 characters; training on their first 256 tokens halves the cost
WARMUP = 0.1  # share of the steps the learning rate ramps up over
SEED = 0
LICENCE = ("This model was adapted by reportsearch from {base} to one corpus (pairs the reports label "
           "themselves). It is a derivative of {base} and inherits its licence: m3e models are licensed for "
           "non-commercial / research use only (see the base model's README).\n")


class AdaptError(RuntimeError):
    """Adaptation cannot run (no published index, too few pairs)."""


@dataclass
class Adaptation:
    """What one `reportsearch adapt` did (also stored as models/<name>/adapt.json)."""

    model: str
    base: str
    paragraphs: int
    pairs: int
    pair_kinds: dict[str, int]
    steps: int
    learning_rate: float
    batch_size: int
    device: str
    cpu_seconds: float
    wall_seconds: float
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M:%S"))

    @property
    def cpu_minutes_per_1000(self) -> float:
        return self.cpu_seconds / 60 / max(self.paragraphs, 1) * 1000


def _seed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _train(model, steps: list[list[Pair]], learning_rate: float, device: str) -> None:
    import torch
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    _set_threads(single=False)  # every core (a query encoded in this process before leaves torch at one)
    loss_fn = MultipleNegativesRankingLoss(model)  # scale 20, cosine: the form m3e was trained in
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    warm = max(1, int(len(steps) * WARMUP))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda i: min((i + 1) / warm, max(0.0, (len(steps) - i) / max(1, len(steps) - warm))))
    model.train()
    for i, batch in enumerate(steps):
        features = [model.preprocess([getattr(p, side) for p in batch]) for side in ("anchor", "positive")]
        features = [{k: v.to(device) if hasattr(v, "to") else v for k, v in f.items()} for f in features]
        loss = loss_fn(features, None)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        if i % 20 == 0 or i == len(steps) - 1:
            log.info("adapt: step %d/%d, loss %.3f", i + 1, len(steps), float(loss.detach()))
    model.eval()


def _weights_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".safetensors", ".bin"):
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _store(model, index_dir: Path, record: dict, base: str) -> str:
    """Save under a temporary name, then rename to adapted-<weights hash>: the name is the weights' identity,
    so the embedding cache can never hold another model's vectors under it."""
    tmp = models_dir(index_dir) / f".training-{time.time_ns()}"
    model.save(str(tmp))
    name = ADAPTED_PREFIX + _weights_digest(tmp)
    final = adapted_path(index_dir, name)
    if final.exists():  # the same weights again (same corpus, same settings, seeded): keep the stored copy
        shutil.rmtree(tmp)
    else:
        (tmp / "LICENCE.txt").write_text(LICENCE.format(base=base), encoding="utf-8")
        tmp.rename(final)
    (final / RECORD).write_text(json.dumps({**record, "model": name}, ensure_ascii=False, indent=1), "utf-8")
    return name


def adapt_encoder(config: Config) -> Adaptation:
    """Train an adapted encoder on the published generation's paragraphs and make it the index's model
    (models/ACTIVE.json); the caller rebuilds the index with it. Raises AdaptError."""
    current = GenerationStore(config.index_dir).current_path_or_none()
    if current is None:
        raise AdaptError(f"no published index in {config.index_dir}: run `reportsearch index` first")
    base = config.embedding.model
    if is_adapted(base):
        raise AdaptError(f"the configured model {base} is itself an adapted model: configure its base model")
    emb = config.embedding
    t_cpu, t_wall = time.process_time(), time.perf_counter()
    found = collect_pairs(GenerationLayout(current).catalog, emb.adapt_max_pairs, SEED)
    steps = batches(found.pairs, BATCH_SIZE)
    if not steps:
        raise AdaptError(f"too few training pairs in the index ({len(found.pairs)}): nothing to adapt to")
    from sentence_transformers import SentenceTransformer

    _seed(SEED)
    device = _torch_device(emb.device, "torch")
    model = SentenceTransformer(resolve_model(base), device=device)
    max_tokens = model.max_seq_length
    model.max_seq_length = min(max_tokens, TRAIN_MAX_TOKENS)
    log.info("adapting %s: %d pairs (of %d collected: %s) from %d paragraphs, %d steps on %s", base,
             sum(len(b) for b in steps), len(found.pairs), found.counts(), found.paragraphs, len(steps), device)
    _train(model, steps, emb.adapt_learning_rate, device)
    model.max_seq_length = max_tokens  # indexing and queries read as far as the base model does
    result = Adaptation(
        model="", base=base, paragraphs=found.paragraphs, pairs=sum(len(b) for b in steps),
        pair_kinds=dict(Counter(p.kind for batch in steps for p in batch)), steps=len(steps),
        learning_rate=emb.adapt_learning_rate, batch_size=BATCH_SIZE, device=device, cpu_seconds=round(time.process_time() - t_cpu, 1),
        wall_seconds=round(time.perf_counter() - t_wall, 1))
    record = asdict(result)
    result.model = _store(model, Path(config.index_dir), record, base)
    write_active(config.index_dir, {**asdict(result), "model": result.model})
    return result


def active_adaptation(config: Config) -> dict | None:
    """The record of the index's adapted model (None: the index uses its configured model)."""
    return read_active(config.index_dir)
