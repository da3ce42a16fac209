"""The query tree: a small backend-neutral description of what a query asks for.

The parser (indexer/search/query.py) builds it; the full-text backends translate it; routing, rewriting
and the searcher read it through the predicates at the bottom. It sits below both indexing and searching
so that neither side imports the other."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union



@dataclass(frozen=True)
class Terms:
    """Analysed words. `require_all=False`: ranked OR with a bonus for matching all of them.

    `glued` holds the typed strings around characters the analyzer left alone inside a longer word
    (城关乡 -> 城关 + 乡, see `glued_runs`); the backends match them as exact phrases. `lone` holds such
    characters and the dictionary sub-words of long words: they never make a chunk match on their own
    (乡 would match every township), they only add to the score of chunks that match a word or a glued
    string."""

    words: tuple[str, ...]
    require_all: bool = False
    glued: tuple[str, ...] = ()
    lone: tuple[str, ...] = ()


@dataclass(frozen=True)
class Phrase:
    """Consecutive words, as typed between quotes (`words` is `text` analysed, sub-words excluded)."""

    text: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class AnyOf:
    """At least one child matches (explicit OR)."""

    children: tuple["Node", ...]


@dataclass(frozen=True)
class Group:
    """All `must` match, no `must_not` matches; `should` adds score (and is needed if `must` is empty).

    With `must` and `should` both empty the group matches every chunk not excluded by `must_not`.
    """

    must: tuple["Node", ...] = ()
    should: tuple["Node", ...] = ()
    must_not: tuple["Node", ...] = ()


@dataclass(frozen=True)
class Boosted:
    """`child` scored with its weight multiplied by `boost`. Never produced by the parser: query rewriting
    (indexer/search/rewrite.py) adds expansion terms this way, weighted below the words the user typed."""

    child: "Node"
    boost: float


Node = Union[Terms, Phrase, AnyOf, Group, Boosted]


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # the query as typed
    root: Node
    terms: tuple[str, ...]  # positive plain words, analysed, function words dropped
    phrases: tuple[str, ...]  # positive quoted phrases, as typed
    semantic_text: str  # positive words and phrases without operators or quotes, for embedding
    warning: str | None = None


# ---------------------------------------------------------------- predicates


def is_empty(node: Node) -> bool:
    """A group with nothing in it (matches every chunk)."""
    return isinstance(node, Group) and not (node.must or node.should or node.must_not)


def has_positive(node: Node) -> bool:
    """Something the chunk must or may contain (not only exclusions)."""
    if isinstance(node, Group):
        return bool(node.must or node.should)
    return True


def is_strict(node: Node) -> bool:
    """True when the query constrains which chunks may match (phrases, AND, NOT), so the semantic side
    may only re-rank keyword matches; plain words are a ranked OR that semantics may extend."""
    if isinstance(node, Terms):
        return node.require_all
    if isinstance(node, Group):
        return bool(node.must or node.must_not) or any(is_strict(c) for c in node.should)
    return True  # Phrase, explicit OR of constrained parts


def has_constraint(node: Node) -> bool:
    """Like `is_strict` but exclusions alone do not count: a phrase, required words or AND somewhere."""
    if isinstance(node, Phrase):
        return True
    if isinstance(node, Terms):
        return node.require_all
    if isinstance(node, Group):
        return bool(node.must) or any(has_constraint(c) for c in node.should)
    return True
