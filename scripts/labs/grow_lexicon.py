"""Grow the jieba dictionary from the corpus: frequent character n-grams that jieba splits.

    python -m scripts.labs.grow_lexicon corpora/fazhi-2023 [--min-count 3 --min-docs 2] [--write]

A candidate is a 3-7 character run inside one clause that occurs at least --min-count times in at least
--min-docs documents, that the current dictionaries cut into two or more words (信访积案 -> 信访 / 积案),
that is free to stand on its own (seen with at least two different characters on each side, or at a
clause edge) and that is not just part of a longer candidate with the same count. Named practices and
slogans (四议两公开, 法律明白人) come out on top; review the list, then --write puts it in
indexer/lexicon/grown_dict.txt, which indexing, querying and highlighting load after domain_dict.txt.
Changing it changes tokens: re-index (`reportsearch index --full`).
"""
from __future__ import annotations

import argparse
import logging
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from indexer import Config
from indexer.core.analysis import GROWN_DICT, get_analyzer, normalize
from indexer.pipeline.ingest import parse_file
from indexer.pipeline.load import LoadError
from indexer.pipeline.scan import scan_corpus
from scripts import REPO

_CLAUSE = re.compile(r"[\u4e00-\u9fff]+")
# Characters a term rarely starts or ends with: particles, conjunctions, measure words.
_BAD_EDGE = set("的了和与及或在是等对为也并将把被其之于以而就都又从向由个这那有中上下")
_BAD_START = _BAD_EDGE | set("年月日")
_ORDINAL = re.compile(r"^[一二三四五六七八九十]是|^现将|^还")  # 一是加强 …: list openers, not terms


def clauses(corpus: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in scan_corpus(corpus).files:
        try:
            doc = parse_file(f.abs_path, f.rel_path, Config().ingest.max_file_bytes)
        except LoadError as exc:  # a report that cannot be read just contributes nothing
            logging.warning("%s: %s", f.rel_path, exc)
            continue
        out[f.rel_path] = [c for p in doc.paragraphs for c in _CLAUSE.findall(normalize(p.text))]
    return out


def candidates(docs: dict[str, list[str]], min_count: int, min_docs: int, max_len: int = 7) -> list[tuple[str, int, int]]:
    analyzer = get_analyzer()
    known = analyzer._jieba.FREQ  # the words jieba already keeps whole
    count: Counter[str] = Counter()
    aligned: Counter[str] = Counter()
    doc_sets: dict[str, set[str]] = defaultdict(set)
    left: dict[str, set[str]] = defaultdict(set)
    right: dict[str, set[str]] = defaultdict(set)
    for path, cls in docs.items():
        for clause in cls:
            # Word boundaries as jieba cuts this clause: a term starts and ends on them (法行政 does not).
            cuts = {0}
            for t in analyzer.tokenize(clause, subwords=False):
                cuts.update((t.start, t.end))
            n = len(clause)
            for size in range(3, max_len + 1):
                for i in range(n - size + 1):
                    g = clause[i : i + size]
                    count[g] += 1
                    aligned[g] += i in cuts and i + size in cuts
                    doc_sets[g].add(path)
                    left[g].add(clause[i - 1] if i > 0 else "^")
                    right[g].add(clause[i + size] if i + size < n else "$")
    picked: dict[str, tuple[int, int]] = {}
    for g, c in count.items():
        if c < min_count or len(doc_sets[g]) < min_docs or g[0] in _BAD_START or g[-1] in _BAD_EDGE:
            continue
        if known.get(g) or aligned[g] < 0.8 * c or "的" in g or _ORDINAL.match(g):
            continue
        pieces = analyzer.words(g)
        # Only terms jieba breaks badly: some piece is a lone character (法律明白人 -> 法律/明白/人,
        # 四议两公开 -> 四/议/两/公开); compounds of whole words (法治政府/建设) are already found.
        if len(pieces) < 2 or all(len(p) > 1 for p in pieces):
            continue
        free_left = len(left[g]) >= 2 or "^" in left[g]
        free_right = len(right[g]) >= 2 or "$" in right[g]
        if free_left and free_right:
            picked[g] = (c, len(doc_sets[g]))
    # Drop a candidate that only ever occurs inside a longer candidate (法律明白 inside 法律明白人).
    result = []
    for g, (c, d) in picked.items():
        if any(g in longer and lc >= c for longer, (lc, _) in picked.items() if len(longer) > len(g)):
            continue
        result.append((g, c, d))
    return sorted(result, key=lambda x: (-x[2], -x[1], -len(x[0]), x[0]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--min-count", type=int, default=3)
    parser.add_argument("--min-docs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--write", action="store_true", help=f"write {GROWN_DICT.relative_to(REPO)}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    found = candidates(clauses(args.corpus), args.min_count, args.min_docs)[: args.limit]
    for word, c, d in found:
        print(f"{word}\t{c}\t{d} docs")
    if args.write:
        lines = [f"# Grown from {args.corpus} by scripts/labs/grow_lexicon.py (min count {args.min_count}, "
                 f"min docs {args.min_docs}); reviewed by hand.", *(w for w, _, _ in found)]
        GROWN_DICT.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {len(found)} words to {GROWN_DICT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
