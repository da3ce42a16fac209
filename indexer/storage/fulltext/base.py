"""The full-text index interface the rest of the code uses; the backends (whoosh_index, tantivy_index)
implement it and rank alike (ranking.py holds the weights both use).

Contract
--------
- One directory holds one index.  `create(directory, analyzer_config)` makes an empty one,
  `open(directory)` opens an existing one (raises FileNotFoundError if there is none).
- Writing (`add`, `delete`, `commit`) is done by one process at a time; nothing is visible to
  searches before `commit()`.  Adding a chunk_id that is already present replaces it.
- `search` may be called from many threads of one process at once; it returns
  `(chunk_id, score)` pairs, best first, at most `limit` of them, and loads no stored text.
  `match_ids` returns every matching chunk, without scores.
- `clone(src, dst)` makes `dst` a new index with the same content as `src`, sharing unchanged
  files where the backend allows (hard links).  Writing to `dst` never changes what `src` answers,
  so a new generation can be built from the previous one while the old one is being searched.
- The analyzer used by the query side (`indexer.core.analysis.default_analyzer()`, configured
  from `Config.analysis.user_dict`) must be the one the index was built with: after a change of the user
  dictionary, rebuild the index from scratch (`AnalyzerConfig` is recorded in the index; see
  `FullTextIndex.analyzer_config`).
"""
from __future__ import annotations

import os
import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from indexer.core.config import RankingSettings
from indexer.core.facets import DOC_FACET_FIELDS, FACET_FIELDS, UNKNOWN
from indexer.core.filters import Filters
from indexer.core.querytree import ParsedQuery


@dataclass(frozen=True)
class AnalyzerConfig:
    user_dict: Path | None = None  # Config.analysis.user_dict
    subwords: bool = True  # index dictionary sub-words of long words at the long word's position


@dataclass(frozen=True)
class FullTextRecord:
    """One chunk as the full-text index sees it."""

    chunk_id: int
    doc_id: str
    text: str  # the chunk's shown text (weighted most)
    title: str
    heading_path: str  # headings joined with indexer.core.document.HEADING_SEPARATOR
    place: str = ""
    level: str = ""
    region: str = ""
    year: int | None = None
    kind: str = ""  # SectionKind value

    @property
    def context(self) -> str:
        """What the `context` field holds (weighted below the text): the heading path and the title."""
        return f"{self.heading_path}\n{self.title}"

    def filter_values(self) -> dict[str, str]:
        """The facet values as the index stores them for Filters: text; a document's missing value as UNKNOWN
        (未知), so `place=未知` finds the reports without a place."""
        values = {name: getattr(self, name) for name in FACET_FIELDS}
        return {name: UNKNOWN if v is None or v == "" else str(v) for name, v in values.items()
                if name in DOC_FACET_FIELDS or v not in (None, "")}


def link_files(src: Path, dst: Path, private: Callable[[str], bool]) -> None:
    """`clone`'s copy for a backend that never changes a file once written: `dst` (created; must not exist)
    gets a hard link to every file of `src` (a copy where links are not possible), except the files
    `private(name)` names -- the ones a writer opens in place, never to be shared."""
    dst.mkdir(parents=True, exist_ok=False)
    for entry in os.scandir(src):
        if not entry.is_file() or private(entry.name):
            continue
        try:
            os.link(entry.path, dst / entry.name)
        except OSError:  # another file system, or links not supported
            shutil.copy2(entry.path, dst / entry.name)


class FullTextIndex(ABC):
    """A keyword (BM25) index of chunks. `weights` score its queries (open_fulltext sets the configured ones)."""

    weights: RankingSettings = RankingSettings()

    @classmethod
    @abstractmethod
    def create(cls, directory: Path, analyzer_config: AnalyzerConfig = AnalyzerConfig()) -> "FullTextIndex":
        """Create an empty index in `directory` (created if missing; must not hold an index)."""

    @classmethod
    @abstractmethod
    def open(cls, directory: Path) -> "FullTextIndex":
        """Open the index in `directory` for searching and writing."""

    @classmethod
    @abstractmethod
    def clone(cls, src: Path, dst: Path) -> None:
        """Make `dst` (must not exist) an independent copy of the committed index in `src`."""

    @property
    @abstractmethod
    def analyzer_config(self) -> AnalyzerConfig:
        """The analyzer configuration the index was created with."""

    @abstractmethod
    def add(self, records: Iterable[FullTextRecord]) -> int:
        """Stage records (replacing any with the same chunk_id); returns how many were staged."""

    @abstractmethod
    def delete(self, chunk_ids: Iterable[int]) -> None:
        """Stage removal of these chunks (unknown ids are ignored)."""

    @abstractmethod
    def commit(self) -> None:
        """Make staged changes durable and visible to searches."""

    @abstractmethod
    def count(self) -> int:
        """Number of committed chunks."""

    @abstractmethod
    def search(self, query: ParsedQuery, limit: int, filters: Filters = Filters()) -> list[tuple[int, float]]:
        """Best-first (chunk_id, score) pairs for the query, restricted by the filters."""

    @abstractmethod
    def match_ids(self, query: ParsedQuery, filters: Filters = Filters()) -> list[int]:
        """Every chunk that matches the query (restricted by the filters), unordered and unscored: exact,
        not a top k (counts, facets and per-place lists of literal matches are built from it)."""

    @abstractmethod
    def close(self) -> None:
        """Release files and searchers; uncommitted changes are discarded."""

    def __enter__(self) -> "FullTextIndex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
