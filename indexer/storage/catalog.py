"""The catalog: one SQLite file per generation, the source of truth for documents and chunks.

Whoosh and FAISS hold only chunk ids (plus what they need to match); everything shown to a user comes
from here. A published generation is never written again, so readers open it immutable (no locking).
"""
from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

import numpy as np

from indexer.core.document import Chunk, Document, Paragraph, SectionKind
from indexer.core.facets import UNKNOWN
from indexer.core.filters import Filters
from indexer.storage.catalog_rows import (  # noqa: F401  (rows re-exported)
    DOC_COLUMNS, FIGURE_COLUMNS, SCHEMA, ChunkRow, DocRow, FigureRow, chunk_row, doc_row, encode_provenance,
)

T = TypeVar("T")


class Catalog:
    """Access to one generation's catalog file. Thread-safe: one connection per thread."""

    def __init__(self, path: Path, readonly: bool = True):
        self.path = Path(path)
        self.readonly = readonly
        self._local = threading.local()
        self._all_conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._doc_columns: str | None = None
        if not readonly:
            with self.connect() as conn:
                conn.executescript(SCHEMA)
                if "provenance" not in self._columns(conn, "documents"):  # a catalog from before issue 25
                    conn.execute("ALTER TABLE documents ADD COLUMN provenance TEXT NOT NULL DEFAULT ''")

    @staticmethod
    def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]

    def _doc_select(self) -> str:
        """DOC_COLUMNS as this file has them: an older published catalog (read-only) has no provenance."""
        if self._doc_columns is None:
            have = self._columns(self.connect(), "documents")
            self._doc_columns = DOC_COLUMNS if "provenance" in have else DOC_COLUMNS.replace(
                "provenance", "'' AS provenance")
        return self._doc_columns

    # -- connections ---------------------------------------------------------------------------
    def connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.readonly:
                uri = f"file:{self.path}?mode=ro&immutable=1"
                conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            else:
                conn = sqlite3.connect(self.path, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=DELETE")
                conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._conns_lock:
                self._all_conns.append(conn)
        return conn

    def set_durable(self, durable: bool) -> None:
        """Sync every commit to disk (default) or not, for this thread's connection.

        A generation being built is invisible until published and thrown away if the build dies, so the
        build turns syncing off for its thousands of per-document commits (an fsync each: 8 ms/chunk) and
        back on before its last write, whose commit then flushes the whole file (fsync is per file)."""
        self.connect().execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")

    def close(self) -> None:
        with self._conns_lock:
            for conn in self._all_conns:
                conn.close()
            self._all_conns.clear()
        self._local = threading.local()

    # -- info ----------------------------------------------------------------------------------
    def info(self) -> dict[str, str]:
        return dict(self.connect().execute("SELECT key, value FROM info").fetchall())

    def set_info(self, values: dict[str, object]) -> None:
        with self.connect() as conn:
            conn.executemany(
                "INSERT INTO info(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                [(k, str(v)) for k, v in values.items()],
            )

    # -- documents -----------------------------------------------------------------------------
    def documents(self) -> list[DocRow]:
        rows = self.connect().execute(
            f"SELECT {self._doc_select()} FROM documents ORDER BY path"
        )
        return [doc_row(r) for r in rows]

    def document(self, doc_id: str) -> DocRow | None:
        row = self.connect().execute(
            f"SELECT {self._doc_select()} FROM documents WHERE doc_id=?",
            (doc_id,),
        ).fetchone()
        return doc_row(row) if row else None

    def documents_by_id(self, doc_ids: Iterable[str]) -> dict[str, DocRow]:
        return self._rows_where_in(
            f"SELECT {self._doc_select()} FROM documents WHERE doc_id IN", list(set(doc_ids)), doc_row)

    def _rows_where_in(self, select: str, keys: list, make: Callable[[tuple], T]) -> dict:
        """key -> make(row) for the rows of `select` (ending in "... IN") whose first column is in `keys`,
        queried in batches that stay under SQLite's bound-parameter limit."""
        out: dict = {}
        for batch in _batches(keys, 500):
            for r in self.connect().execute(f"{select} ({','.join('?' * len(batch))})", batch):
                out[r[0]] = make(r)
        return out

    def paragraphs(self, doc_id: str) -> list[Paragraph]:
        row = self.connect().execute("SELECT paragraphs FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        if row is None:
            raise KeyError(doc_id)
        return [
            Paragraph(
                index=p["index"],
                text=p["text"],
                is_heading=p["is_heading"],
                heading_level=p["heading_level"],
                heading_path=tuple(p["heading_path"]),
                section_kind=SectionKind(p["section_kind"]),
            )
            for p in json.loads(row[0])
        ]

    def aliases(self) -> dict[str, tuple[str, int, int]]:
        """path -> (doc_id, size, mtime_ns) for duplicate files indexed under another name."""
        rows = self.connect().execute("SELECT path, doc_id, size, mtime_ns FROM aliases")
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def aliases_of(self, doc_id: str) -> list[str]:
        rows = self.connect().execute("SELECT path FROM aliases WHERE doc_id=? ORDER BY path", (doc_id,))
        return [r[0] for r in rows]

    def put_document(
        self, doc_id: str, doc: Document, size: int, mtime_ns: int, overrides: str, indexed_at: str
    ) -> None:
        m = doc.meta
        paragraphs = json.dumps(
            [
                {
                    "index": p.index,
                    "text": p.text,
                    "is_heading": p.is_heading,
                    "heading_level": p.heading_level,
                    "heading_path": list(p.heading_path),
                    "section_kind": p.section_kind.value,
                }
                for p in doc.paragraphs
            ],
            ensure_ascii=False,
        )
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO documents(doc_id, path, fmt, content_hash, size, mtime_ns, overrides, title, place,"
                " level, region, year, date, paragraphs, indexed_at, provenance)"
                " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(doc_id) DO UPDATE SET path=excluded.path, fmt=excluded.fmt,"
                " content_hash=excluded.content_hash, size=excluded.size, mtime_ns=excluded.mtime_ns,"
                " overrides=excluded.overrides, title=excluded.title, place=excluded.place,"
                " level=excluded.level, region=excluded.region, year=excluded.year, date=excluded.date,"
                " paragraphs=excluded.paragraphs, indexed_at=excluded.indexed_at, provenance=excluded.provenance",
                (doc_id, doc.path, doc.fmt, doc.content_hash, size, mtime_ns, overrides, m.title, m.place,
                 m.level, m.region, m.year, m.date, paragraphs, indexed_at, encode_provenance(m.provenance)),
            )

    def move_document(self, doc_id: str, new_path: str, size: int, mtime_ns: int) -> None:
        with self.connect() as conn:
            conn.execute(
                "UPDATE documents SET path=?, size=?, mtime_ns=? WHERE doc_id=?", (new_path, size, mtime_ns, doc_id)
            )

    def touch_document(self, doc_id: str, size: int, mtime_ns: int) -> None:
        with self.connect() as conn:
            conn.execute("UPDATE documents SET size=?, mtime_ns=? WHERE doc_id=?", (size, mtime_ns, doc_id))

    def delete_document(self, doc_id: str) -> list[int]:
        """Remove a document with its chunks and aliases; return the removed chunk ids."""
        with self.connect() as conn:
            ids = [r[0] for r in conn.execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,))]
            conn.executemany("DELETE FROM word_offsets WHERE chunk_id=?", [(i,) for i in ids])
            _delete_figures(conn, ids)
            conn.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
            conn.execute("DELETE FROM aliases WHERE doc_id=?", (doc_id,))
            conn.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
        return ids

    def copy_document_from(self, other: "Catalog", path: str) -> str | None:
        """Copy one document (by path) with its chunks from another generation's catalog."""
        src = other.connect()
        # by name: the other catalog may be older and lack a column (provenance) this one has
        names = [c for c in self._columns(src, "documents") if c in self._columns(self.connect(), "documents")]
        row = src.execute(f"SELECT {', '.join(names)} FROM documents WHERE path=?", (path,)).fetchone()
        if row is None:
            return None
        chunks = src.execute("SELECT * FROM chunks WHERE doc_id=?", (row[0],)).fetchall()
        with self.connect() as conn:
            conn.execute(f"INSERT OR REPLACE INTO documents({', '.join(names)}) VALUES({','.join('?' * len(row))})",
                         row)
            if chunks:
                conn.executemany(f"INSERT OR REPLACE INTO chunks VALUES({','.join('?' * len(chunks[0]))})", chunks)
        return row[0]

    def set_aliases(self, aliases: dict[str, tuple[str, int, int]]) -> None:
        with self.connect() as conn:
            conn.execute("DELETE FROM aliases")
            conn.executemany(
                "INSERT INTO aliases(path, doc_id, size, mtime_ns) VALUES(?,?,?,?)",
                [(p, d, s, m) for p, (d, s, m) in aliases.items()],
            )

    # -- chunks --------------------------------------------------------------------------------
    def replace_chunks(self, doc_id: str, chunks: Sequence[Chunk]) -> tuple[list[int], list[int]]:
        """Make `chunks` the document's chunks; return (removed ids, added ids)."""
        with self.connect() as conn:
            old = {r[0] for r in conn.execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,))}
            new = {c.chunk_id for c in chunks}
            conn.executemany("DELETE FROM word_offsets WHERE chunk_id=?", [(i,) for i in old - new])
            _delete_figures(conn, old - new)
            conn.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
            conn.executemany(
                "INSERT INTO chunks(chunk_id, doc_id, paragraph_index, part, text, heading_path, section_kind)"
                " VALUES(?,?,?,?,?,?,?)",
                [
                    (c.chunk_id, doc_id, c.paragraph_index, c.part, c.text,
                     json.dumps(list(c.heading_path), ensure_ascii=False), c.section_kind.value)
                    for c in chunks
                ],
            )
        return sorted(old - new), sorted(new - old)

    def facet_rows(self) -> tuple[list[tuple], list[tuple]]:
        """What the search's in-memory columns hold: (doc_id, place, level, region, year) of every document
        by doc_id, and (chunk_id, doc_id, section_kind, dup_group) of every chunk by chunk_id."""
        conn = self.connect()
        docs = conn.execute("SELECT doc_id, place, level, region, year FROM documents ORDER BY doc_id").fetchall()
        chunks = conn.execute("SELECT chunk_id, doc_id, section_kind, dup_group FROM chunks ORDER BY chunk_id").fetchall()
        return docs, chunks

    def chunk_ids(self) -> np.ndarray:
        rows = self.connect().execute("SELECT chunk_id FROM chunks ORDER BY chunk_id").fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def chunk_count(self) -> int:
        return self.connect().execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def document_count(self) -> int:
        return self.connect().execute("SELECT COUNT(*) FROM documents").fetchone()[0]

    def chunks_by_id(self, ids: Iterable[int]) -> dict[int, ChunkRow]:
        return self._rows_where_in(
            "SELECT chunk_id, doc_id, paragraph_index, part, text, heading_path, section_kind, dup_group"
            " FROM chunks WHERE chunk_id IN", [int(i) for i in ids], chunk_row)

    def chunks_of(self, doc_id: str) -> list[ChunkRow]:
        rows = self.connect().execute(
            "SELECT chunk_id, doc_id, paragraph_index, part, text, heading_path, section_kind, dup_group"
            " FROM chunks WHERE doc_id=? ORDER BY paragraph_index, part",
            (doc_id,),
        )
        return [chunk_row(r) for r in rows]

    def iter_chunks(self, batch: int = 2000) -> Iterator[ChunkRow]:
        cur = self.connect().execute(
            "SELECT chunk_id, doc_id, paragraph_index, part, text, heading_path, section_kind, dup_group"
            " FROM chunks ORDER BY chunk_id"
        )
        while rows := cur.fetchmany(batch):
            yield from (chunk_row(r) for r in rows)

    # -- word offsets (query-time highlighting without tokenizing) --------------------------------
    def chunks_without_word_offsets(self, batch: int = 2000) -> Iterator[list[tuple[int, str]]]:
        """(chunk_id, text) of chunks whose word offsets are not stored yet, in batches."""
        cur = self.connect().execute(
            "SELECT c.chunk_id, c.text FROM chunks c LEFT JOIN word_offsets w ON w.chunk_id = c.chunk_id"
            " WHERE w.chunk_id IS NULL ORDER BY c.chunk_id"
        )
        while rows := cur.fetchmany(batch):
            yield rows

    def put_word_offsets(self, offsets: Iterable[tuple[int, bytes | None]]) -> None:
        with self.connect() as conn:
            conn.executemany("INSERT OR REPLACE INTO word_offsets(chunk_id, offsets) VALUES(?, ?)", offsets)

    def word_offsets(self, ids: Iterable[int]) -> dict[int, bytes]:
        """chunk_id -> packed offsets for the given chunks that have them (none in catalogs written before
        the table existed: callers then tokenize)."""
        out: dict[int, bytes] = {}
        try:
            for batch in _batches(list({int(i) for i in ids}), 500):
                marks = ",".join("?" * len(batch))
                out.update(self.connect().execute(
                    f"SELECT chunk_id, offsets FROM word_offsets WHERE chunk_id IN ({marks}) AND offsets IS NOT NULL",
                    batch,
                ).fetchall())
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
        return out

    # -- figures (pipeline/figures: stored per chunk by the build, read by Searcher.figures) ----------------
    def chunks_without_figures(self, extractor: str, batch: int = 2000) -> Iterator[list[tuple[int, str]]]:
        """(chunk_id, text) of chunks whose figures are not stored yet, or were found by another extractor
        version, in batches. Chunk text never changes under an id, so stored figures stay valid otherwise."""
        cur = self.connect().execute(
            "SELECT c.chunk_id, c.text FROM chunks c LEFT JOIN figure_scans s ON s.chunk_id = c.chunk_id"
            " WHERE s.chunk_id IS NULL OR s.extractor <> ? ORDER BY c.chunk_id", (extractor,)
        )
        while rows := cur.fetchmany(batch):
            yield rows

    def put_figures(self, scanned: Sequence[int], figures: Iterable[FigureRow], extractor: str) -> None:
        """Make `figures` the stored figures of the `scanned` chunks (a chunk without any is stored as scanned)."""
        with self.connect() as conn:
            _delete_figures(conn, scanned)
            conn.executemany(f"INSERT INTO figures({FIGURE_COLUMNS}) VALUES({','.join('?' * 12)})",
                             [dataclasses.astuple(f) for f in figures])
            conn.executemany("INSERT INTO figure_scans(chunk_id, extractor) VALUES(?, ?)",
                             [(int(i), extractor) for i in scanned])

    def drop_orphan_figures(self) -> None:
        """Figures of chunks that are gone (removed by a path that does not know about figures)."""
        with self.connect() as conn:
            conn.execute("DELETE FROM figures WHERE chunk_id NOT IN (SELECT chunk_id FROM chunks)")
            conn.execute("DELETE FROM figure_scans WHERE chunk_id NOT IN (SELECT chunk_id FROM chunks)")

    def figures(self, ids: Iterable[int]) -> dict[int, list[FigureRow]] | None:
        """chunk_id -> its figures in text order, for the given chunks that have any; None for a catalog
        written before figures were stored (the reader then extracts them itself)."""
        where = "WHERE chunk_id IN ({marks})"
        return self._figure_rows(where, [list(b) for b in _batches(sorted({int(i) for i in ids}), 500)])

    def all_figures(self) -> dict[int, list[FigureRow]] | None:
        """Every stored figure, as `figures` gives those of some chunks (a generation's whole table: the local
        engine keeps it as columns, engines/figure_columns.py); None for a catalog written before figures were."""
        return self._figure_rows("", [[]])

    def _figure_rows(self, where: str, batches: list[list[int]]) -> dict[int, list[FigureRow]] | None:
        out: dict[int, list[FigureRow]] = {}
        try:
            for batch in batches:
                condition = where.format(marks=",".join("?" * len(batch)))
                for r in self.connect().execute(
                        f"SELECT {FIGURE_COLUMNS} FROM figures {condition} ORDER BY chunk_id, seq", batch):
                    out.setdefault(r[0], []).append(FigureRow(*r))
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
            return None
        return out

    # -- measure vectors (the figures' measures embedded at build time, read by search/figures.py) ------------
    def measures_without_vectors(self, model: str) -> list[str]:
        """The distinct measures of the stored figures that have no vector of this model yet."""
        return [r[0] for r in self.connect().execute(
            "SELECT DISTINCT f.measure FROM figures f WHERE f.measure <> '' AND NOT EXISTS (SELECT 1 FROM"
            " measure_vectors v WHERE v.model = ? AND v.measure = f.measure) ORDER BY f.measure", (model,))]

    def put_measure_vectors(self, model: str, measures: Sequence[str], vectors: np.ndarray) -> None:
        """Store these measures' vectors, and drop those of another model or of a measure no figure has any more
        (the table stays the generation's distinct measures; a dropped one costs nothing if it comes back: the
        embedding cache still has it)."""
        with self.connect() as conn:
            conn.executemany("INSERT OR REPLACE INTO measure_vectors(model, measure, vector) VALUES(?, ?, ?)",
                             [(model, m, np.asarray(v, dtype=np.float32).tobytes())
                              for m, v in zip(measures, vectors)])
            conn.execute("DELETE FROM measure_vectors WHERE model <> ? OR measure NOT IN"
                         " (SELECT DISTINCT measure FROM figures)", (model,))

    def measure_vectors(self, model: str, measures: Iterable[str]) -> dict[str, np.ndarray]:
        """measure -> its stored vector of this model, for those stored (none in a catalog written before
        measure vectors were)."""
        out: dict[str, np.ndarray] = {}
        try:
            for batch in _batches(sorted(set(measures)), 500):
                for m, blob in self.connect().execute(
                        f"SELECT measure, vector FROM measure_vectors WHERE model = ? AND measure IN"
                        f" ({','.join('?' * len(batch))})", [model, *batch]):
                    out[m] = np.frombuffer(blob, dtype=np.float32)
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
        return out

    def dup_members(self, groups: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
        """group -> [(chunk_id, doc_id)] for the given duplicate groups."""
        out: dict[int, list[tuple[int, str]]] = {}
        for batch in _batches(list(set(groups)), 500):
            marks = ",".join("?" * len(batch))
            for gid, cid, did in self.connect().execute(
                f"SELECT dup_group, chunk_id, doc_id FROM chunks WHERE dup_group IN ({marks}) ORDER BY chunk_id",
                batch,
            ):
                out.setdefault(gid, []).append((cid, did))
        return out

    def minhash_signatures(self) -> dict[int, bytes]:
        """Near-duplicate signatures kept from earlier runs (chunk text never changes under an id)."""
        return dict(self.connect().execute("SELECT chunk_id, sig FROM minhash").fetchall())

    def put_minhash_signatures(self, signatures: dict[int, bytes]) -> None:
        """Store new signatures and drop those of chunks that are gone."""
        with self.connect() as conn:
            conn.executemany("INSERT OR REPLACE INTO minhash(chunk_id, sig) VALUES(?, ?)", signatures.items())
            conn.execute("DELETE FROM minhash WHERE chunk_id NOT IN (SELECT chunk_id FROM chunks)")

    def set_dup_groups(self, groups: dict[int, int]) -> None:
        """chunk_id -> group id; every other chunk's group is cleared."""
        with self.connect() as conn:
            conn.execute("UPDATE chunks SET dup_group=NULL WHERE dup_group IS NOT NULL")
            conn.executemany("UPDATE chunks SET dup_group=? WHERE chunk_id=?", [(g, c) for c, g in groups.items()])

    # -- filters and facets --------------------------------------------------------------------
    def facet_values(self, ids: Sequence[int] | None = None, filters: Filters | None = None) -> dict[str, list[tuple[str, int]]]:
        """Counts of chunks per facet value, over `ids` (or every chunk passing `filters`)."""
        conn = self.connect()
        if ids is not None:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS facet_ids(id INTEGER PRIMARY KEY)")
            conn.execute("DELETE FROM facet_ids")
            conn.executemany("INSERT OR IGNORE INTO facet_ids(id) VALUES(?)", [(int(i),) for i in ids])
            source = "chunks c JOIN facet_ids f ON f.id=c.chunk_id JOIN documents d ON d.doc_id=c.doc_id"
            where, params = "1", []
        else:
            source = "chunks c JOIN documents d ON d.doc_id=c.doc_id"
            where, params = _filter_sql(filters or Filters())
        columns = {"place": "d.place", "level": "d.level", "region": "d.region", "year": "d.year",
                   "kind": "c.section_kind"}
        out: dict[str, list[tuple[str, int]]] = {}
        for name, column in columns.items():
            # a document field without a value counts as UNKNOWN (a value of its own); a chunk's kind always has one
            value = column if name == "kind" else f"COALESCE(NULLIF(CAST({column} AS TEXT), ''), '{UNKNOWN}')"
            rows = conn.execute(
                f"SELECT {value} AS v, COUNT(*) AS n FROM {source} WHERE {where}"
                f" GROUP BY v ORDER BY n DESC, v",
                params,
            ).fetchall()
            out[name] = [(str(v), n) for v, n in rows]
        return out


def _filter_sql(filters: Filters) -> tuple[str, list]:
    clauses, params = ["1"], []
    for column, values in (
        ("d.place", filters.place), ("d.level", filters.level), ("d.region", filters.region),
        ("d.year", filters.year), ("c.section_kind", filters.kind),
    ):
        if values:
            known = [v for v in values if v != UNKNOWN]
            alternatives = [f"{column} IN ({','.join('?' * len(known))})"] if known else []
            if len(known) < len(values):
                alternatives.append(f"{column} IS NULL OR {column} = ''")
            clauses.append("(" + " OR ".join(alternatives) + ")")
            params.extend(known)
    return " AND ".join(clauses), params


def _delete_figures(conn: sqlite3.Connection, ids: Iterable[int]) -> None:
    keys = [(int(i),) for i in ids]
    conn.executemany("DELETE FROM figures WHERE chunk_id=?", keys)
    conn.executemany("DELETE FROM figure_scans WHERE chunk_id=?", keys)


def _batches(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
