"""The query tree evaluated on the client, for what a BM25 ranking cannot say by itself.

BM25 in Milvus is a ranked OR over tokens: it finds chunks holding any query word, never "all of these",
"none of these" or "these characters in this order". The snapshot asks Milvus for the BM25 candidates of
all positive words and keeps those the query tree's test passes (`matcher`). What each node means is the
local backends' own, written once for every engine (core/querytree.QueryReader); a phrase or glued string is
matched on the chunk's squeezed text (`core.analysis.squeeze`), exactly the local grams field's rule.
"""
from __future__ import annotations

from typing import Callable

from indexer.core.analysis import squeeze
from indexer.core.querytree import AnyOf, Boosted, Group, Node, Phrase, QueryReader, Terms

# Does a chunk match, given the words its tokens hold and its squeezed text (core.analysis.squeeze).
Test = Callable[[set[str], str], bool]


class _Tests(QueryReader[Test]):
    """The query tree as a test on one chunk (what each node means: core/querytree.QueryReader); scores and
    weights play no part."""

    def word(self, word: str) -> Test:
        return lambda words, squeezed: word in words

    def exact(self, text: str, boost: float) -> Test:
        needle = squeeze(text)
        return lambda words, squeezed: bool(needle) and needle in squeezed

    def all_of(self, parts: list[Test]) -> Test:
        return lambda words, squeezed: all(p(words, squeezed) for p in parts)

    def any_of(self, parts: list[Test]) -> Test:
        return lambda words, squeezed: any(p(words, squeezed) for p in parts)

    def ranked_by(self, base: Test, extra: Test) -> Test:
        return base

    def boost(self, part: Test, factor: float) -> Test:
        return part

    def everything(self) -> Test:
        return lambda words, squeezed: True

    def nothing(self) -> Test:
        return lambda words, squeezed: False

    def excluding(self, base: Test, excluded: Test) -> Test:
        return lambda words, squeezed: base(words, squeezed) and not excluded(words, squeezed)


def matcher(node: Node) -> Test:
    """The test for `node`, built once per query and run on every candidate chunk."""
    return _Tests().read(node)


def positive_words(node: Node) -> list[str]:
    """Every word a matching chunk may hold (the BM25 query): words, lone words, phrase and glued words."""
    from indexer.core.analysis import default_analyzer

    if isinstance(node, Terms):
        glued = [w for g in node.glued for w in default_analyzer().words(g)]
        return [*node.words, *node.lone, *glued]
    if isinstance(node, Phrase):
        return list(node.words) or default_analyzer().words(node.text)
    if isinstance(node, AnyOf):
        return [w for c in node.children for w in positive_words(c)]
    if isinstance(node, Boosted):
        return positive_words(node.child)
    if isinstance(node, Group):
        return [w for c in (*node.must, *node.should) for w in positive_words(c)]
    return []
