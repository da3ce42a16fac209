"""How every engine ranks and filters: one definition, because ranking parity between Whoosh and tantivy is a
contract (tests/quick/test_fulltext_backends.py runs the same assertions on both) and Milvus adds the same all-words
bonus.

The weights are settings (`[ranking]`, core/config.RankingSettings): an index or a Milvus snapshot is opened
with the configured ones and reads them through `ScoringReader` when it builds a query, so a lab tries other
values by configuration (`with_overrides({"ranking.context_boost": 0.2})`), never by patching this module."""
from __future__ import annotations

from indexer.core.config import RankingSettings
from indexer.core.facets import FACET_FIELDS
from indexer.core.querytree import Q, QueryReader

# Exact-match fields the index stores for Filters: the facet fields.
FILTER_FIELDS = FACET_FIELDS


class ScoringReader(QueryReader[Q]):
    """A reader of the query tree that scores (core/querytree.py says what each node means) with `weights`."""

    def __init__(self, weights: RankingSettings) -> None:
        self.weights = weights

    @property
    def all_terms_bonus(self) -> float:
        return self.weights.all_terms_bonus

    @property
    def glued_boost(self) -> float:
        return self.weights.glued_boost

    @property
    def phrase_boost(self) -> float:
        return self.weights.phrase_boost
