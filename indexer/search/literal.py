"""What "literal" means: the query trees whose matches are exactly the paragraphs that contain what the user
typed (and, apart, each official term the 口语→公文 expansion adds).

The ranking query (ranked OR of words, headings and titles weighted in, dictionary sub-words scoring) finds
more than that: 律师 alone for 公职律师, a heading that names the word. Those are not literal matches. Here
every word or term is matched as its exact string in the paragraph's text (the full-text `grams` field:
characters in order, punctuation aside, so “八五”普法 holds 八五普法):
- a short lookup (routing: 公职律师, 法律顾问 合法性审查) matches when each typed item occurs: an item of at
  most TERM_CHARS letters is one term and must occur whole (律师 alone is no match of 公职律师), a longer
  one (信访积案化解做法) when one of its content words does;
- a longer query in the user's own words when at least one of its content words occurs (as before);
- quoted phrases, required words, AND / OR / NOT keep their meaning, each word matched as its string.
The engines answer these trees exactly (`Snapshot.matching`), not from a top k.
"""
from __future__ import annotations

import dataclasses

from indexer.core.analysis import default_analyzer, is_stopword
from indexer.core.querytree import AnyOf, Boosted, Group, Node, ParsedQuery, Phrase, Terms
from indexer.search.query import parse_query
from indexer.search.routing import QueryKind, query_kind

TERM_CHARS = 4  # a typed item this short is one term, whatever the dictionary cuts it into


def exact(text: str) -> Phrase:
    """`text` as an exact string of the paragraph's text (the Phrase node matches on the grams field)."""
    return Phrase(text, tuple(default_analyzer().words(text)) or (text,))


def _terms(node: Terms) -> Node:
    strings = [exact(s) for s in dict.fromkeys([*node.words, *node.glued])]
    if node.require_all:
        return Group(must=tuple(strings))
    return strings[0] if len(strings) == 1 else AnyOf(tuple(strings))


def _literal(node: Node) -> Node:
    if isinstance(node, Terms):
        return _terms(node) if (node.words or node.glued) else node
    if isinstance(node, Phrase):
        return node
    if isinstance(node, AnyOf):
        return AnyOf(tuple(_literal(c) for c in node.children))
    if isinstance(node, Boosted):
        return _literal(node.child)
    if isinstance(node, Group):
        return Group(tuple(_literal(c) for c in node.must), tuple(_literal(c) for c in node.should),
                     node.must_not)
    raise TypeError(f"unknown query node {node!r}")


def typed_items(text: str) -> list[str]:
    """The whitespace-separated items of a plain query that carry a content word."""
    analyzer = default_analyzer()
    return [item for item in text.split() if any(not is_stopword(w) for w in analyzer.words(item))]


def literal_query(parsed: ParsedQuery) -> ParsedQuery:
    """The query whose matches are the literal matches of `parsed` (module docstring)."""
    root = parsed.root
    if isinstance(root, Terms) and not root.require_all and query_kind(parsed) is QueryKind.LOOKUP:
        items = typed_items(parsed.text)
        if items:
            parts = tuple(_item(item) for item in dict.fromkeys(items))
            return dataclasses.replace(parsed, root=parts[0] if len(parts) == 1 else Group(must=parts))
    return dataclasses.replace(parsed, root=_literal(root))


def _item(item: str) -> Node:
    """One typed item of a lookup: a short one whole, a longer one by any of its content words."""
    if sum(1 for c in item if c.isalnum()) <= TERM_CHARS:
        return exact(item)
    return _literal(parse_query(item).root)


def term_query(parsed: ParsedQuery, term: str) -> ParsedQuery:
    """The paragraphs holding one official term (as its exact string)."""
    return dataclasses.replace(parsed, root=exact(term))
