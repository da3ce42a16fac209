"""RM3-style pseudo-relevance feedback for the keyword side of natural questions.

A question in everyday words shares few words with the passage that answers it; the passages BM25 ranks
highest for it usually share the *topic*, and with it the official vocabulary. Feedback reads the top
`prf_docs` keyword hits, weighs each word by how much of those hits it makes up (each hit weighted by its
share of the first-pass score: RM1) times its inverse document frequency, and runs the query again with
the best `prf_terms` words added as an optional clause at `prf_weight` (the query as typed keeps its weight:
the "interpolation" of RM3). Only plain queries routed as natural (indexer/search/routing.py) get it: a
looked-up term means exactly itself.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Callable, Iterable

from indexer.fulltext.analysis import default_analyzer, is_stopword
from indexer.search.query import AnyOf, Boosted, Group, Node, ParsedQuery, Phrase, Terms


def query_words(node: Node) -> set[str]:
    """Every word a query tree already searches for (feedback adds only new ones)."""
    if isinstance(node, Terms):
        return set(node.words)
    if isinstance(node, Phrase):
        return set(node.words)
    if isinstance(node, Boosted):
        return query_words(node.child)
    children = node.children if isinstance(node, AnyOf) else node.must + node.should
    return set().union(*(query_words(c) for c in children)) if children else set()


def feedback_terms(query_words: Iterable[str], texts: list[str], scores: list[float],
                   doc_freq: Callable[[list[str]], dict[str, int]], n_docs: int, n_terms: int
                   ) -> list[tuple[str, float]]:
    """The `n_terms` best expansion words for the feedback texts, with weights relative to the best (1.0)."""
    analyzer = default_analyzer()
    skip = set(query_words)
    total = sum(max(s, 0.0) for s in scores) or 1.0
    relevance: Counter[str] = Counter()
    for text, score in zip(texts, scores):
        words = [w for w in analyzer.words(text)
                 if len(w) >= 2 and not is_stopword(w) and not w.isdigit() and w not in skip]
        if not words:
            continue
        share = max(score, 0.0) / total
        for word, tf in Counter(words).items():
            relevance[word] += share * tf / len(words)
    if not relevance:
        return []
    df = doc_freq(list(relevance))
    weighted = {w: r * math.log(1 + (n_docs - df.get(w, 0) + 0.5) / (df.get(w, 0) + 0.5))
                for w, r in relevance.items() if df.get(w, 0) > 0}
    best = sorted(weighted.items(), key=lambda kv: -kv[1])[:n_terms]
    if not best:
        return []
    top = best[0][1]
    return [(w, v / top) for w, v in best]


def with_feedback(parsed: ParsedQuery, terms: list[tuple[str, float]], weight: float) -> ParsedQuery:
    """`parsed` with the feedback words as one optional clause at `weight` (each word at its own share)."""
    if not terms:
        return parsed
    clauses: list[Node] = [Boosted(Terms((w,)), round(rel, 4)) for w, rel in terms]
    extra = Boosted(Group(should=tuple(clauses)), weight)
    root = parsed.root
    if isinstance(root, Group) and not root.must and not root.must_not:
        new_root = Group(should=root.should + (extra,))
    else:
        new_root = Group(should=(root, extra))
    return ParsedQuery(parsed.text, new_root, parsed.terms, parsed.phrases, parsed.semantic_text, parsed.warning)
