"""Hits found through the 口语→公文 expansion (search/rewrite.py) or the corpus's nearest terms
(search/bridge.py): which official terms each one contains.

A plain query's keyword side also looks for the official terms its everyday words stand for (上访 -> 信访).
A hit the keyword side found that does not match the query as typed, but holds one of those terms, is an
official-term match: it is labelled with the terms (按公文用语匹配：信访) and they are what it marks -- not
"close in meaning", which would claim the embedding found it, and not literal, which would claim the typed
words are there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from indexer.core.analysis import normalize
from indexer.core.querytree import ParsedQuery, Terms
from indexer.search.candidates import Candidates
from indexer.search.fuse import Fused
from indexer.search.highlight import DEFAULT_MAX_MARKS, has_real_match, query_spans
from indexer.search.types import MATCH_LITERAL, MATCH_OFFICIAL, MATCH_SEMANTIC, Hit

@dataclass(frozen=True)
class OfficialMatch:
    terms: tuple[str, ...]  # the official terms the hit contains, as the lexicon writes them
    spans: tuple[tuple[int, int], ...]  # where they are in the hit's text


def official_match(text: str, words: tuple[str, ...]) -> OfficialMatch | None:
    """The official terms in `text` (matched like the index matches a word), or None when there is none."""
    found: dict[str, list[tuple[int, int]]] = {}
    norm = normalize(text)  # what the analyzer cuts
    for word in words:
        if word in norm:
            spans = query_spans(text, _word_query(word))
            if has_real_match(spans):
                found[word] = spans
    if not found:
        return None
    # 信访工作 holds 信访: name the shorter term, the one the everyday word stands for (上访 -> 信访)
    names = tuple(w for w in found if not any(w != o and o in w for o in found))
    spans = sorted({s for w in found for s in found[w]})[:DEFAULT_MAX_MARKS]
    return OfficialMatch(names, tuple(spans))


def official_matches(page: list[Fused], cand: Candidates) -> dict[int, OfficialMatch]:
    """The page's official-term matches -- the hits the retriever found only through an official term
    (`Fused.official`, an exact set: search/retrieve.py) -- with where those terms are in the text."""
    ids = [f.chunk_id for f in page if f.official]
    if not ids:
        return {}
    cand.load(ids, offsets=False)
    out = {}
    for f in page:
        if f.official:
            # The engine matched the term as the analyzer cuts it (across inner quotes: “信访”工作): where the
            # text has no plain occurrence to mark, the hit still names its terms.
            out[f.chunk_id] = official_match(cand.rows[f.chunk_id].text, f.official) or OfficialMatch(f.official, ())
    return out


def _word_query(word: str) -> ParsedQuery:
    return ParsedQuery(text=word, root=Terms((word,)), terms=(word,), phrases=(), semantic_text=word)


NO_LITERAL_MATCH = "没有字面匹配的段落，以下为意思相近的段落。"


def term_list(terms: Iterable[str], limit: int = 3) -> str:
    """信访、积案 (at most `limit` names, then 等)."""
    terms = list(dict.fromkeys(terms))
    return "、".join(terms[:limit]) + ("等" if len(terms) > limit else "")


def no_literal_note(total: int, official: dict[int, tuple[str, ...]]) -> str:
    """What a result list without a literal match says about the hits it does have (`official`: each
    official-term hit's terms)."""
    if not official:
        return NO_LITERAL_MATCH
    terms = term_list(t for found in official.values() for t in found)
    if len(official) >= total:
        return f"没有字面匹配的段落，以下为含对应公文用语（{terms}）的段落。"
    return f"没有字面匹配的段落；{len(official)} 条含对应公文用语（{terms}），其余为意思相近的段落。"


# How the edges (web pages, exports, CLI) name a hit's match kind.
MATCH_LABELS = {MATCH_LITERAL: "字面匹配", MATCH_OFFICIAL: "按公文用语匹配", MATCH_SEMANTIC: "意思相近"}
MATCH_TITLES = {
    MATCH_LITERAL: "段落中有检索词",
    MATCH_OFFICIAL: "段落中没有检索词，有它对应的公文用语（口语→公文对照，或本语料中意思最近的用语）",
    MATCH_SEMANTIC: "段落中没有检索词，按意思找到",
}


def match_label(hit: Hit) -> str:
    """字面匹配 / 按公文用语匹配：信访 / 意思相近."""
    label = MATCH_LABELS.get(hit.match, hit.match)
    if hit.match == MATCH_OFFICIAL and hit.official_terms:
        label += "：" + term_list(hit.official_terms)
    return label
