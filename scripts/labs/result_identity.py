"""Whole search responses for a fixed set of requests, one JSON line each: run it on two versions of the code
against the same index and compare the files, to prove a change to the search path changed no result.

    .venv/bin/python -m scripts.labs.result_identity --index-dir .bench/identity/index-whoosh \
        --backend whoosh --out .bench/identity/after-whoosh.jsonl
    cmp .bench/identity/before-whoosh.jsonl .bench/identity/after-whoosh.jsonl

The index (sample corpus + ../shared/eval-townships/corpus) is built when --index-dir holds none. Requests:
queries (very common terms, official terms with inner quotes, expansion words, a pasted sentence, a phrase,
AND/NOT, a question, nonsense) x modes x views (default, page 2 and 5, grouped by place, boilerplate not
folded, a comparison-sized page, place / year / kind filters). Every field of the response but `took_ms`
is written, so hits, their order, labels, marks, totals and facet counts all take part.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import shutil
from pathlib import Path

from indexer import Config, Filters, SearchRequest, Searcher
from indexer.build.index import Index
from indexer.storage.generations import GenerationStore
from indexer.storage.vectors import Encoder
from scripts import REPO

SAMPLE = REPO / "corpora" / "fazhi-2023"
TOWNSHIPS = REPO.parent / "shared" / "eval-townships" / "corpus"

QUERIES = ["法治", "工作", "依法", "八五普法", "三务公开", "公职律师", "法律顾问", "法律顾问 合法性审查", "上访",
           "信访积案化解做法", "同时，进一步规范行政调解机制，提升调解水平，及时准确地化解矛盾纠纷", '"法治政府"',
           "法治 AND 政府", "法治 NOT 政府", "如何推进基层依法治理", "量子计算机", "人民调解"]
MODES = ["keyword", "semantic", "hybrid"]
VIEWS: dict[str, dict] = {
    "default": {},
    "page2": {"page": 2},
    "page5": {"page": 5},
    "page25": {"page": 25},  # past the fused top k: the ranked tail of exact matches
    "group": {"group_by_place": True},
    "group-page2": {"group_by_place": True, "page": 2},
    "compare": {"group_by_place": True, "size": 100},
    "all-copies": {"collapse_duplicates": False, "size": 50},
    "all-copies-page6": {"collapse_duplicates": False, "size": 50, "page": 6},
    "place": {"filters": Filters(place=("大铭乡",))},
    "year": {"filters": Filters(year=(2023,))},
    "place+kind": {"filters": Filters(place=("大铭乡", "李桥乡"), kind=("做法与成效",))},
    "year-group": {"filters": Filters(year=(2023,)), "group_by_place": True},
}


def build(index_dir: Path, backend: str, cache: Path) -> Config:
    corpus = index_dir.parent / "corpus"
    if not corpus.is_dir():
        corpus.mkdir(parents=True)
        for path in SAMPLE.glob("*.txt"):
            shutil.copy(path, corpus / path.name)
        shutil.copytree(TOWNSHIPS, corpus / "townships")
    config = Config(corpus_dir=corpus, index_dir=index_dir).with_overrides({"embedding.cache": cache, "index.fulltext": backend})
    if GenerationStore(index_dir).current_path_or_none() is None:
        report = Index(config, Encoder.from_config(config)).build(progress=False)
        if report.exit_code != 0:
            raise SystemExit(report.summary())
    return config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--backend", choices=["whoosh", "tantivy"], default="whoosh")
    ap.add_argument("--embedding-cache", type=Path, default=REPO / ".bench" / "identity" / "embeddings.sqlite")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not TOWNSHIPS.is_dir():
        raise SystemExit(f"{TOWNSHIPS} not found: the shared evaluation corpus must sit beside the checkout")
    config = build(args.index_dir, args.backend, args.embedding_cache)
    searcher = Searcher.open(config)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(args.out, "w", encoding="utf-8") as out:
        for query in QUERIES:
            for mode in MODES:
                for view, options in VIEWS.items():
                    response = dataclasses.asdict(searcher.search(SearchRequest(query, mode=mode, **options)))
                    response.pop("took_ms")
                    out.write(json.dumps({"query": query, "mode": mode, "view": view, "response": response},
                                         ensure_ascii=False, default=str) + "\n")
                    n += 1
    searcher.close()
    print(f"{n} responses -> {args.out}")


if __name__ == "__main__":
    main()
