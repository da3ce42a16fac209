"""The corpus-learned bridge from everyday words to official terms (issue 27, direction 2), measured before
it is wired into the build.

    python -m scripts.labs.bridge_lab terms town                       # the term table and a few queries' nearest terms
    python -m scripts.labs.bridge_lab run town --out DIR --variants off,n0.80k3w0.3,...
    python -m scripts.labs.bridge_lab table --index-dir COPY      # add the term table to a built index (a copy!)

Each set's evaluation index is opened as `reportsearch eval` builds it (under --bench-dir); its paragraphs'
terms are collected (build/terms.py) and embedded through the embedding cache. For each variant, the
searcher's rewriter adds to a plain query's keyword side the terms nearest to the query vector:
`n<floor>k<at most>w<weight>` plus flags `s` (the added terms may make BM25 lead, as the lexicon's do),
`m<margin>` (only terms within `margin` of the nearest one), `a` (for every query kind; otherwise only
questions and sentences, not a term looked up). `f<k>` instead: dense→sparse feedback, the words most
over-represented in the top k semantic hits (against the corpus), at most `k`-variant terms.
Writes `<set>-<variant>.json` (the `reportsearch eval --json` shape: metrics) for scripts/labs/loso.py.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import re
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import indexer.search.retrieve as retrieve_module
from indexer import Config, Searcher, load_config
from indexer.build.terms import TermSettings, collect_terms
from indexer.core.analysis import default_analyzer, is_stopword, normalize
from indexer.core.querytree import Boosted, Group, Node, ParsedQuery, Terms
from indexer.evaluation.datasets import load_dataset
from indexer.evaluation.indexes import prepare_index
from indexer.evaluation.run import evaluate
from indexer.search.query import parse_query
from indexer.search.rewrite import QueryRewriter, is_plain
from indexer.search.routing import QueryKind, query_kind
from indexer.storage.catalog import Catalog
from indexer.storage.vectors.cache import EmbeddingCache
from indexer.storage.vectors.encoder import cache_key
from scripts import REPO

log = logging.getLogger("bridge_lab")

SHARED = Path(os.environ.get("SHARED_DIR", REPO.parent / "shared"))
DATASETS = {
    "sample": (REPO / "corpora" / "eval", None),
    "town": (SHARED / "eval-townships", SHARED / "eval-townships" / "corpus"),
    "stard": (SHARED / "bench" / "stard" / "small", None),
}
_VARIANT = re.compile(r"^(?:n(?P<floor>[\d.]+)|f(?P<fb>\d+))k(?P<k>\d+)w(?P<w>[\d.]+)(?P<flags>(?:s|a|l|o|r|v\d+|m[\d.]+)*)$")


@dataclass(frozen=True)
class Variant:
    name: str
    floor: float = 1.0
    feedback: int = 0  # top semantic hits read for dense→sparse feedback (0: nearest terms instead)
    k: int = 0
    weight: float = 0.0
    switch: bool = False  # added terms count as an expansion for the fusion plan (BM25 leads)
    all_kinds: bool = False
    margin: float = 1.0
    lookup_only: bool = False  # only for a term looked up (query kind LOOKUP)
    named_only: bool = False  # only quoted, practice and domain terms, not salient words
    rank_only: bool = False  # the terms re-rank the keyword list; a paragraph holding one is no result for it
    verify: int = 0  # v<k>: a nearest term only if one of the top k semantic hits holds it (both signals agree)

    @classmethod
    def parse(cls, name: str) -> "Variant":
        if name == "off":
            return cls(name)
        m = _VARIANT.match(name)
        if not m:
            raise SystemExit(f"bad variant {name!r}")
        flags = m.group("flags")
        margin = re.search(r"m([\d.]+)", flags)
        return cls(name, float(m.group("floor") or 1.0), int(m.group("fb") or 0), int(m.group("k")),
                   float(m.group("w")), "s" in flags, "a" in flags, float(margin.group(1)) if margin else 1.0,
                   "l" in flags, "o" in flags, "r" in flags,
                   int(re.search(r"v(\d+)", flags).group(1)) if "v" in flags else 0)


class Bridge:
    """A set's term table and the per-query terms a variant adds."""

    def __init__(self, searcher: Searcher, catalog: Catalog, cache: EmbeddingCache):
        t0 = time.perf_counter()
        rows = list(catalog.iter_chunks())
        self.texts = {r.chunk_id: r.text for r in rows}
        self.kinds = collect_terms((r.text for r in rows), TermSettings(salient=True))  # `o` leaves salient out
        self.terms = list(self.kinds)
        t1 = time.perf_counter()
        self.vectors = cache.encode(self.terms, searcher.encoder) if self.terms else np.zeros((0, 1), np.float32)
        t2 = time.perf_counter()
        log.info("%d paragraphs: %d terms (%s) collected in %.1f s, embedded in %.1f s", len(rows), len(self.terms),
                 dict(Counter(self.kinds.values())), t1 - t0, t2 - t1)
        self.searcher = searcher
        analyzer = default_analyzer()
        self.df: Counter[str] = Counter()
        self.words_of: dict[int, list[str]] = {}
        for cid, text in self.texts.items():
            words = [w for w in analyzer.words(text) if len(w) >= 2 and not is_stopword(w)]
            self.words_of[cid] = words
            self.df.update(set(words))
        self.n = len(rows)

    def nearest(self, parsed: ParsedQuery, v: Variant) -> list[tuple[str, float]]:
        qv = self.searcher.embed_query(parsed.semantic_text.strip() or parsed.text)
        cos = self.vectors @ qv
        order = np.argsort(-cos)[: 20 * v.k + 20]
        norm = normalize(parsed.text)
        out: list[tuple[str, float]] = []
        top = float(cos[order[0]]) if len(order) else 0.0
        for i in order:
            c = float(cos[i])
            if c < v.floor or c < top - v.margin:
                break
            term = self.terms[i]
            if v.named_only and self.kinds[term] == "salient":
                continue
            if term in norm or any(term in t or t in term for t, _ in out):
                continue
            out.append((term, c))
            if len(out) >= v.k:
                break
        return out

    def feedback(self, parsed: ParsedQuery, v: Variant) -> list[tuple[str, float]]:
        """Words over-represented in the top semantic hits: tf in them × idf, not in the query."""
        with self.searcher.snapshot() as snap:
            qv = self.searcher.embed_query(parsed.semantic_text.strip() or parsed.text)
            hits = snap.semantic(qv, v.feedback, retrieve_module.Filters(), None)
        tf: Counter[str] = Counter()
        for cid, _ in hits:
            tf.update(set(self.words_of.get(cid, ())))
        norm = normalize(parsed.text)
        scored = [(w, c * math.log(self.n / self.df[w])) for w, c in tf.items()
                  if c >= 2 and w not in norm and self.df[w] <= 0.05 * self.n + 2]
        scored.sort(key=lambda x: -x[1])
        return scored[: v.k]

    def added(self, parsed: ParsedQuery, v: Variant) -> list[str]:
        if v.k == 0 or not is_plain(parsed):
            return []
        lookup = query_kind(parsed) is QueryKind.LOOKUP
        if (not v.all_kinds and not v.lookup_only and lookup) or (v.lookup_only and not lookup):
            return []
        if v.verify:
            wide = dataclasses.replace(v, k=v.k * 10)
            with self.searcher.snapshot() as snap:
                qv = self.searcher.embed_query(parsed.semantic_text.strip() or parsed.text)
                top = [self.texts[cid] for cid, _ in snap.semantic(qv, v.verify, retrieve_module.Filters(), None)]
            return [t for t, _ in self.nearest(parsed, wide) if any(t in text for text in top)][: v.k]
        found = self.feedback(parsed, v) if v.feedback else self.nearest(parsed, v)
        return [t for t, _ in found]


class BridgeRewriter(QueryRewriter):
    """The searcher's rewriter plus the bridge's terms at their own weight (lab only)."""

    def __init__(self, base: QueryRewriter, bridge: Bridge, variant: Variant):
        self.__dict__.update(base.__dict__)
        self.bridge, self.variant = bridge, variant
        self._memo: dict[str, tuple[str, ...]] = {}

    def lexicon_terms(self, parsed: ParsedQuery) -> tuple[str, ...]:
        return super().official_terms(parsed)

    def bridge_terms(self, parsed: ParsedQuery) -> tuple[str, ...]:
        if parsed.text not in self._memo:
            lexicon = set(self.lexicon_terms(parsed))
            analyzer = default_analyzer()
            typed = set(parsed.root.words) if isinstance(parsed.root, Terms) else set()
            out = []
            for term in self.bridge.added(parsed, self.variant):
                words = {w for w in analyzer.words(term) if not is_stopword(w)}
                if term not in lexicon and words and not words <= typed:
                    out.append(term)
            self._memo[parsed.text] = tuple(out)
        return self._memo[parsed.text]

    def official_terms(self, parsed: ParsedQuery) -> tuple[str, ...]:
        if self.variant.rank_only:
            return self.lexicon_terms(parsed)
        return self.lexicon_terms(parsed) + self.bridge_terms(parsed)

    @property
    def active(self) -> bool:
        return True

    def keyword_query(self, parsed: ParsedQuery, bridge: tuple[str, ...] = ()) -> ParsedQuery:
        out = super().keyword_query(parsed)  # with every official term at the lexicon's weight: redo
        if not is_plain(parsed):
            return out
        bridge = self.bridge_terms(parsed)
        if not bridge:
            return out
        analyzer = default_analyzer()
        base = self._base(parsed)
        lexicon = [Terms(tuple(w for w in dict.fromkeys(analyzer.words(t)) if not is_stopword(w)))
                   for t in self.lexicon_terms(parsed)]
        extra = [Terms(tuple(w for w in dict.fromkeys(analyzer.words(t)) if not is_stopword(w))) for t in bridge]
        should: list[Node] = [base]
        if lexicon:
            should.append(Boosted(lexicon[0] if len(lexicon) == 1 else Group(should=tuple(lexicon)), self.weight))
        should.append(Boosted(extra[0] if len(extra) == 1 else Group(should=tuple(extra)), self.variant.weight))
        clauses = self.clauses(parsed)
        if clauses is not None:
            should.append(clauses)
        import dataclasses
        return dataclasses.replace(parsed, root=Group(should=tuple(should)))


_original_plan = retrieve_module.fusion_plan


@contextmanager
def using(searcher: Searcher, rewriter: QueryRewriter):
    """The searcher with this rewriter; without `switch`, only the lexicon's terms make BM25 lead."""
    old = searcher.rewriter
    searcher.rewriter = searcher._retriever.rewriter = rewriter
    if isinstance(rewriter, BridgeRewriter) and not rewriter.variant.switch:
        retrieve_module.fusion_plan = lambda parsed, config, expanded=False: _original_plan(
            parsed, config, expanded and bool(rewriter.lexicon_terms(parsed)))
    original_official = retrieve_module.Retriever._official
    if isinstance(rewriter, BridgeRewriter) and not rewriter.variant.switch:
        def official(self, snap, parsed, filters, literal, top, bridge=()):
            out, _ = original_official(self, snap, parsed, filters, literal, top, bridge)
            head = {cid for cid, _ in top}
            lexicon = rewriter.lexicon_terms(parsed)  # only the lexicon's terms found make BM25 lead
            return out, any(t in lexicon and cid in head for cid, ts in out.items() for t in ts) or any(
                cid in head for t in lexicon for cid in snap.matching(retrieve_module.term_query(parsed, t), filters)
                if cid in literal)
        retrieve_module.Retriever._official = official
    try:
        yield
    finally:
        searcher.rewriter = searcher._retriever.rewriter = old
        retrieve_module.fusion_plan = _original_plan
        retrieve_module.Retriever._official = original_official


def open_set(name: str, bench: Path) -> tuple[object, Searcher, Bridge]:
    root, corpus = DATASETS[name]
    dataset = load_dataset(root, corpus)
    # the searcher's own bridge off (and an index without its term table): the variants add their terms
    config: Config = load_config().with_overrides({"rewrite.bridge_terms": 0})
    cfg = prepare_index(dataset, config, bench_dir=bench)
    searcher = Searcher.open(cfg)
    current = (cfg.index_dir / "CURRENT").read_text().strip()
    catalog = Catalog(cfg.index_dir / "generations" / current / "catalog.sqlite", readonly=True)
    cache = EmbeddingCache(Path(cfg.embedding.cache), cache_key(cfg.embedding.model, cfg.embedding.backend))
    return dataset, searcher, Bridge(searcher, catalog, cache)


def show_terms(name: str, bench: Path, variants: list[Variant]) -> None:
    dataset, searcher, bridge = open_set(name, bench)
    for kind in ("quoted", "practice", "domain", "salient"):
        sample = [t for t, k in bridge.kinds.items() if k == kind][:25]
        print(f"{kind}: {' '.join(sample)}")
    for q in dataset.queries:
        parsed = parse_query(q.text)
        for v in variants:
            found = bridge.feedback(parsed, v) if v.feedback else bridge.nearest(parsed, v)
            print(f"{q.qid} {q.kind} {q.text[:30]} | {v.name}: " + " ".join(f"{t}:{c:.3f}" for t, c in found))


def run(name: str, bench: Path, variants: list[Variant], out: Path, modes: list[str]) -> None:
    dataset, searcher, bridge = open_set(name, bench)
    out.mkdir(parents=True, exist_ok=True)
    for v in variants:
        rewriter = searcher.rewriter if v.name == "off" else BridgeRewriter(searcher.rewriter, bridge, v)
        t0 = time.perf_counter()
        with using(searcher, rewriter):
            result = evaluate(searcher, dataset, modes)
        table = result.table()
        per_query = {m: {r.qid: round(r.metrics["ndcg@10"], 4) for r in result.results[m]} for m in modes}
        (out / f"{name}-{v.name}.json").write_text(json.dumps({"metrics": table, "queries": per_query},
                                                              ensure_ascii=False, indent=1))
        if isinstance(rewriter, BridgeRewriter):
            added = {q.qid: rewriter._memo.get(q.text, ()) for q in dataset.queries}
            (out / f"{name}-{v.name}.terms.json").write_text(json.dumps(added, ensure_ascii=False, indent=1))
        cells = []
        for mode in modes:
            kinds = [k for k in table[mode] if k != "all"] + ["all"]
            cells.append(mode[:3] + " " + "/".join(f"{table[mode][k]['ndcg@10']:.4f}" for k in kinds))
        print(f"{name} {v.name:22s} {' | '.join(cells)}  ({time.perf_counter() - t0:.0f} s)", flush=True)


def add_table(index_dir: Path) -> None:
    """Write the term table into the published generation of an index built without it (a copy of a
    benchmark index: the query cost with and without the bridge on the same files), timing what a build's
    terms stage does: collect from every chunk, embed the new terms through the embedding cache."""
    from indexer.build.terms import collect_terms as collect
    from indexer.storage.layout import GenerationLayout
    from indexer.storage.manifest import write_manifest
    from indexer.storage.vectors import Encoder
    from indexer.storage.vectors.term_table import write_term_table

    config = load_config().with_overrides({"index_dir": index_dir})
    current = (index_dir / "CURRENT").read_text().strip()
    layout = GenerationLayout(index_dir / "generations" / current)
    catalog = Catalog(layout.catalog, readonly=True)
    t0 = time.perf_counter()
    texts = [r.text for r in catalog.iter_chunks()]
    kinds = collect(texts)
    t1 = time.perf_counter()
    cache = EmbeddingCache(Path(config.embedding.cache), cache_key(config.embedding.model, config.embedding.backend))
    vecs = cache.encode(list(kinds), Encoder.from_config(config))
    t2 = time.perf_counter()
    write_term_table(layout.terms, layout.term_vectors, kinds, vecs)
    write_manifest(layout.root)
    print(f"{len(texts)} chunks: {len(kinds)} terms {dict(Counter(kinds.values()))}; collected in {t1 - t0:.1f} s "
          f"({1000 * (t1 - t0) / len(texts):.2f} s per 1,000 chunks), embedded in {t2 - t1:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["terms", "run", "table"])
    ap.add_argument("set", choices=sorted(DATASETS), nargs="?")
    ap.add_argument("--bench-dir", type=Path)
    ap.add_argument("--index-dir", type=Path)
    ap.add_argument("--variants", default="off,n0.85k3w0.3")
    ap.add_argument("--modes", default="keyword,hybrid")
    ap.add_argument("--out", type=Path, default=Path("/tmp/bridge_lab"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("indexer").setLevel(logging.WARNING)
    variants = [Variant.parse(v) for v in args.variants.split(",")]
    if args.action == "table":
        add_table(args.index_dir)
    elif args.action == "terms":
        show_terms(args.set, args.bench_dir, variants)
    else:
        run(args.set, args.bench_dir, variants, args.out, args.modes.split(","))


if __name__ == "__main__":
    main()
