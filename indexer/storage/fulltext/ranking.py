"""How both full-text backends rank and filter: one definition, because ranking parity between Whoosh and
tantivy is a contract (tests/quick/test_fulltext_backends.py runs the same assertions on both).

A backend imports these names into its own module (`from indexer.storage.fulltext.ranking import ...`), so a lab
script can still try other values on one backend by assigning the module attribute."""
from __future__ import annotations

from indexer.core.facets import FACET_FIELDS

CONTEXT_BOOST = 0.3  # a word in the headings/title counts less than one in the text itself
ALL_TERMS_BONUS = 0.5  # chunks matching every plain word get this share of their score on top
PHRASE_GRAMS_BOOST = 0.2  # the exact-phrase match decides *whether*; the words mostly decide the rank
# Weight of the exact string around a lone character (Terms.glued: 城关乡 for 城关 + 乡): it stands in for
# the lone character, and puts chunks with the whole string above those with 城关 alone.
GLUED_BOOST = 0.5
# Exact-match fields the index stores for Filters: the facet fields.
FILTER_FIELDS = FACET_FIELDS
