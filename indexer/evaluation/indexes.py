"""The index an evaluation runs against, built once and cached under `.bench/`.

Every set is indexed as a folder of files, through the pipeline a user's folder goes through: a passage-level
set's corpus folder, or an id-level set's passages written as files (`write_passage_files`, cached beside the
index) unless `--corpus` names a folder of such files. The cache key covers everything that changes what is
indexed: the corpus content, the model, chunking, embedding context and the tokenizer's dictionaries (a grown
lexicon must re-index). A rerun with the same
key opens the published generation without touching the corpus; the embedding cache is shared by all.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path

from indexer.build.embedding_input import context_signature
from indexer.build.adapt import adapt_encoder
from indexer.build.index import Index
from indexer.core.config import Config
from indexer.evaluation.datasets import Dataset, corpus_hash, write_passage_files
from indexer.storage import dedup
from indexer.core import analysis
from indexer.core.analysis import LEXICON_FILES
from indexer.storage.generations import GenerationStore
from indexer.pipeline.ingest import PIPELINE_VERSION
from indexer.storage.vectors import Encoder
from indexer.storage.vectors.models import read_active

log = logging.getLogger(__name__)

BENCH_DIR = Path(".bench")


def settings_key(config: Config) -> str:
    """A short hash of the settings that shape an index's content."""
    # Dictionaries and the analyzer change tokens; dedup.py changes the boilerplate groups stored at build.
    dicts = [*LEXICON_FILES, Path(analysis.__file__), Path(dedup.__file__)]
    dicts += [Path(config.analysis.user_dict)] if config.analysis.user_dict else []
    data = {
        "model": config.embedding.model,
        "max": config.analysis.max_chunk_chars, "min": config.analysis.min_chunk_chars,
        "ctx": context_signature(config), "pipeline": PIPELINE_VERSION,
        "sentences": config.sentences.rerank != "off",  # sentence vectors stored by the build
        "terms": config.rewrite.bridge_terms > 0,  # the term table stored by the build (build/terms.py)
        "backends": [config.index.fulltext, config.embedding.backend],
        "dicts": [hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in dicts if p.exists()],
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:10]


def _folder_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def prepare_index(dataset: Dataset, config: Config, encoder: Encoder | None = None,
                  bench_dir: Path = BENCH_DIR, rebuild: bool = False, adapt: bool = False) -> Config:
    """Return a config whose index_dir holds a published index of the dataset's corpus (built if needed);
    `adapt`: an index of its own, re-embedded with the encoder adapted to the corpus (build/adapt.py)."""
    bench_dir = Path(bench_dir)
    if config.embedding.cache is None:
        config = config.with_overrides({"embedding.cache": bench_dir / "embeddings.sqlite"})
    corpus_dir = dataset.corpus_dir
    if dataset.kind == "id" and corpus_dir is None:
        digest = corpus_hash(dataset.root)
        corpus_dir = bench_dir / f"{dataset.name}-{digest[:12]}-files"
        if not corpus_dir.is_dir():
            write_passage_files(dataset.root, corpus_dir)
    elif corpus_dir is None:
        raise ValueError(f"{dataset.root}: cannot tell which corpus it judges; pass --corpus")
    else:
        digest = _folder_hash(corpus_dir)
    index_dir = bench_dir / f"{dataset.name}-{digest[:12]}-{settings_key(config)}{'-adapted' if adapt else ''}"
    config = dataclasses.replace(config, index_dir=index_dir, corpus_dir=corpus_dir)
    store = GenerationStore(index_dir)
    if store.current_name() is not None and not rebuild:
        log.info("using cached index %s", index_dir)
    else:
        index_dir.mkdir(parents=True, exist_ok=True)
        log.info("building evaluation index %s of %s (cached for reruns)", index_dir, corpus_dir)
        _build(config, encoder, full=rebuild)
    if adapt and (rebuild or read_active(index_dir) is None):
        adaptation = adapt_encoder(config)  # trained on the published index's paragraphs, no judgments
        log.info("adapted: %s", adaptation)
        _build(config, encoder)
    return config


def _build(config: Config, encoder: Encoder | None, full: bool = False) -> None:
    report = Index(config, encoder).build(full=full)
    if report.exit_code != 0:
        raise RuntimeError(f"building the evaluation index failed: {report.summary()}")
