"""Publishing a local generation to Milvus.

Where the per-file state lives: the indexer keeps building its local generation (catalog with per-file hashes
and sizes, chunking, dedup groups, the embedding cache and FAISS) exactly as for the local engine, and that
generation is the *plan and staging area*; this module then makes Milvus equal to it. Why: the change
detection, rename/alias handling, near-duplicate grouping and the never-half-built guarantees already exist
and are tested there; the local catalog is small (no vectors needed after the sync), so an indexing machine
keeps it; searchers on other machines need only Milvus.

- full (`sync(..., full=True)`, nothing published yet, another model/dimension or layout version): write a
  new pair of collections, then swap the alias atomically; the pair published before is kept (readers holding
  it finish their query), every other pair of ours — older ones, and the orphans of a killed rebuild — dropped.
- incremental: the diff is what Milvus *holds* against what the generation wants, row by row: every chunk row
  and every document's part 0 carry a hash of their whole content (text, metadata, vector), read back with
  Strong consistency. Rows whose hash differs are rewritten, rows the generation lacks deleted by primary key.
  Order: the changed documents' paragraph parts (new keys, invisible until part 0 names them), chunks, then
  each document's part 0 (its commit mark), then deletions. Whatever interrupts a run (kill -9, a lost
  server), the rows hold either the old or the new version, and the next plain run rewrites exactly the rows
  that still differ. A reader during the run sees a mix of old and new chunks (Milvus has no multi-row
  transaction); each row is always whole, and a new chunk whose document row is not written yet is shown
  with the metadata it carries itself (snapshot.py).
- a no-op: the documents collection's settings row holds a fingerprint of everything the last finished sync
  wrote (cleared before any write); when it equals the generation's and the row counts agree, Milvus is not
  read row by row.

Every VARCHAR is checked in UTF-8 bytes before it is written (a server counts `max_length` in bytes, Lite in
characters): a value too long stops the sync with `FieldTooLong`, one line naming the file and the field.

`REPORTSEARCH_PAUSE_AT=milvus-<stage>` pauses a run at a stage (chunks, documents, alias, drop) for the crash
tests (indexer/build/write.py `checkpoint`).
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from indexer.core.analysis import get_analyzer
from indexer.storage.catalog import Catalog, ChunkRow, DocRow
from indexer.storage.layout import GenerationLayout
from indexer.engines.milvus import facetcounts, gramcounts, schema
from indexer.engines.milvus.connection import MilvusUnavailable, is_connection_error, reason_of
from indexer.engines.milvus.tokens import text_grams, text_tokens
from indexer.storage.vectors.faiss_index import VectorIndex
from indexer.storage.vectors.sentence_vectors import SentenceVectors
from indexer.build.write import checkpoint

log = logging.getLogger(__name__)

BATCH = 256
PAGE = 4096
PREVIOUS_GRACE_S = 60.0  # how long the pair a rebuild replaced is kept for its readers (see _incremental)
STRONG = "Strong"  # the diff must see every write of the run before (Lite and servers default to Bounded)


class FieldTooLong(ValueError):
    """A value longer than its Milvus field allows, in UTF-8 bytes; one line naming the file and the field."""

    def __init__(self, path: str, field_name: str, size: int, limit: int):
        super().__init__(f"{path}: field {field_name} is {size:,} bytes in UTF-8, Milvus allows {limit:,}"
                         " (nothing was written for this run; shorten it or exclude the file)")
        self.path, self.field_name = path, field_name


@dataclass
class SyncReport:
    collection: str
    full: bool
    docs_upserted: int = 0
    docs_deleted: int = 0
    chunks_upserted: int = 0
    chunks_deleted: int = 0
    seconds: float = 0.0
    unchanged: bool = False  # the fingerprint said Milvus already holds this generation
    dropped: list[str] = field(default_factory=list)  # collections dropped (older pairs, orphans)
    notes: list[str] = field(default_factory=list)


def doc_record(row: DocRow, aliases: list[str]) -> str:
    m = row.meta
    return json.dumps({"doc_id": row.doc_id, "path": row.path, "fmt": row.fmt, "content_hash": row.content_hash,
                       "size": row.size, "mtime_ns": row.mtime_ns, "overrides": row.overrides,
                       "meta": {"title": m.title, "place": m.place, "level": m.level, "region": m.region,
                                "year": m.year, "date": m.date, "provenance": m.provenance},
                       "aliases": aliases}, ensure_ascii=False, sort_keys=True)


def iterate(client, collection: str, expr: str, fields: list[str], strong: bool = False,
            page: int = PAGE) -> Iterator[dict]:
    """Every row matching `expr` (query() alone stops at 16,384 rows); `strong`: see every finished write."""
    extra = {"consistency_level": STRONG} if strong else {}
    it = client.query_iterator(collection, batch_size=page, filter=expr, output_fields=fields, **extra)
    try:
        while True:
            page = it.next()
            if not page:
                return
            yield from page
    finally:
        it.close()


def _sha1(*parts: bytes | str) -> str:
    h = hashlib.sha1()
    for p in parts:
        h.update(p.encode("utf-8") if isinstance(p, str) else p)
        h.update(b"\x00")
    return h.hexdigest()


def _in_batches(write: Callable[[list[dict]], object], rows: Iterable[dict]) -> int:
    """`write` the rows BATCH at a time (they are built as they are read: one batch of vectors in memory);
    how many were written."""
    batch: list[dict] = []
    written = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            write(batch)
            written += len(batch)
            batch = []
    if batch:
        write(batch)
        written += len(batch)
    return written


def check_lengths(row: dict, limits: dict[str, int], path: str) -> None:
    """Raise FieldTooLong for the first VARCHAR of `row` over its limit in UTF-8 bytes."""
    for name, limit in limits.items():
        value = row.get(name)
        if isinstance(value, str) and len(value) * 4 > limit:  # cheap test first: 4 bytes per char at most
            size = len(value.encode("utf-8"))
            if size > limit:
                raise FieldTooLong(path, name, size, limit)


class GenerationSource:
    """What one local generation holds, read for the sync, with each row's hash."""

    def __init__(self, gen_path: Path, user_dict: Path | None = None):
        self.path = Path(gen_path)
        files = GenerationLayout(self.path)
        self.catalog = Catalog(files.catalog)
        self.info = self.catalog.info()
        self.vectors = VectorIndex.load(files.vectors)
        # Each chunk's sentence vectors go into its row, so a searcher without the indexer's embedding cache
        # re-scores by sentences without encoding them (a first hybrid query paid ~5.6 s for it, issue 28).
        self.sentences = SentenceVectors.load(files.sentence_vectors, files.sentence_spans)
        self.analyzer = get_analyzer(user_dict)
        self.docs = {d.doc_id: d for d in self.catalog.documents()}
        self._salt = f"{schema.SCHEMA_VERSION}|{self.info.get('analyzer', '')}"  # tokens depend on the analyzer
        self.gram_counts: Counter = Counter()  # bigram -> chunks written holding it (gramcounts.py)

    # -- documents
    def doc_rows(self, doc_id: str) -> list[dict]:
        """The document's parts, part 0 (metadata, commit mark) first; each carries the document's hash."""
        row = self.docs[doc_id]
        paragraphs = self.catalog.connect().execute(
            "SELECT paragraphs FROM documents WHERE doc_id=?", (doc_id,)).fetchone()[0] or "[]"
        record = doc_record(row, self.catalog.aliases_of(doc_id))
        h = _sha1(self._salt, record, paragraphs)
        pieces = schema.split_utf8(paragraphs)
        rows = [{"key": schema.part_key(doc_id, n, h), "doc_id": doc_id, "n": n, "parts": len(pieces), "h": h,
                 "path": row.path if n == 0 else "", "row": record if n == 0 else "", "paragraphs": part,
                 "stub": [0.0] * schema.STUB_DIM}
                for n, part in enumerate(pieces)]
        for r in rows:
            check_lengths(r, schema.DOC_VARCHARS, row.path)
        return rows

    def doc_hashes(self) -> dict[str, str]:
        return {d: self.doc_rows(d)[0]["h"] for d in self.docs}

    # -- chunks
    def _fields(self, c: ChunkRow) -> dict:
        """A chunk row without its derived parts (tokens, vector)."""
        d = self.docs[c.doc_id]
        m = d.meta
        return {
            "id": c.chunk_id, "doc_id": c.doc_id, "path": d.path, "title": m.title or "", "place": m.place or "",
            "region": m.region or "", "level": m.level or "", "kind": c.section_kind,
            "heading": json.dumps(list(c.heading_path), ensure_ascii=False),
            "year": m.year if m.year is not None else schema.NONE_INT, "paragraph": c.paragraph_index,
            "part": c.part, "dup_group": c.dup_group if c.dup_group is not None else schema.NONE_INT,
            "text": c.text,
        }

    def _vector(self, chunk_id: int) -> np.ndarray:
        return np.asarray(self.vectors.vector(chunk_id), dtype=np.float32)

    def _sentences(self, chunk_id: int) -> str:
        if self.sentences is None:
            return ""
        rows = self.sentences.of([chunk_id]).get(chunk_id)
        if rows is None or not schema.sentences_fit(len(rows), rows.shape[1]):
            if rows is not None:  # none in the corpora measured (at most 11 sentences a chunk)
                log.warning("chunk %d: %d sentence vectors do not fit one Milvus field; its chunk cosine is used",
                            chunk_id, len(rows))
            return ""
        return schema.pack_sentences(rows)

    def _hash(self, fields: dict, vector: np.ndarray, sentences: str) -> str:
        return _sha1(self._salt, json.dumps(fields, ensure_ascii=False, sort_keys=True), vector.tobytes(), sentences)

    def chunk_hashes(self) -> dict[int, str]:
        """chunk id -> hash of its whole row, for every chunk of the generation; checks every field's length
        on the way (before anything is written)."""
        out = {}
        for c in self.catalog.iter_chunks():
            fields = self._fields(c)
            check_lengths(fields, schema.CHUNK_VARCHARS, fields["path"])
            out[c.chunk_id] = self._hash(fields, self._vector(c.chunk_id), self._sentences(c.chunk_id))
        return out

    def chunk_rows(self, ids: Iterable[int]) -> Iterator[dict]:
        ids = sorted(int(i) for i in ids)
        for start in range(0, len(ids), BATCH):
            rows = self.catalog.chunks_by_id(ids[start : start + BATCH])
            for cid in ids[start : start + BATCH]:
                yield self.chunk_row(rows[cid])

    def chunk_row(self, c: ChunkRow) -> dict:
        fields = self._fields(c)
        vector = self._vector(c.chunk_id)
        sentences = self._sentences(c.chunk_id)
        context = " ".join(c.heading_path) + "\n" + fields["title"]
        grams = text_grams(c.text)
        self.gram_counts.update(grams.split())
        row = fields | {"h": self._hash(fields, vector, sentences), "sentences": sentences,
                        "tokens": text_tokens(self.analyzer, c.text, context), "grams": grams,
                        "vector": vector.tolist()}
        check_lengths(row, schema.CHUNK_VARCHARS, fields["path"])
        return row

    def close(self) -> None:
        self.catalog.close()


def fingerprint(chunks: dict[int, str], docs: dict[str, str]) -> str:
    """One hash of every row the generation wants in Milvus."""
    h = hashlib.sha1()
    for cid in sorted(chunks):
        h.update(f"{cid}:{chunks[cid]};".encode())
    for d in sorted(docs):
        h.update(f"{d}:{docs[d]};".encode())
    return h.hexdigest()


def published(client, base: str) -> tuple[str, str, dict] | None:
    """(chunks collection, docs collection, info) the alias points at, or None when nothing is published."""
    target = published_name(client, base)
    if target is None:
        return None
    docs = schema.docs_of(target)
    # A process that opens a Lite file (or a server restarted) finds collections released: load is idempotent.
    for name in (target, docs):
        client.load_collection(name)
    return target, docs, read_info(client, docs)


def published_name(client, base: str) -> str | None:
    """The chunks collection the alias points at (one cheap call), or None."""
    try:
        return client.describe_alias(base)["collection_name"]
    except Exception as exc:  # pymilvus raises for a missing alias; its code differs across versions
        if is_connection_error(exc):
            raise
        return None


def read_info(client, docs: str) -> dict:
    # by primary key: a filter on `key` reads every row on Lite (~0.4 s at 38k documents), the key ~4 ms
    rows = client.query(docs, ids=[schema.INFO_KEY], output_fields=["row"], consistency_level=STRONG)
    return json.loads(rows[0]["row"]) if rows else {}


def _write_info(client, docs: str, info: dict) -> None:
    client.upsert(docs, [{"key": schema.INFO_KEY, "doc_id": "", "n": -1, "parts": 0, "h": "", "path": "",
                          "paragraphs": "", "row": json.dumps(info, ensure_ascii=False),
                          "stub": [0.0] * schema.STUB_DIM}])


def sync(client, gen_path: Path, base: str = "reportsearch", full: bool = False,
         user_dict: Path | None = None, uri: str = "", layout: schema.Layout = schema.Layout()) -> SyncReport:
    """Make the collections behind alias `base` equal to the generation at `gen_path`.

    A lost connection raises `MilvusUnavailable` (naming `uri`), a value too long for its field
    `FieldTooLong`; either way the next plain run finishes the job."""
    try:
        return _sync(client, gen_path, base, full, user_dict, layout)
    except Exception as exc:
        if is_connection_error(exc):
            raise MilvusUnavailable(uri or "Milvus", reason_of(exc)) from exc
        raise


def _sync(client, gen_path: Path, base: str, full: bool, user_dict: Path | None, layout: schema.Layout) -> SyncReport:
    t0 = time.perf_counter()
    src = GenerationSource(gen_path, user_dict)
    try:
        current = published(client, base)
        dim = int(src.info.get("dim") or src.vectors.dim)
        if current is not None and not full:
            _, _, info = current
            if (info.get("model") != src.info.get("model") or int(info.get("dim", 0)) != dim
                    or info.get("schema") != schema.SCHEMA_VERSION or info.get("layout") != layout.describe()):
                full = True  # vectors of another model, rows of another layout, other index or partitions
        want_chunks, want_docs = src.chunk_hashes(), src.doc_hashes()  # lengths checked before any write
        digest = fingerprint(want_chunks, want_docs)
        info = {k: str(v) for k, v in src.info.items()} | {
            "generation": src.path.name, "dim": str(dim), "schema": schema.SCHEMA_VERSION,
            "layout": layout.describe(), "sentences": "1" if src.sentences is not None else ""}
        if full or current is None:
            report = _rebuild(client, src, base, current, want_chunks, info | {"digest": digest}, layout)
        else:
            report = _incremental(client, src, current, want_chunks, want_docs, info | {"digest": digest})
    finally:
        src.close()
    report.seconds = time.perf_counter() - t0
    log.info("milvus sync %s: %s", report.collection, report)
    return report


def _stamp() -> str:
    return time.strftime("%Y%m%d%H%M%S") + f"{time.time_ns() % 1000000:06d}"


def _rebuild(client, src: GenerationSource, base: str, current, want_chunks: dict[int, str],
             info: dict, layout: schema.Layout) -> SyncReport:
    stamp = _stamp()
    chunks, docs = schema.chunks_name(base, stamp), schema.docs_name(base, stamp)
    # Before writing a new pair, drop every pair but the published one (the one published before it has had
    # a whole run's time to be left by its readers): at most two copies exist during a rebuild, not three.
    report_dropped = _prune(client, base, current[0] if current else "", "")
    info = info | {"synced_at": time.strftime("%Y-%m-%d %H:%M:%S"), "swapped_at": str(int(time.time())),
                   "previous": current[0] if current else ""}  # kept by _prune for readers still on it
    client.create_collection(docs, schema=schema.doc_schema(client), index_params=schema.doc_index_params(client))
    client.create_collection(chunks, schema=schema.chunk_schema(client, int(info["dim"]), layout),
                             index_params=schema.chunk_index_params(client, layout))
    report = SyncReport(collection=chunks, full=True)
    try:
        checkpoint("milvus-chunks")
        report.chunks_upserted += _in_batches(functools.partial(client.insert, chunks), src.chunk_rows(want_chunks))
        checkpoint("milvus-documents")
        for doc_id in src.docs:
            client.insert(docs, src.doc_rows(doc_id))
            report.docs_upserted += 1
        _write_info(client, docs, info
                    | facetcounts.write(client, docs, info["digest"], facetcounts.combos(src.catalog))
                    | gramcounts.write(client, docs, stamp, src.gram_counts, report.chunks_upserted))
        client.flush(docs)
        client.flush(chunks)
    except Exception:
        # nothing was published: the alias still points at the previous pair; drop the half-written one
        # (a run killed here leaves it behind; the next run's _prune drops it)
        for name in (chunks, docs):
            try:
                client.drop_collection(name)
            except Exception:
                log.warning("could not drop unfinished collection %s", name)
        raise
    checkpoint("milvus-alias")
    if current is None:
        client.create_alias(chunks, base)
    else:
        client.alter_alias(chunks, base)  # the atomic switch
    checkpoint("milvus-drop")
    report.dropped = report_dropped + _prune(client, base, chunks, info["previous"])
    return report


def _prune(client, base: str, published_chunks: str, previous: str) -> list[str]:
    """Drop our collections other than the published pair and the pair published before it: older pairs and
    the orphans of rebuilds that never swapped the alias (killed, or lost the server). Runs hold the index
    lock, so no other rebuild is writing a pair meanwhile."""
    keep = {published_chunks, schema.docs_of(published_chunks)} if published_chunks else set()
    if previous:
        keep |= {previous, schema.docs_of(previous)}
    dropped = []
    for name in client.list_collections():
        if (name.startswith(f"{base}_chunks_") or name.startswith(f"{base}_docs_")) and name not in keep:
            client.drop_collection(name)
            dropped.append(name)
    if dropped:
        log.info("milvus: dropped %s", ", ".join(sorted(dropped)))
    return dropped


def _count(client, collection: str, expr: str) -> int:
    rows = client.query(collection, filter=expr, output_fields=["count(*)"], consistency_level=STRONG)
    return int(rows[0]["count(*)"])


def _incremental(client, src: GenerationSource, current, want_chunks: dict[int, str],
                 want_docs: dict[str, str], info: dict) -> SyncReport:
    chunks, docs, held_info = current
    report = SyncReport(collection=chunks, full=False)
    # The pair published before the last rebuild is kept for readers still on it (they follow the alias within
    # engine.ALIAS_TTL_S); a run PREVIOUS_GRACE_S after the swap drops it, so a copy is not kept loaded for good.
    if time.time() - float(held_info.get("swapped_at") or 0) > PREVIOUS_GRACE_S:
        held_info = held_info | {"previous": ""}
    report.dropped = _prune(client, chunks.rpartition("_chunks_")[0], chunks, held_info.get("previous", ""))
    if (held_info.get("digest") == info["digest"] and _count(client, chunks, "") == len(want_chunks)
            and _count(client, docs, "n == 0") == len(want_docs)):
        report.unchanged = True  # the last finished sync wrote exactly this; nothing has written since
        if held_info.get("generation") != info["generation"] or report.dropped or "facets" not in held_info:
            _write_info(client, docs, info | facetcounts.write(client, docs, info["digest"], facetcounts.combos(
                src.catalog)) | {"synced_at": time.strftime("%Y-%m-%d %H:%M:%S"),
                                 "previous": held_info.get("previous", ""), "grams": held_info.get("grams", ""),
                                 "swapped_at": held_info.get("swapped_at", "")})
        return report
    _write_info(client, docs, held_info | {"digest": ""})  # dirty until this run finishes

    have_chunks = {int(r["id"]): r["h"] for r in iterate(client, chunks, "id >= 0", ["id", "h"], strong=True)}
    have_parts = list(iterate(client, docs, "n >= 0", ["key", "doc_id", "n", "h"], strong=True))
    have_docs = {r["doc_id"]: r["h"] for r in have_parts if r["n"] == 0}
    upsert_chunks = sorted(c for c, h in want_chunks.items() if have_chunks.get(c) != h)
    delete_chunks = sorted(c for c in have_chunks if c not in want_chunks)
    changed_docs = sorted(d for d, h in want_docs.items() if have_docs.get(d) != h)

    doc_rows = {d: src.doc_rows(d) for d in changed_docs}
    held_keys = {r["key"] for r in have_parts}
    for d in changed_docs:  # the new paragraph parts: under new keys, unseen until part 0 names them
        rest = [r for r in doc_rows[d][1:] if r["key"] not in held_keys]
        if rest:
            client.upsert(docs, rest)
    checkpoint("milvus-chunks")
    _in_batches(functools.partial(client.upsert, chunks), src.chunk_rows(upsert_chunks))
    report.chunks_upserted = len(upsert_chunks)
    checkpoint("milvus-documents")
    for start in range(0, len(changed_docs), BATCH):  # each document's commit mark, after its chunks
        client.upsert(docs, [doc_rows[d][0] for d in changed_docs[start : start + BATCH]])
    report.docs_upserted = len(changed_docs)
    checkpoint("milvus-drop")
    for start in range(0, len(delete_chunks), PAGE):
        client.delete(chunks, ids=delete_chunks[start : start + PAGE])
    report.chunks_deleted = len(delete_chunks)
    current_keys = {r["key"] for rows in doc_rows.values() for r in rows}
    stale = [r["key"] for r in have_parts if r["key"] not in current_keys and (
        r["doc_id"] not in want_docs or (r["n"] > 0 and r["h"] != want_docs[r["doc_id"]]))]
    for start in range(0, len(stale), PAGE):
        client.delete(docs, ids=stale[start : start + PAGE])
    report.docs_deleted = len([d for d in have_docs if d not in want_docs])
    client.flush(chunks)
    counts = facetcounts.write(client, docs, info["digest"], facetcounts.combos(src.catalog))
    _write_info(client, docs, info | counts | {"synced_at": time.strftime("%Y-%m-%d %H:%M:%S"),
                                               "previous": held_info.get("previous", ""),
                                               "grams": held_info.get("grams", ""),  # kept: gramcounts.py
                                               "swapped_at": held_info.get("swapped_at", "")})
    client.flush(docs)
    return report
