"""The file layout of the index folder and of one generation: the one place their names are written.

    <index_dir>/CURRENT                  name of the published generation
    <index_dir>/index-report.json        the last indexing run's report
    <index_dir>/generations/g000007/     catalog.sqlite, fulltext/, vectors.faiss,
                                         sentence_vectors.npy + sentence_spans.npy (when sentence
                                         matching is on), terms.json + term_vectors.npy (when
                                         the bridge is on), MANIFEST.json, READY

A leaf module (no imports from the project) so that `generations`, `manifest`, `integrity`, the build
and the searcher can all use it without an import cycle."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

CURRENT = "CURRENT"
LOCK = "index.lock"  # held (flock) by the running indexer; holds its PID and start time
READY = "READY"
MANIFEST = "MANIFEST.json"
REPORT = "index-report.json"  # the last indexing run's report (build/report.py writes it)


@dataclass(frozen=True)
class GenerationLayout:
    """The files of one generation folder."""

    root: Path

    CATALOG: ClassVar[str] = "catalog.sqlite"
    FULLTEXT: ClassVar[str] = "fulltext"
    VECTORS: ClassVar[str] = "vectors.faiss"
    SENTENCE_VECTORS: ClassVar[str] = "sentence_vectors.npy"  # optional (vectors/sentence_vectors.py)
    SENTENCE_SPANS: ClassVar[str] = "sentence_spans.npy"
    TERMS: ClassVar[str] = "terms.json"  # optional: the corpus's official terms (vectors/term_table.py)
    TERM_VECTORS: ClassVar[str] = "term_vectors.npy"

    @property
    def catalog(self) -> Path:
        return self.root / self.CATALOG

    @property
    def fulltext(self) -> Path:
        return self.root / self.FULLTEXT

    @property
    def vectors(self) -> Path:
        return self.root / self.VECTORS

    @property
    def sentence_vectors(self) -> Path:
        return self.root / self.SENTENCE_VECTORS

    @property
    def sentence_spans(self) -> Path:
        return self.root / self.SENTENCE_SPANS

    @property
    def terms(self) -> Path:
        return self.root / self.TERMS

    @property
    def term_vectors(self) -> Path:
        return self.root / self.TERM_VECTORS

    @property
    def ready(self) -> Path:
        return self.root / READY

    @property
    def manifest(self) -> Path:
        return self.root / MANIFEST
