"""Filters on document/chunk metadata, shared by every retriever."""
from __future__ import annotations

from dataclasses import dataclass

from indexer.core.facets import FACET_FIELDS


@dataclass(frozen=True)
class Filters:
    """Each list is OR-ed within itself; different fields are AND-ed. Empty means no restriction.
    The fields are exactly `facets.FACET_FIELDS` (tests/quick/test_architecture.py checks it)."""

    place: tuple[str, ...] = ()
    level: tuple[str, ...] = ()
    region: tuple[str, ...] = ()
    year: tuple[int | str, ...] = ()  # a year, or facets.UNKNOWN
    kind: tuple[str, ...] = ()  # SectionKind values, e.g. "存在问题"

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in FACET_FIELDS)
