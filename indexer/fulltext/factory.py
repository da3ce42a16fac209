"""Choose the full-text backend for a configuration (Whoosh today; a server backend can slot in here)."""
from __future__ import annotations

from pathlib import Path

from indexer.config import Config
from indexer.fulltext.base import AnalyzerConfig, FullTextIndex


def _backend() -> type[FullTextIndex]:
    from indexer.fulltext.whoosh_index import WhooshIndex

    return WhooshIndex


def create_fulltext(directory: Path, config: Config) -> FullTextIndex:
    return _backend().create(directory, AnalyzerConfig(user_dict=config.user_dict))


def open_fulltext(directory: Path, config: Config) -> FullTextIndex:
    return _backend().open(directory)


def clone_fulltext(src: Path, dst: Path) -> None:
    _backend().clone(src, dst)
