"""Measurements behind docs/evaluation.md's issue 27 section (no model needed).

    python -m scripts.labs.issue27_lab fires --windows 0,3        # which lexicon rules each query of every set fires
    python -m scripts.labs.issue27_lab padding INDEX_DIR ...       # encoder tokens of the sentence stage, padding included

`fires` lists, per set, the rules (lexicon line numbers) every query fires at each `rewrite.rule_window`, and
the queries that fire a rule at a window that they do not fire as typed (window 0): the new fires, true or false.
`padding` counts, over a built index's catalog, the tokens the encoder processes for the chunks and their
distinct sentences (characters + 2, capped at 512) with the calls in catalog order and shortest first.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from scripts import REPO

SHARED = Path(os.environ.get("SHARED_DIR", REPO.parent / "shared"))
SETS = {
    "sample": (REPO / "corpora" / "eval", None),
    "eval-townships": (SHARED / "eval-townships", SHARED / "eval-townships" / "corpus"),
    "stard-small": (SHARED / "bench" / "stard" / "small", None),
}
CALL, BATCH, MAX_TOKENS = 256, 32, 512  # texts per encoder call (build/write.py), per batch, the model's limit


def fired(rewriter, text: str) -> list[int]:
    """Lexicon line numbers of the rules this query text fires."""
    from indexer.core.analysis import normalize

    norm = normalize(text)
    spread = rewriter._spread_hits(norm)
    return [rule.line for i, (rule, single, combos) in enumerate(rewriter._compiled)
            if (single is not None and single.search(norm)) or any(all(p in norm for p in alt) for alt in combos)
            or i in spread]


def cmd_fires(args) -> int:
    from indexer.evaluation.datasets import load_dataset
    from indexer.search.rewrite import COLLOQUIAL_LEXICON, QueryRewriter, read_lexicon

    rules = read_lexicon(COLLOQUIAL_LEXICON)
    windows = [int(w) for w in args.windows.split(",")]
    rewriters = {w: QueryRewriter(rules, window=w) for w in [0, *windows]}
    for name, (root, corpus) in SETS.items():
        queries = load_dataset(root, corpus).queries
        for w in windows:
            lines = {q.qid: fired(rewriters[w], q.text) for q in queries}
            firing = {qid: ls for qid, ls in lines.items() if ls}
            print(f"{name} window {w} ({len(firing)}/{len(queries)} fire): "
                  + " ".join(f"{qid}:{','.join(map(str, ls))}" for qid, ls in firing.items()))
            for q in queries:
                new = set(lines[q.qid]) - set(fired(rewriters[0], q.text))
                if new:
                    print(f"  new at window {w}: {q.qid} {q.text} -> lines {sorted(new)}")
    return 0


def padded(lengths: list[int], shortest_first: bool) -> int:
    """Tokens encoded, padding included: each call sorted by length, each batch padded to its longest."""
    tokens = [min(n + 2, MAX_TOKENS) for n in lengths]
    if shortest_first:
        tokens.sort()
    total = 0
    for start in range(0, len(tokens), CALL):
        call = sorted(tokens[start : start + CALL], reverse=True)
        total += sum(max(call[b : b + BATCH]) * len(call[b : b + BATCH]) for b in range(0, len(call), BATCH))
    return total


def cmd_padding(args) -> int:
    from indexer.storage.catalog import Catalog
    from indexer.storage.vectors.sentence_vectors import chunk_sentences

    for folder in args.index_dirs:
        path = next(p for p in sorted(Path(folder).rglob("catalog.sqlite")))
        catalog = Catalog(path)
        chunks = [row.text for row in catalog.iter_chunks()]
        sentences = list(dict.fromkeys(s for text in chunks for s in chunk_sentences(text)))
        sl = [len(s) for s in sentences]
        print(f"{folder}: {len(chunks)} chunks, {len(sentences)} distinct sentences "
              f"({sum(sl) / max(1, sum(map(len, chunks))):.2f}x the chunks' characters)")
        print(f"  sentence tokens: catalog order {padded(sl, False)}, shortest first {padded(sl, True)}, "
              f"no padding {sum(min(n + 2, MAX_TOKENS) for n in sl)}")
        cl = [len(c) for c in chunks]
        print(f"  chunk tokens: catalog order {padded(cl, False)}, shortest first {padded(cl, True)}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fires")
    p.add_argument("--windows", default="0,3")
    p = sub.add_parser("padding")
    p.add_argument("index_dirs", nargs="+", help="built index folders (an evaluation index will do)")
    args = parser.parse_args(argv)
    return {"fires": cmd_fires, "padding": cmd_padding}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
