"""The query tree evaluated on the client, for what a BM25 ranking cannot say by itself.

BM25 in Milvus is a ranked OR over tokens: it finds chunks holding any query word, never "all of these",
"none of these" or "these characters in this order". The snapshot asks Milvus for the BM25 candidates of
all positive words and keeps those for which `matches` holds. Semantics (the local backends' own):
- Terms: any word (all with `require_all`) in the chunk's text or context words; `glued` strings match as
  phrases; `lone` words never make a chunk match on their own.
- Phrase: its letters/digits/ideographs, normalised, occur consecutively in the chunk text (punctuation and
  whitespace skipped) — exactly the local grams field's rule.
- AnyOf / Group / Boosted: OR / (all must, no must_not, any should when there is no must) / the child.
"""
from __future__ import annotations

from indexer.core.analysis import normalize
from indexer.core.querytree import AnyOf, Boosted, Group, Node, Phrase, Terms


def squeeze(text: str) -> str:
    """Normalised letters, digits and ideographs only, in order (what a phrase is matched against)."""
    return "".join(c for c in normalize(text) if c.isalnum())


def matches(node: Node, words: set[str], squeezed: str) -> bool:
    if isinstance(node, Terms):
        hits = [w in words for w in node.words] + [bool(squeeze(g)) and squeeze(g) in squeezed for g in node.glued]
        if not hits:
            return False
        return all(hits) if node.require_all else any(hits)
    if isinstance(node, Phrase):
        needle = squeeze(node.text)
        return bool(needle) and needle in squeezed
    if isinstance(node, AnyOf):
        return any(matches(c, words, squeezed) for c in node.children)
    if isinstance(node, Boosted):
        return matches(node.child, words, squeezed)
    if isinstance(node, Group):
        if any(matches(c, words, squeezed) for c in node.must_not):
            return False
        if not all(matches(c, words, squeezed) for c in node.must):
            return False
        if node.should and not node.must:
            return any(matches(c, words, squeezed) for c in node.should)
        return True
    raise TypeError(f"unknown query node {type(node).__name__}")


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
