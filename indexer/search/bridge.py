"""The bridge learned from the corpus (issue 27, direction 2): a term looked up also finds the corpus's own
official terms nearest to it in meaning.

The hand lexicon (search/rewrite.py) covers what its writer thought of. The build stores every generation's
own vocabulary -- quoted slogans, named practices (…机制, …工作法), domain words (build/terms.py) -- with
vectors from the same model. A term a user looks up (养老诈骗, 宪法宣传) is compared with them by one matrix
product with the query vector the semantic side computes anyway, and the nearest (防养老诈骗, 国家宪法日)
join the keyword side at a lower weight; their hits are labelled with them, like the lexicon's official
terms (search/official.py).

Only for a term looked up (routing.QueryKind.LOOKUP): a short term and a short corpus term are compared like
with like. For questions and sentences the nearest terms were measured to pull the ranking off (practice
questions lost on both small sets, docs/evaluation.md): a sentence's vector is near many terms that only
share its words. Only in hybrid mode (search/retrieve.py): the query vector is there anyway, and keyword mode
stays what the user typed (with the lexicon's terms), without a model call.
"""
from __future__ import annotations

import numpy as np

from indexer.core.analysis import Analyzer, default_analyzer, is_stopword, normalize
from indexer.core.config import RewriteSettings
from indexer.core.querytree import ParsedQuery, Terms
from indexer.search.rewrite import is_plain
from indexer.search.routing import QueryKind, query_kind
from indexer.storage.vectors.term_table import TermTable

READ_PER_TERM = 20  # nearest terms read per term kept: most are skipped (in the query, or inside a kept one)


def wants_bridge(parsed: ParsedQuery, settings: RewriteSettings) -> bool:
    """Whether this query gets the bridge's terms (in hybrid mode)."""
    return settings.bridge_terms > 0 and is_plain(parsed) and query_kind(parsed) is QueryKind.LOOKUP


def bridge_terms(table: TermTable | None, vector: np.ndarray, parsed: ParsedQuery, settings: RewriteSettings,
                 skip: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The corpus terms the keyword side adds for this query: the nearest to its vector, at or above the
    floor, at most `bridge_terms`; none the query already holds (or whose words it typed), none inside an
    earlier one or holding it (大事不出乡 and 大事不出镇 are two terms, 枫桥 and 枫桥经验 one), none in `skip`
    (the lexicon's)."""
    if table is None or not wants_bridge(parsed, settings):
        return ()
    norm = normalize(parsed.text)
    typed = set(parsed.root.words) if isinstance(parsed.root, Terms) else set()
    analyzer = default_analyzer()
    out: list[str] = []
    for term, _ in table.nearest(vector, settings.bridge_floor, READ_PER_TERM * settings.bridge_terms):
        if term in norm or term in skip or any(term in t or t in term for t in out):
            continue
        # made of the typed words only (法治 政府 for 政府法治)? Only a term all of whose letters the query has
        # can be: only those are cut into words (a set test is far cheaper than jieba)
        if set(term) <= set(norm) and _only_typed(term, typed, analyzer):
            continue
        out.append(term)
        if len(out) >= settings.bridge_terms:
            break
    return tuple(out)


def _only_typed(term: str, typed: set[str], analyzer: Analyzer) -> bool:
    """Whether the term's words (function words aside) are all words the user typed."""
    words = {w for w in analyzer.words(term) if not is_stopword(w)}
    return not words or words <= typed
