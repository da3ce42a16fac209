"""Offline relevance experiments behind docs/evaluation.md (issue 12): embedding input, fusion, sentence
vectors, cross-validation across the evaluation sets.

    python -m scripts.labs.relevance_lab collect sample townships stard-small   # retrieve once, pickle the lists
    python -m scripts.labs.fusion_lab SETS VARIANTS                             # fusion grid + leave-one-set-out

`collect` opens each set's cached evaluation index (built by `reportsearch eval` with the configured
settings), and for every query records the keyword list (the index's BM25) and, for each embedding-input
variant, the semantic list found by exact search over vectors of that variant's text (missing ones are
embedded into the shared cache). `fusion_lab` re-fuses the pickled lists under a grid of settings without any
retrieval, scoring as `reportsearch eval` does but without boilerplate collapsing.
"""
from __future__ import annotations

import argparse
import logging
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np

from indexer import Config, Filters, Searcher, load_config
from indexer.build.embedding_input import embedding_input, informative_title
from indexer.evaluation.datasets import load_dataset
from indexer.evaluation.indexes import prepare_index
from indexer.evaluation.metrics import score_ranking, summarize
from indexer.search.query import parse_query
from indexer.storage.vectors.cache import EmbeddingCache
from indexer.storage.vectors.encoder import cache_key
from scripts import REPO

log = logging.getLogger("relevance_lab")

SHARED = Path(os.environ.get("SHARED_DIR", REPO.parent / "shared"))
DATASETS = {
    "sample": (REPO / "corpora" / "eval", None),
    "townships": (SHARED / "eval-townships", SHARED / "eval-townships" / "corpus"),
    "stard-small": (SHARED / "bench" / "stard" / "small", None),
}
BENCH_DIR = REPO / ".bench"
LAB_DIR = BENCH_DIR / "lab"
DEPTH = 200


def _config() -> Config:
    config = load_config()
    if config.embedding.cache is None:
        config = config.with_overrides({"embedding.cache": BENCH_DIR / "embeddings.sqlite"})
    return config


def variants(meta, heading_path, text) -> dict[str, str]:
    """Embedding-input variants measured for `embed_with_context`."""
    return {
        "full": embedding_input(meta, heading_path, text, True),
        "none": text,
        "headings": f"{' › '.join(heading_path)}\n{text}" if heading_path else text,
        "inftitle": f"{informative_title(meta)}\n{text}" if informative_title(meta) else text,
        "inftitle+head": _join(" › ".join(p for p in (informative_title(meta), *heading_path) if p), text),
    }


def _join(context: str, text: str) -> str:
    return f"{context}\n{text}" if context else text


def embed(texts: list[str], encoder, cache: EmbeddingCache) -> np.ndarray:
    return cache.encode(texts, encoder)


def collect(name: str, want: list[str], args_mix: list[float] = ()) -> Path:
    root, corpus = DATASETS[name]
    ds = load_dataset(root, corpus)
    config = _config()
    cfg = prepare_index(ds, config, bench_dir=BENCH_DIR)
    searcher = Searcher.open(cfg)
    cache = EmbeddingCache(cfg.embedding.cache, cache_key(cfg.embedding.model, cfg.embedding.backend))
    t0 = time.perf_counter()
    docs = {d.doc_id: d for d in searcher.documents()}
    rows = searcher.all_chunks()
    with searcher.snapshot() as snap:
        ids = np.array([r.chunk_id for r in rows], dtype=np.int64)
        info = {r.chunk_id: (docs[r.doc_id].path, r.text) for r in rows}
        texts: dict[str, list[str]] = {}
        for r in rows:
            for k, t in variants(docs[r.doc_id].meta, r.heading_path, r.text).items():
                if k in want and k != "sentences":
                    texts.setdefault(k, []).append(t)
        mats = {k: embed(t, searcher.encoder, cache) for k, t in texts.items()}
        sent_rows: list[int] = []
        sent_mat = None
        if "sentences" in want:
            from indexer.pipeline.chunk import sentences

            sents = []
            for i, r in enumerate(rows):
                for snt in sentences(r.text) or [r.text]:
                    if len(snt.strip()) >= 4:
                        sents.append(snt)
                        sent_rows.append(i)
            sent_mat = embed(sents, searcher.encoder, cache)
            log.info("%s: %d sentences for %d chunks", name, len(sents), len(rows))
        if "none" in mats and args_mix:
            # Context embedded on its own (one vector per distinct context), mixed into the bare text's.
            for label, ctx_of in (("title+head", lambda r: " › ".join(p for p in (docs[r.doc_id].meta.title, *r.heading_path) if p)),
                                  ("head", lambda r: " › ".join(r.heading_path))):
                ctx = [ctx_of(r) for r in rows]
                uniq = sorted({c for c in ctx if c})
                uvec = dict(zip(uniq, embed(uniq, searcher.encoder, cache))) if uniq else {}
                cm = np.stack([uvec.get(c, np.zeros(mats["none"].shape[1], np.float32)) for c in ctx])
                for a in args_mix:
                    m = mats["none"] + a * cm
                    mats[f"mix-{label}:{a}"] = m / np.linalg.norm(m, axis=1, keepdims=True)
        parsed = [parse_query(q.text) for q in ds.queries]
        qvecs = searcher.encoder.encode([p.semantic_text or q.text for p, q in zip(parsed, ds.queries)])
        runs = []
        for q, p, qv in zip(ds.queries, parsed, qvecs):
            lists = {"keyword": snap.keyword(p, DEPTH, Filters())}
            for k, m in mats.items():
                scores = m @ qv
                top = np.argsort(-scores)[:DEPTH]
                lists[f"semantic:{k}"] = [(int(ids[i]), float(scores[i])) for i in top]
            if sent_mat is not None:
                per = np.full(len(rows), -1.0, dtype=np.float32)
                np.maximum.at(per, np.array(sent_rows), sent_mat @ qv)
                top = np.argsort(-per)[:DEPTH]
                lists["semantic:sentmax"] = [(int(ids[i]), float(per[i])) for i in top]
                # Re-ranking only: the chunk-vector top list, each rescored with its best sentence.
                pos = {int(c): i for i, c in enumerate(ids)}
                for base in ("none", "full", "inftitle"):
                    if f"semantic:{base}" not in lists:
                        continue
                    for w in (0.3, 0.5, 0.7, 1.0):
                        cand = lists[f"semantic:{base}"]
                        sc = [(c, (1 - w) * x + w * float(per[pos[c]])) for c, x in cand]
                        lists[f"semantic:{base}~sent{w}"] = sorted(sc, key=lambda cx: -cx[1])
            runs.append({"qid": q.qid, "kind": q.kind, "text": q.text, "lists": lists})
    searcher.close()
    cache.close()
    out = LAB_DIR / f"{name}.pickle"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pickle.dumps({"dataset": ds, "runs": runs, "info": info}))
    log.info("%s: %d queries collected in %.0fs -> %s", name, len(runs), time.perf_counter() - t0, out)
    return out


def load(name: str) -> dict:
    return pickle.loads((LAB_DIR / f"{name}.pickle").read_bytes())


def table(name: str, rankers: dict) -> None:
    data = load(name)
    ds, info = data["dataset"], data["info"]
    queries = {q.qid: q for q in ds.queries}
    kinds = ds.kinds()
    print(f"== {name}")
    print(f"{'ranker':<30}" + "".join(f"{k[:9]:>10}" for k in kinds) + f"{'all':>10}{'R@100':>8}")
    for label, fn in rankers.items():
        per = []
        for run in data["runs"]:
            ranking = fn(run)
            per.append((run["kind"], score_ranking(ds, queries[run["qid"]], ranking, info)))
        cells = [summarize([m for k, m in per if k == kind]).values["ndcg@10"] for kind in kinds]
        total = summarize([m for _, m in per]).values
        print(f"{label:<30}" + "".join(f"{c:>10.4f}" for c in cells) + f"{total['ndcg@10']:>10.4f}"
              f"{total['recall@100']:>8.4f}")


def cmd_collect(args) -> int:
    for name in args.datasets:
        collect(name, args.variants.split(","), [float(a) for a in args.mix.split(",") if a])
    return 0


def cmd_variants(args) -> int:
    for name in args.datasets:
        data = load(name)
        keys = [k for k in data["runs"][0]["lists"]]
        table(name, {k: (lambda run, k=k: [c for c, _ in run["lists"][k]]) for k in keys})
    return 0


def cmd_kw(args) -> int:
    """Keyword-side variants: the context field's weight and the all-words bonus (the [ranking] settings)."""
    for name in args.datasets:
        root, corpus = DATASETS[name]
        ds = load_dataset(root, corpus)
        cfg = prepare_index(ds, _config(), bench_dir=BENCH_DIR)
        searcher = Searcher.open(cfg)
        docs = {d.doc_id: d for d in searcher.documents()}
        info = {r.chunk_id: (docs[r.doc_id].path, r.text) for r in searcher.all_chunks()}
        parsed = [parse_query(q.text) for q in ds.queries]
        rankers = {}
        for ctx in (0.3, 0.1, 0.0):
            for bonus in (0.5, 0.0):
                variant = Searcher(cfg.with_overrides({"ranking.context_boost": ctx, "ranking.all_terms_bonus": bonus}),
                                   searcher.encoder)
                with variant.snapshot() as snap:
                    lists = {q.qid: [c for c, _ in snap.keyword(p, DEPTH, Filters())] for q, p in zip(ds.queries, parsed)}
                variant.close()
                rankers[f"ctx {ctx} bonus {bonus}"] = lists
        searcher.close()
        out = LAB_DIR / f"{name}-kw.pickle"
        out.write_bytes(pickle.dumps({"dataset": ds, "info": info, "runs": [
            {"qid": q.qid, "kind": q.kind, "text": q.text, "lists": {k: [(c, 0.0) for c in v[q.qid]] for k, v in rankers.items()}}
            for q in ds.queries]}))
        keys = list(rankers)
        table(f"{name}-kw", {k: (lambda run, k=k: [c for c, _ in run["lists"][k]]) for k in keys})
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("collect")
    p.add_argument("datasets", nargs="+")
    p.add_argument("--variants", default="full,none,headings")
    p.add_argument("--mix", default="0.1,0.2,0.3,0.5")
    p = sub.add_parser("variants")
    p.add_argument("datasets", nargs="+")
    p = sub.add_parser("kw")
    p.add_argument("datasets", nargs="+")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return {"collect": cmd_collect, "variants": cmd_variants, "kw": cmd_kw}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
