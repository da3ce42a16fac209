"""The query tree: a small backend-neutral description of what a query asks for.

The parser (indexer/search/query.py) builds it; every engine reads it through one `QueryReader` (what each
node means is written there once: the Whoosh and tantivy queries, the Milvus client-side check); routing,
rewriting and the searcher read it through the predicates at the bottom. It sits below both indexing and
searching so that neither side imports the other."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Generic, TypeVar, Union


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

    @property
    def earns_bonus(self) -> bool:
        """A chunk holding every word scores the all-words bonus on top: a ranked OR of two or more words."""
        return not self.require_all and len(self.words) > 1


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


# ---------------------------------------------------------------- reading the tree

Q = TypeVar("Q")


class QueryReader(ABC, Generic[Q]):
    """What the query tree means, written once; a subclass gives one engine's vocabulary (a Whoosh or tantivy
    query, a test on a chunk's words) and `read(node)` builds that engine's form of the tree.

    - Terms: each word is `word`, each glued string `exact`. With `require_all` all of them are needed;
      otherwise any one, and when `earns_bonus` a chunk holding every word scores `all_terms_bonus` of their
      score on top. `lone` words never make a chunk match: they only add to the score of chunks that do.
    - Phrase: its characters in order (`exact`) are required; its words rank the chunks that have them.
    - AnyOf: any child. Boosted: the child, its weight multiplied by `boost`.
    - Group: every `must`, no `must_not`, and one `should` when there is no `must` (with a `must` they only
      rank); an empty group is every chunk.
    """

    # The weights of a scoring reader (storage/fulltext/ranking.py gives them); a reader that only decides
    # whether a chunk matches keeps these neutral values.
    all_terms_bonus: float = 0.0
    glued_boost: float = 1.0
    phrase_boost: float = 1.0

    # -- the vocabulary of one engine

    @abstractmethod
    def word(self, word: str) -> Q:
        """Chunks holding this analysed word (in their text or context)."""

    @abstractmethod
    def exact(self, text: str, boost: float) -> Q:
        """Chunks whose text holds `text`'s letters, digits and ideographs consecutively (punctuation and
        spaces aside); `nothing()` when it has none."""

    @abstractmethod
    def all_of(self, parts: list[Q]) -> Q:
        """Chunks every part matches (never called with no parts)."""

    @abstractmethod
    def any_of(self, parts: list[Q]) -> Q:
        """Chunks any part matches; their scores add up."""

    @abstractmethod
    def ranked_by(self, base: Q, extra: Q) -> Q:
        """The chunks of `base`; `extra` only adds to their score."""

    @abstractmethod
    def boost(self, part: Q, factor: float) -> Q:
        """`part` with its weight multiplied by `factor`."""

    @abstractmethod
    def everything(self) -> Q:
        """Every chunk."""

    @abstractmethod
    def nothing(self) -> Q:
        """No chunk."""

    @abstractmethod
    def excluding(self, base: Q, excluded: Q) -> Q:
        """The chunks of `base` that `excluded` does not match."""

    # -- the meaning of each node

    def read(self, node: Node) -> Q:
        if isinstance(node, Terms):
            return self.terms(node)
        if isinstance(node, Phrase):
            return self.phrase(node)
        if isinstance(node, AnyOf):
            return self.any_of([self.read(c) for c in node.children])
        if isinstance(node, Boosted):
            return self.boost(self.read(node.child), node.boost)
        if isinstance(node, Group):
            return self.boolean([self.read(c) for c in node.must], [self.read(c) for c in node.should],
                                [self.read(c) for c in node.must_not])
        raise TypeError(f"unknown query node {node!r}")

    def terms(self, node: Terms) -> Q:
        parts = [self.word(w) for w in node.words]
        glued = [self.exact(g, self.glued_boost) for g in node.glued]
        if node.require_all:
            base = self.all_of(parts + glued) if parts or glued else self.nothing()
        elif len(parts) == 1 and not glued:
            base = parts[0]
        else:
            # Ranked OR: the matched words' scores add up; matching all of them earns a bonus on top.
            bonus = [self.boost(self.all_of(parts), self.all_terms_bonus)] if node.earns_bonus else []
            base = self.any_of(parts + glued + bonus)
        if node.lone:
            base = self.ranked_by(base, self.any_of([self.word(w) for w in node.lone]))
        return base

    def phrase(self, node: Phrase) -> Q:
        exact = self.exact(node.text, self.phrase_boost)
        if not node.words:
            return exact
        return self.ranked_by(exact, self.any_of([self.word(w) for w in node.words]))

    def boolean(self, must: list[Q], should: list[Q], must_not: list[Q]) -> Q:
        """A Group's children, read: the Group rule above. A reader whose engine has a boolean query of its own
        may build it here instead."""
        if must and should:
            base = self.ranked_by(self.all_of(must), self.any_of(should))
        elif must:
            base = self.all_of(must)
        elif should:
            base = self.any_of(should)
        else:
            base = self.everything()
        return self.excluding(base, self.any_of(must_not)) if must_not else base


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
