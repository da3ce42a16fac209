"""File → Document: load, clean, structure and describe one report."""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Mapping

from indexer.pipeline.articles import join_articles
from indexer.pipeline.clean import clean_blocks, clean_text
from indexer.core.document import Block, Document, DocumentMeta, Paragraph
from indexer.pipeline.lines import TITLE_LEVEL
from indexer.pipeline.load import DEFAULT_LIMITS, LoadError, ReadLimits, load_file
from indexer.pipeline.metadata import extract_metadata
from indexer.pipeline.structure import build_paragraphs
from indexer.pipeline.title import find_title

log = logging.getLogger(__name__)

# Bump when cleaning/structure/metadata/chunking change output, so every document is re-parsed once.
PIPELINE_VERSION = "5"  # 2: HTML titles from the article headline (issue 11); 3: gazetteer places, provenance
# (issue 25) and plain-text titles (issue 31); 4: a statute article's lines are one paragraph (issue 31); 5: a
# village committee's signature or a seal mark is not the last article's text

_META_FIELDS = {f.name for f in dataclasses.fields(DocumentMeta)}


def parse_file(
    path: Path, rel_path: str, max_bytes: int, overrides: Mapping[str, str] | None = None,
    max_chars: int | None = None, max_paragraphs: int | None = None, max_unpacked: int | None = None,
    pdf_memory: int | None = None, pdf_seconds: float | None = None,
) -> Document:
    """Read and structure one file; raise LoadError (naming the file) when it has no usable text, or more
    text than `max_chars` / `max_paragraphs` allow (a 50 MB text dump would embed for hours)."""
    limits = ReadLimits(unpacked_bytes=max_unpacked or DEFAULT_LIMITS.unpacked_bytes,
                        paragraphs=max_paragraphs or DEFAULT_LIMITS.paragraphs,
                        chars=max_chars or DEFAULT_LIMITS.chars,
                        pdf_memory_bytes=DEFAULT_LIMITS.pdf_memory_bytes if pdf_memory is None else pdf_memory,
                        pdf_seconds=pdf_seconds or DEFAULT_LIMITS.pdf_seconds)
    raw = load_file(path, rel_path, max_bytes, limits)
    if max_chars is not None:
        chars = sum(len(b.text) for b in raw.blocks)
        if chars > max_chars:
            raise LoadError(rel_path, f"too much text: {chars:,} characters > limit {max_chars:,} "
                                      "(setting max_file_chars)")
    blocks = join_articles(clean_blocks(raw.blocks))
    paragraphs = build_paragraphs(blocks)
    if max_paragraphs is not None and len(paragraphs) > max_paragraphs:
        raise LoadError(rel_path, f"too many paragraphs: {len(paragraphs):,} > limit {max_paragraphs:,} "
                                  "(setting max_file_paragraphs)")
    if not paragraphs:
        raise LoadError(rel_path, "no text found in file")
    if all(p.is_heading for p in paragraphs):
        raise LoadError(rel_path, "only headings, no paragraphs of text")
    if not _has_title(paragraphs):
        log.info("%s: no title line: %s", rel_path, _untitled_reason(raw.blocks))
    meta = extract_metadata(raw, paragraphs)
    if overrides:
        meta = apply_overrides(meta, overrides)
    return Document(path=rel_path, fmt=raw.fmt, content_hash=raw.content_hash, meta=meta, paragraphs=paragraphs)


def _has_title(paragraphs: list[Paragraph]) -> bool:
    return bool(paragraphs) and paragraphs[0].is_heading and paragraphs[0].heading_level == TITLE_LEVEL


def _untitled_reason(blocks: list[Block]) -> str:
    """Why the first line is not a title (a section heading, a sentence, ...), as cleaning decided it."""
    return find_title([dataclasses.replace(b, text=clean_text(b.text)) for b in blocks]).reason


def apply_overrides(meta: DocumentMeta, overrides: Mapping[str, str]) -> DocumentMeta:
    """Sidecar values win over extraction; blank values leave the extracted one."""
    changes: dict[str, object] = {}
    provenance = dict(meta.provenance)
    for key, value in overrides.items():
        if key not in _META_FIELDS or key == "provenance" or value in ("", None):
            continue
        changes[key] = int(value) if key == "year" else str(value)
        provenance[key] = "meta.csv/high"
    return dataclasses.replace(meta, **changes, provenance=provenance)
