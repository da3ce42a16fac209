"""The catalog's schema and the rows it hands out (documents and chunks), apart from the Catalog's
queries so that readers of rows need not import the SQL."""
from __future__ import annotations

import json
from dataclasses import dataclass

from indexer.core.document import DocumentMeta
from indexer.pipeline.figures import extract_figures

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    fmt TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    overrides TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL, place TEXT NOT NULL, level TEXT NOT NULL, region TEXT NOT NULL,
    year INTEGER, date TEXT NOT NULL,
    paragraphs TEXT NOT NULL,
    indexed_at TEXT NOT NULL,
    provenance TEXT NOT NULL DEFAULT ''   -- JSON {field: "source/sureness"} (DocumentMeta.provenance)
);
CREATE INDEX IF NOT EXISTS documents_hash ON documents(content_hash);
CREATE TABLE IF NOT EXISTS aliases (          -- identical files under other names: indexed once
    path TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    paragraph_index INTEGER NOT NULL,
    part INTEGER NOT NULL,
    text TEXT NOT NULL,
    heading_path TEXT NOT NULL,   -- JSON list
    section_kind TEXT NOT NULL,
    dup_group INTEGER              -- chunks with the same group id say the same thing (boilerplate)
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, paragraph_index, part);
CREATE INDEX IF NOT EXISTS chunks_dup ON chunks(dup_group);
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS minhash (chunk_id INTEGER PRIMARY KEY, sig BLOB NOT NULL);  -- dedup signatures
CREATE TABLE IF NOT EXISTS word_offsets (     -- the analyzer's word/sub-word offsets of each chunk's text
    chunk_id INTEGER PRIMARY KEY,
    offsets BLOB                               -- uint16 pairs (analysis.pack_word_offsets); NULL: too long
);
CREATE TABLE IF NOT EXISTS figures (          -- each chunk's quantified claims (pipeline/figures)
    chunk_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,                      -- order in the chunk's text
    as_written TEXT NOT NULL,                  -- the numeral as written: 2万余, 十余, 98
    value REAL NOT NULL,
    value_high REAL,                           -- upper end of a range
    qualifier TEXT NOT NULL,                   -- '' exact, 余 多 近 约 以上 超过 以下 左右 不足 range
    unit TEXT NOT NULL,
    measure TEXT NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL,                    -- of as_written in the chunk's text
    sentence_start INTEGER NOT NULL, sentence_end INTEGER NOT NULL,  -- of its sentence
    PRIMARY KEY (chunk_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS figure_scans (     -- chunks whose figures are stored (none found is stored too)
    chunk_id INTEGER PRIMARY KEY,
    extractor TEXT NOT NULL                    -- pipeline/figures EXTRACTOR_VERSION that found them
);
CREATE TABLE IF NOT EXISTS measure_vectors (  -- one embedding per distinct figure measure (the 数据 table's grouping)
    model TEXT NOT NULL,                       -- the embedding cache's model key (vectors/encoder.py cache_key)
    measure TEXT NOT NULL,
    vector BLOB NOT NULL,                      -- float32, L2-normalised, as Encoder.encode gives it
    PRIMARY KEY (model, measure)
) WITHOUT ROWID;
"""

@dataclass(frozen=True)
class DocRow:
    doc_id: str
    path: str
    fmt: str
    content_hash: str
    size: int
    mtime_ns: int
    overrides: str
    meta: DocumentMeta


@dataclass(frozen=True)
class ChunkRow:
    chunk_id: int
    doc_id: str
    paragraph_index: int
    part: int
    text: str
    heading_path: tuple[str, ...]
    section_kind: str
    dup_group: int | None


@dataclass(frozen=True)
class FigureRow:
    """One stored figure of a chunk (offsets into the chunk's text)."""

    chunk_id: int
    seq: int
    as_written: str
    value: float
    value_high: float | None
    qualifier: str
    unit: str
    measure: str
    start: int
    end: int
    sentence_start: int
    sentence_end: int


def figure_rows(chunk_id: int, text: str) -> list[FigureRow]:
    """The figures of one chunk's text, as stored (the build) or derived where none are stored (Milvus, a
    catalog written before figures were): the same rows either way."""
    return [FigureRow(chunk_id, seq, f.as_written, f.value, f.value_high, f.qualifier, f.unit, f.measure, f.start,
                      f.end, f.sentence_start, f.sentence_end) for seq, f in enumerate(extract_figures(text))]


FIGURE_COLUMNS = ("chunk_id, seq, as_written, value, value_high, qualifier, unit, measure, start, end,"
                  " sentence_start, sentence_end")


# The documents' columns a DocRow is made of, in doc_row's order.
DOC_COLUMNS = ("doc_id, path, fmt, content_hash, size, mtime_ns, overrides, title, place, level, region, year, date,"
               " provenance")


def doc_row(r: tuple) -> DocRow:
    return DocRow(
        doc_id=r[0], path=r[1], fmt=r[2], content_hash=r[3], size=r[4], mtime_ns=r[5], overrides=r[6],
        meta=DocumentMeta(title=r[7], place=r[8], level=r[9], region=r[10], year=r[11], date=r[12],
                          provenance=decode_provenance(r[13])),
    )


def encode_provenance(provenance: dict[str, str]) -> str:
    return json.dumps(provenance, ensure_ascii=False, sort_keys=True) if provenance else ""


def decode_provenance(text: str | None) -> dict[str, str]:
    """{} for a catalog written before provenance was recorded (or a damaged cell: provenance is a courtesy)."""
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def chunk_row(r: tuple) -> ChunkRow:
    return ChunkRow(
        chunk_id=r[0], doc_id=r[1], paragraph_index=r[2], part=r[3], text=r[4],
        heading_path=tuple(json.loads(r[5])), section_kind=r[6], dup_group=r[7],
    )
