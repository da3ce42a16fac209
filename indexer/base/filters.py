"""Filters on document/chunk metadata, shared by every retriever."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Filters:
    """Each list is OR-ed within itself; different fields are AND-ed. Empty means no restriction."""

    place: tuple[str, ...] = ()
    level: tuple[str, ...] = ()
    region: tuple[str, ...] = ()
    year: tuple[int, ...] = ()
    kind: tuple[str, ...] = ()  # SectionKind values, e.g. "存在问题"

    def is_empty(self) -> bool:
        return not (self.place or self.level or self.region or self.year or self.kind)

    def as_dict(self) -> dict[str, list]:
        return {k: list(v) for k, v in self.__dict__.items() if v}
