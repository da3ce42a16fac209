"""Run a labelled query set through the search modes and report per-mode, per-kind metrics.

Used by `reportsearch eval`, `scripts/bench_quality.py` and the quality tests. Queries go through the
public `Searcher.search` with the settings users get (boilerplate collapsed): a collapsed hit stands for
the copies it lists in `shared_with`, which the ranking evaluated here places right after it.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Iterable, Sequence, TextIO

from indexer.core.config import Config, MilvusSettings
from indexer.evaluation.datasets import Dataset, DatasetError, Query, load_dataset, passage_id
from indexer.evaluation.metrics import METRICS, score_query
from indexer.evaluation.results import EvalResult, QueryResult, RankedUnit
from indexer.search.searcher import Searcher
from indexer.search.types import MODES, Hit, SearchRequest

log = logging.getLogger(__name__)

DEPTH = 100  # Recall@100 needs the top 100 units
PAGE = 100  # the Searcher's maximum page size


def evaluate(searcher: Searcher, dataset: Dataset, modes: Sequence[str] = MODES) -> EvalResult:
    result = EvalResult(dataset)
    for mode in modes:
        result.results[mode] = [evaluate_query(searcher, dataset, q, mode) for q in dataset.queries]
    return result


def evaluate_query(searcher: Searcher, dataset: Dataset, query: Query, mode: str) -> QueryResult:
    t0 = time.perf_counter()
    ranking: list[RankedUnit] = []
    seen: set[str] = set()
    page = 1
    while len(ranking) < DEPTH:
        resp = searcher.search(SearchRequest(query.text, mode=mode, size=PAGE, page=page))
        for hit in resp.hits:
            ranking.extend(_ranked(searcher, dataset, query, hit, seen))
        # Id-level rankings merge the chunks of one passage, so one page may give fewer than 100 units.
        if len(resp.hits) < PAGE or resp.total <= page * PAGE or dataset.kind != "id":
            break
        page += 1
    ranking = ranking[:DEPTH]
    judged = {j.unit: j.grade for j in query.judgments}
    metrics = score_query([r.units for r in ranking], judged)
    return QueryResult(query.qid, query.kind, query.text, mode, ranking, metrics,
                       (time.perf_counter() - t0) * 1000)


def _ranked(searcher: Searcher, dataset: Dataset, query: Query, hit: Hit, seen: set[str]) -> list[RankedUnit]:
    """The hit, then the copies it stands for (listed under it as "N 份报告有相同表述"), in that order."""
    out = []
    entries = [(hit.path, hit.chunk_id, hit.text)]
    for other in hit.shared_with:
        # The copy's paragraph (what its link opens); the façade has no chunk-text lookup.
        entries.append((other.path, other.chunk_id, searcher.context(other.chunk_id, 0, 0).target.text))
    for path, chunk_id, text in entries:
        # Id-level: another chunk of a passage already ranked adds nothing (the best rank counts).
        key = passage_id(path) if dataset.kind == "id" else f"{path}#{chunk_id}".replace(" ", "_")
        if key in seen:
            continue
        seen.add(key)
        out.append(RankedUnit(key, hit.score, query.units_of(path, text)))
    return out


# -- output ------------------------------------------------------------------------------------

_HEAD = {"ndcg@10": "nDCG@10", "mrr@10": "MRR@10", "recall@10": "R@10", "recall@100": "R@100"}


def format_table(result: EvalResult) -> str:
    kinds = result.dataset.kinds()
    kinds = kinds + ["all"] if len(kinds) > 1 else kinds
    lines = [f"{'mode':<9} {'kind':<10} {'n':>4}  " + "  ".join(f"{_HEAD[m]:>7}" for m in METRICS) + "   ms/q"]
    for mode, rows in result.results.items():
        for kind in kinds:
            summary = result.summary(mode, None if kind == "all" else kind)
            sel = [r for r in rows if kind == "all" or r.kind == kind]
            ms = sum(r.took_ms for r in sel) / max(1, len(sel))
            lines.append(f"{mode:<9} {kind:<10} {summary.queries:>4}  "
                         + "  ".join(f"{summary.values[m]:>7.4f}" for m in METRICS) + f"  {ms:>5.0f}")
    return "\n".join(lines)


def format_worst(result: EvalResult, n: int) -> str:
    lines = []
    for mode, rows in result.results.items():
        worst = sorted(rows, key=lambda r: (r.metrics["ndcg@10"], r.metrics["recall@100"]))[:n]
        lines.append(f"worst {len(worst)} ({mode}):")
        for r in worst:
            first = r.first_relevant
            lines.append(f"  {r.qid:<8} {r.kind:<9} nDCG@10 {r.metrics['ndcg@10']:.3f}  R@100 "
                         f"{r.metrics['recall@100']:.2f}  first relevant at {first or '-'}  {_clip(r.query, 40)}")
    return "\n".join(lines)


def write_trec(result: EvalResult, prefix: str) -> list[Path]:
    """One TREC run file per mode: `qid Q0 docno rank score tag`."""
    paths = []
    for mode, rows in result.results.items():
        path = Path(f"{prefix}.{mode}.trec")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            for r in rows:
                for rank, unit in enumerate(r.ranking, 1):
                    fh.write(f"{r.qid} Q0 {unit.key} {rank} {unit.score:.6f} reportsearch-{mode}\n")
        paths.append(path)
    return paths


def to_json(result: EvalResult, config: Config, index_dir: Path) -> dict:
    return {
        "dataset": str(result.dataset.root), "format": result.dataset.kind, "index": str(index_dir),
        "settings": {k: str(config.value(k)) if isinstance(config.value(k), Path) else config.value(k)
                     for k in _FUSION_SETTINGS},
        "metrics": result.table(),
        "queries": {mode: [{"qid": r.qid, "kind": r.kind, **r.metrics, "first_relevant": r.first_relevant}
                           for r in rows] for mode, rows in result.results.items()},
    }


_FUSION_SETTINGS = ("model", "embed_with_context", "embed_context", "max_chunk_chars", "candidates", "fusion", "fusion_norm", "rrf_k",
                    "route_queries", "lookup_fusion", "lookup_keyword_weight", "lookup_semantic_weight",
                    "natural_keyword_weight", "natural_semantic_weight", "statement_keyword_weight",
                    "statement_semantic_weight", "expanded_keyword_weight", "expanded_semantic_weight",
                    "fusion_confidence", "mixed_fusion", "keyword_weight", "semantic_weight", "semantic_floor",
                    "sentence_rerank", "sentence_weight", "statement_sentence_weight", "sentence_candidates",
                    "fulltext_backend", "encoder_backend")


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# -- CLI ---------------------------------------------------------------------------------------

def parse_modes(value: str) -> list[str]:
    modes = [m.strip() for m in value.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise ValueError(f"--modes: unknown mode(s) {', '.join(bad) or '(none)'}; choose from {', '.join(MODES)}")
    return modes


def read_query_ids(value: str) -> set[str]:
    path = Path(value)
    if path.is_file():
        return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    return {q.strip() for q in value.split(",") if q.strip()}


def _publish_to_engine(index_config: Config) -> Config:
    """`--set engine=milvus`: the cached local evaluation index is published to Milvus (a Lite file beside it
    unless milvus_uri is set) and searched there, so both engines are judged on the same chunks."""
    if index_config.engine.name != "milvus":
        return index_config
    from indexer.operations.publish import publish_to_engine

    if index_config.engine.milvus.uri == MilvusSettings.uri:  # the default ./reportsearch.db would be the user's own
        index_config = index_config.with_overrides({"engine.milvus.uri": Path(index_config.index_dir) / "milvus.db"})
    log.info("%s", publish_to_engine(index_config, full=True))
    return index_config


def run_cli(args: argparse.Namespace, config: Config, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        modes = parse_modes(args.modes)
        config = apply_sets(config, getattr(args, "set", None) or [])
        dataset = load_dataset(Path(args.dataset), Path(args.corpus) if args.corpus else None)
    except (DatasetError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "queries", None):
        wanted = read_query_ids(args.queries)
        dataset = dataset.select(wanted)
        if not dataset.queries:
            print(f"error: none of the requested query ids are in {args.dataset}", file=sys.stderr)
            return 2
    from indexer.evaluation.indexes import BENCH_DIR, prepare_index

    bench_dir = Path(getattr(args, "bench_dir", None) or BENCH_DIR)
    if getattr(args, "baseline", False):
        return _run_baseline(args, config, dataset, modes, bench_dir, out)
    index_config = prepare_index(dataset, config, bench_dir=bench_dir, rebuild=getattr(args, "rebuild", False),
                                 adapt=getattr(args, "adapt", False))
    index_config = _publish_to_engine(index_config)
    searcher = Searcher.open(index_config)
    try:
        result = evaluate(searcher, dataset, modes)
    finally:
        searcher.close()
    _print_result(args, dataset, result, f"index {index_config.index_dir}", out)
    if args.json:
        Path(args.json).write_text(json.dumps(to_json(result, index_config, index_config.index_dir),
                                              ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"wrote {args.json}", file=out)
    return 0


def _run_baseline(args: argparse.Namespace, config: Config, dataset: Dataset, modes: list[str], bench_dir: Path,
                  out: TextIO) -> int:

    from indexer.evaluation.baseline import evaluate_baseline

    if config.embedding.cache is None:
        config = config.with_overrides({"embedding.cache": bench_dir / "embeddings.sqlite"})
    try:
        result = evaluate_baseline(dataset, config, modes=modes)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print_result(args, dataset, result, "naive baseline (paragraph BM25 + bare-text m3e-small + RRF k=60)", out)
    if args.json:
        Path(args.json).write_text(json.dumps({"dataset": str(dataset.root), "baseline": True,
                                               "metrics": result.table()}, ensure_ascii=False, indent=2),
                                   encoding="utf-8")
        print(f"wrote {args.json}", file=out)
    return 0


def apply_sets(config: Config, sets: Iterable[str]) -> Config:
    """`--set key=value` overrides: a setting's dotted name (`fusion.rrf_k`) or its flat name (`rrf_k`)."""
    overrides = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE")
        overrides[key.strip()] = value.strip()
    return config.with_overrides(overrides)


def _print_result(args: argparse.Namespace, dataset: Dataset, result: EvalResult, what: str, out: TextIO) -> None:
    """The set's size, the metrics table, the worst queries and the TREC runs asked for."""
    judged = sum(len(q.judgments) for q in dataset.queries)
    print(f"{dataset.root} ({dataset.kind}-level): {len(dataset.queries)} queries, {judged} judged units; "
          f"{what}", file=out)
    print(format_table(result), file=out)
    if args.worst:
        print(format_worst(result, args.worst), file=out)
    if args.trec:
        for path in write_trec(result, args.trec):
            print(f"wrote {path}", file=out)
