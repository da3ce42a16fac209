"""The data that flows through the pipeline: load → clean → metadata → chunk → index.

Each stage takes the previous stage's type and returns the next one; nothing here does I/O.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum

# How a heading path is written as one line (the full-text context field, embedding input, CLI, web, exports).
HEADING_SEPARATOR = " › "


class Role(str, Enum):
    """What a block of text is, as far as the loader knows."""

    UNKNOWN = "unknown"  # plain text: the structure step decides
    HEADING = "heading"  # the format said so (docx heading style, <h2>)
    PARAGRAPH = "paragraph"
    TABLE_ROW = "table_row"


@dataclass
class Block:
    """One line/paragraph/table row as read from a file, before cleaning."""

    text: str
    role: Role = Role.UNKNOWN
    level: int | None = None  # heading level where the format gives one (0 = document title, 1 = top)
    # Set by loaders for page-layout formats: True when the block ends at a page break,
    # so the cleaner may rejoin it with the next one.
    page_break_after: bool = False


@dataclass
class RawDocument:
    """What a loader returns: the file's text as blocks, plus hints the format carries."""

    path: str  # relative to the corpus root, '/'-separated
    fmt: str  # "txt", "docx", "pdf", "html", "doc", "wps"
    blocks: list[Block]
    content_hash: str  # sha256 of the file's bytes
    hints: dict[str, str] = field(default_factory=dict)  # e.g. {"title": ..., "date": "2024-02-27"}


class SectionKind(str, Enum):
    PRACTICE = "做法与成效"
    PROBLEMS = "存在问题"
    PLANS = "下一步计划"
    OTHER = "其他"


@dataclass
class Paragraph:
    """A cleaned paragraph or heading of a document, in reading order."""

    index: int  # position among the document's paragraphs (headings included), 0-based
    text: str
    is_heading: bool = False
    heading_level: int | None = None
    heading_path: tuple[str, ...] = ()  # headings above this paragraph, outermost first
    section_kind: SectionKind = SectionKind.OTHER


@dataclass
class DocumentMeta:
    title: str = ""
    place: str = ""  # the reporting unit, e.g. 观音堂镇
    level: str = ""  # 乡 / 镇 / 街道 / 县 / 区 / 市 ... ; "" when unknown
    region: str = ""  # the higher-level region named in the text, e.g. 陕州区
    year: int | None = None  # the year reported on
    date: str = ""  # signing date, ISO yyyy-mm-dd, "" when absent
    # Where each field came from and how sure it is: {"place": "title/high", "region": "gazetteer/high",
    # "year": "text/medium", …}; sources meta.csv / title / text / path / date / gazetteer / hint. Not part of
    # equality: two extractions agreeing on the values agree.
    provenance: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass
class Document:
    """A cleaned, structured document with its metadata."""

    path: str
    fmt: str
    content_hash: str
    meta: DocumentMeta
    paragraphs: list[Paragraph]


@dataclass
class Chunk:
    """The unit that is indexed and returned: a paragraph or a sentence-aligned part of one."""

    chunk_id: int  # stable 63-bit id, shared by the catalog, Whoosh and FAISS
    doc_path: str
    paragraph_index: int
    part: int  # 0 for a whole paragraph; 0..n-1 for the parts of a split one
    text: str
    heading_path: tuple[str, ...]
    section_kind: SectionKind


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stable_chunk_id(doc_key: str, text: str, occurrence: int) -> int:
    """A 63-bit id that stays the same while the chunk's text (and its document) stay the same.

    `occurrence` separates identical texts inside one document. Positive so FAISS and SQLite agree.
    """
    digest = hashlib.blake2b(f"{doc_key}\x00{occurrence}\x00{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF
