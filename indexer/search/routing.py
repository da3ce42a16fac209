"""Query kind -> fusion plan (method and weights): let the query decide which retriever leads.

Users type three kinds of queries, and the two retrievers are good at different ones (measured in
docs/evaluation.md): BM25 wins on a known term or a quoted phrase (四议两公开, "法律明白人"); the embedding
model wins on questions in the user's own words and on paraphrased sentences. The kind is read from the
query's form only (length, question words, quotes, operators), never from the index, so it is cheap and
the same for every corpus.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from indexer.core.config import Config
from indexer.core.querytree import ParsedQuery, has_constraint

# Words and marks that make a query a question asked in the user's own words.
_QUESTION = re.compile(r"[?？吗呢]|怎么|怎样|如何|哪些|哪个|什么|为什么|是否|是不是|有没有|能不能|能否|可不可以|可以吗|多少|多久|谁(?!执法|管理|服务|主管|审批|决策|普法)")
_CONTENT = re.compile(r"\w", re.UNICODE)

LOOKUP_MAX_CHARS = 8  # 四议两公开, 谁执法谁普法, 信访积案化解: a term or two, not a sentence
LOOKUP_PART_CHARS = 6  # each of several space-separated terms
NATURAL_MIN_CHARS = 12  # a clause long enough to be a paraphrase of a sentence


class QueryKind(str, Enum):
    LOOKUP = "lookup"  # a known term or a quoted/required phrase: lean lexical
    NATURAL = "natural"  # a question or a sentence in the user's own words: lean semantic
    MIXED = "mixed"  # a few words that are neither: equal footing


def is_question(text: str) -> bool:
    """Whether the text asks something (a question mark or word: 怎么, 哪些, 是否, 吗 …)."""
    return _QUESTION.search(text) is not None


def query_kind(parsed: ParsedQuery) -> QueryKind:
    text = parsed.semantic_text or parsed.text
    chars = len(_CONTENT.findall(text))
    if parsed.phrases or has_constraint(parsed.root):
        return QueryKind.LOOKUP
    if _QUESTION.search(parsed.text):
        return QueryKind.NATURAL
    parts = [len(_CONTENT.findall(p)) for p in parsed.text.split()]
    if chars <= LOOKUP_MAX_CHARS or (len(parts) > 1 and max(parts) <= LOOKUP_PART_CHARS):
        return QueryKind.LOOKUP  # a term, or a list of terms typed with spaces (法律顾问 合法性审查)
    if chars >= NATURAL_MIN_CHARS:
        return QueryKind.NATURAL
    return QueryKind.MIXED


def is_statement(parsed: ParsedQuery) -> bool:
    """A natural query without a question word: a sentence in the user's own words (a paraphrase of the
    sentence they look for), as opposed to a question about a practice."""
    return query_kind(parsed) is QueryKind.NATURAL and not _QUESTION.search(parsed.text)


@dataclass(frozen=True)
class FusionPlan:
    """How to fuse the two lists for one query (see fuse.fuse)."""

    kind: QueryKind | None  # None when routing is off
    method: str
    keyword_weight: float
    semantic_weight: float
    k: float
    norm: str
    confidence: float = 0.0  # see fuse.convex

    def weights(self) -> dict[str, float]:
        return {"keyword": self.keyword_weight, "semantic": self.semantic_weight}


def sentence_like(parsed: ParsedQuery) -> bool:
    """Whether the query can be matched sentence by sentence (search/sentences.py): a term has no sentence."""
    return query_kind(parsed) is not QueryKind.LOOKUP


def fusion_plan(parsed: ParsedQuery, config: Config, expanded: bool = False) -> FusionPlan:
    """The fusion method and weights for this query, from the settings for its kind. `expanded`: the
    keyword side runs with official terms added for the user's everyday words (search/rewrite.py)."""
    c = config.fusion
    if not c.route_queries:
        return FusionPlan(None, c.method, c.keyword_weight, c.semantic_weight, c.rrf_k, c.norm, c.confidence)
    kind = query_kind(parsed)
    if kind is QueryKind.LOOKUP:
        return FusionPlan(kind, c.lookup_method, c.lookup_keyword_weight, c.lookup_semantic_weight, c.rrf_k, c.norm)
    if kind is QueryKind.NATURAL:
        if expanded:
            kw, sem = c.expanded_keyword_weight, c.expanded_semantic_weight
        elif is_statement(parsed):
            kw, sem = c.statement_keyword_weight, c.statement_semantic_weight
        else:
            kw, sem = c.natural_keyword_weight, c.natural_semantic_weight
        return FusionPlan(kind, c.method, kw, sem, c.rrf_k, c.norm, c.confidence)
    return FusionPlan(kind, c.mixed_method, c.keyword_weight, c.semantic_weight, c.rrf_k, c.norm)
