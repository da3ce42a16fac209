"""Fusion grid and leave-one-set-out cross-validation over the lists `relevance_lab collect` pickled.

    python -m scripts.labs.fusion_lab SETS VARIANTS     # e.g. sample,townships,stard-small inftitle
"""
from __future__ import annotations

import argparse

import numpy as np

from indexer.evaluation.metrics import summarize
from indexer.search.fuse import fuse
from indexer.search.query import parse_query
from indexer.search.routing import QueryKind, query_kind
from scripts.labs import relevance_lab as L


def zs(hits):
    s = np.array([x for _, x in hits], dtype=float)
    if len(s) == 0:
        return {}, 0.0, 0.0
    sd = s.std()
    if sd == 0:
        return {c: 0.0 for c, _ in hits}, -1.0, 0.0
    z = (s - s.mean()) / sd
    out = {}
    for (c, _), v in zip(hits, z):
        out.setdefault(c, v)
    return out, z.min() - 1.0, z[0]


def conf_fuse(kw, sem, alpha, gamma, n=200):
    """Convex z-score fusion, each list's weight scaled by its top hit's z-score ** gamma."""
    kw, sem = kw[:n], sem[:n]
    zk, fk, ck = zs(kw)
    zsm, fs, cs = zs(sem)
    wk = alpha * (max(ck, 1e-6) ** gamma if gamma else 1.0) if kw else 0.0
    ws = (1 - alpha) * (max(cs, 1e-6) ** gamma if gamma else 1.0)
    ids = list(dict.fromkeys([c for c, _ in kw] + [c for c, _ in sem]))
    score = {c: wk * zk.get(c, fk) + ws * zsm.get(c, fs) for c in ids}
    return sorted(ids, key=lambda c: -score[c])


def rrf_rank(kw, sem, k, wk, ws):
    return [f.chunk_id for f in fuse({"keyword": kw, "semantic": sem}, {"keyword": wk, "semantic": ws}, "rrf", k)]


def current(kw, sem, kind):
    if kind is QueryKind.LOOKUP:
        return rrf_rank(kw, sem, 5, 1.0, 0.3)
    if kind is QueryKind.NATURAL:
        return conf_fuse(kw, sem, 0.2, 0)
    return rrf_rank(kw, sem, 5, 1.0, 1.0)


def evaluate(data, sem_key, ranker):
    ds, info = data["dataset"], data["info"]
    qs = {q.qid: q for q in ds.queries}
    per = []
    for run in data["runs"]:
        q = qs[run["qid"]]
        kind = run.setdefault("route", query_kind(parse_query(run["text"])))
        lists = run["lists"]
        # Every STARD title is informative (statute and article), so there "inftitle" is the "full" text.
        sem = lists.get(sem_key) or lists["semantic:full"] if sem_key == "semantic:inftitle" else lists[sem_key]
        ranking = ranker(lists["keyword"], sem, kind)
        per.append((run["kind"], L.score_ranking(ds, q, ranking, info)))
    out = {k: summarize([m for kk, m in per if kk == k]).values["ndcg@10"] for k in ds.kinds()}
    out["all"] = summarize([m for _, m in per]).values["ndcg@10"]
    out["R@100"] = summarize([m for _, m in per]).values["recall@100"]
    return out


def fmt(row):
    return " ".join(f"{k[:5]}={v:.3f}" for k, v in row.items())


# -- the grid and leave-one-set-out cross-validation ------------------------------------------------

def plan_ranker(lookup, natural_alpha, gamma, mixed):
    """lookup: (k, wk, ws) RRF; natural: convex z-score with keyword weight alpha; mixed: 'rrf' or 'natural'."""
    def rank(kw, sem, kind):
        if kind is QueryKind.LOOKUP:
            return rrf_rank(kw, sem, *lookup)
        if kind is QueryKind.MIXED and mixed == "rrf":
            return rrf_rank(kw, sem, 5, 1.0, 1.0)
        return conf_fuse(kw, sem, natural_alpha, gamma)
    return rank


def grid(sems):
    for sem in sems:
        for lookup in ((5, 1.0, 0.3), (5, 1.0, 0.5), (20, 1.0, 0.5)):
            for alpha in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
                for gamma in (0, 1):
                    for mixed in ("rrf", "natural"):
                        name = f"{sem} lookup=rrf{lookup} natural=z{alpha:.1f}{f' g{gamma}' if gamma else ''} mixed={mixed}"
                        yield name, sem, plan_ranker(lookup, alpha, gamma, mixed)


def cross_validate(sets, sems, out=print):
    datas = {s: L.load(s) for s in sets}
    results = {}
    for name, sem, ranker in grid(sems):
        results[name] = {s: evaluate(d, "semantic:" + sem, ranker) for s, d in datas.items()}
    out("| held-out set | chosen on the others | " + " | ".join(["held-out nDCG@10 per kind"]) + " |")
    for held in sets:
        fit = [s for s in sets if s != held]
        best = max(results, key=lambda n: sum(results[n][s]["all"] for s in fit) / len(fit))
        out(f"{held}: best on {fit}: {best}\n    fit: " + " ; ".join(f"{s} {results[best][s]['all']:.4f}" for s in fit)
            + f"\n    held-out: {fmt(results[best][held])}")
    best = max(results, key=lambda n: sum(results[n][s]["all"] for s in sets) / len(sets))
    out(f"all sets: {best}: " + " | ".join(f"{s}: {fmt(results[best][s])}" for s in sets))
    return results


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", help="comma-separated sets collected by relevance_lab (sample,townships,stard-small)")
    ap.add_argument("variants", help="comma-separated embedding-input variants (full,none,headings,inftitle,...)")
    args = ap.parse_args(argv)
    cross_validate(args.sets.split(","), args.variants.split(","))


if __name__ == "__main__":
    main()
