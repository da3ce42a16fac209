"""How every engine ranks and filters: one definition, because ranking parity between Whoosh and tantivy is a
contract (tests/test_fulltext_backends.py runs the same assertions on both) and Milvus adds the same all-words
bonus.

The engines read these names from this module when they build a query (`ranking.CONTEXT_BOOST`, or through
`ScoringReader`), so a lab script can try other values for all of them by assigning the module attribute."""
from __future__ import annotations

from indexer.core.facets import FACET_FIELDS
from indexer.core.querytree import Q, QueryReader

CONTEXT_BOOST = 0.3  # a word in the headings/title counts less than one in the text itself
ALL_TERMS_BONUS = 0.5  # chunks matching every plain word get this share of their score on top
PHRASE_GRAMS_BOOST = 0.2  # the exact-phrase match decides *whether*; the words mostly decide the rank
# Weight of the exact string around a lone character (Terms.glued: 城关乡 for 城关 + 乡): it stands in for
# the lone character, and puts chunks with the whole string above those with 城关 alone.
GLUED_BOOST = 0.5
# Exact-match fields the index stores for Filters: the facet fields.
FILTER_FIELDS = FACET_FIELDS


class ScoringReader(QueryReader[Q]):
    """A reader of the query tree that scores (core/querytree.py says what each node means): the weights above."""

    @property
    def all_terms_bonus(self) -> float:
        return ALL_TERMS_BONUS

    @property
    def glued_boost(self) -> float:
        return GLUED_BOOST

    @property
    def phrase_boost(self) -> float:
        return PHRASE_GRAMS_BOOST
