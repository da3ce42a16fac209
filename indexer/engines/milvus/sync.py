"""Publishing a local generation to Milvus.

Where the per-file state lives: the indexer keeps building its local generation (catalog with per-file hashes
and sizes, chunking, dedup groups, the embedding cache and FAISS) exactly as for the local engine, and that
generation is the *plan and staging area*; this module then makes Milvus equal to it. Why: the change
detection, rename/alias handling, near-duplicate grouping and the never-half-built guarantees already exist
and are tested there; Milvus has no transactions across rows, so deciding "what changed" against Milvus
itself would need a second implementation of all of that. The local catalog is small (no vectors needed
after the sync), so an indexing machine keeps it; searchers on other machines need only Milvus.

- full (`sync(..., full=True)`, or nothing published yet, or another model/dimension): write a new pair of
  collections, then swap the alias atomically; the previous pair is kept (readers holding it finish their
  query) and the one before it dropped.
- incremental: diff the generation against the published collections by primary key and upsert/delete only
  what changed. Order: documents upserted first, chunks upserted, chunks deleted, documents deleted — so a
  visible chunk always finds its document. A reader during the run sees a mix of old and new chunks (Milvus
  has no multi-row transaction); each row is always whole.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from indexer.base.analysis import get_analyzer
from indexer.catalog import Catalog, ChunkRow, DocRow
from indexer.engines.milvus import schema
from indexer.engines.milvus.connection import MilvusUnavailable, is_connection_error, reason_of
from indexer.engines.milvus.expr import in_ints, in_strings
from indexer.engines.milvus.tokens import text_tokens
from indexer.vectors.faiss_index import VectorIndex

log = logging.getLogger(__name__)

BATCH = 256
PAGE = 4096


@dataclass
class SyncReport:
    collection: str
    full: bool
    docs_upserted: int = 0
    docs_deleted: int = 0
    chunks_upserted: int = 0
    chunks_deleted: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def doc_record(row: DocRow, aliases: list[str]) -> str:
    m = row.meta
    return json.dumps({"doc_id": row.doc_id, "path": row.path, "fmt": row.fmt, "content_hash": row.content_hash,
                       "size": row.size, "mtime_ns": row.mtime_ns, "overrides": row.overrides,
                       "meta": {"title": m.title, "place": m.place, "level": m.level, "region": m.region,
                                "year": m.year, "date": m.date, "provenance": m.provenance},
                       "aliases": aliases}, ensure_ascii=False, sort_keys=True)


def iterate(client, collection: str, expr: str, fields: list[str]) -> Iterator[dict]:
    """Every row matching `expr` (query() alone stops at 16,384 rows)."""
    it = client.query_iterator(collection, batch_size=PAGE, filter=expr, output_fields=fields)
    try:
        while True:
            page = it.next()
            if not page:
                return
            yield from page
    finally:
        it.close()


class GenerationSource:
    """What one local generation holds, read for the sync."""

    def __init__(self, gen_path: Path, user_dict: Path | None = None):
        self.path = Path(gen_path)
        self.catalog = Catalog(self.path / "catalog.sqlite")
        self.info = self.catalog.info()
        self.vectors = VectorIndex.load(self.path / "vectors.faiss")
        self.analyzer = get_analyzer(user_dict)
        self.docs = {d.doc_id: d for d in self.catalog.documents()}

    def doc_rows(self, doc_id: str) -> list[dict]:
        row = self.docs[doc_id]
        paragraphs = self.catalog.connect().execute(
            "SELECT paragraphs FROM documents WHERE doc_id=?", (doc_id,)).fetchone()[0] or "[]"
        record = doc_record(row, self.catalog.aliases_of(doc_id))
        return [{"key": f"{doc_id}#{n}", "doc_id": doc_id, "n": n, "row": record if n == 0 else "",
                 "paragraphs": part, "stub": [0.0] * schema.STUB_DIM}
                for n, part in enumerate(schema.split_utf8(paragraphs))]

    def chunk_rows(self, ids: Iterable[int]) -> Iterator[dict]:
        ids = sorted(int(i) for i in ids)
        for start in range(0, len(ids), BATCH):
            rows = self.catalog.chunks_by_id(ids[start : start + BATCH])
            for cid in ids[start : start + BATCH]:
                yield self.chunk_row(rows[cid])

    def chunk_row(self, c: ChunkRow) -> dict:
        d = self.docs[c.doc_id]
        m = d.meta
        context = " ".join(c.heading_path) + "\n" + (m.title or "")
        return {
            "id": c.chunk_id, "doc_id": c.doc_id, "path": d.path, "title": m.title or "", "place": m.place or "",
            "region": m.region or "", "level": m.level or "", "kind": c.section_kind,
            "heading": json.dumps(list(c.heading_path), ensure_ascii=False),
            "year": m.year if m.year is not None else schema.NONE_INT, "paragraph": c.paragraph_index,
            "part": c.part, "dup_group": c.dup_group if c.dup_group is not None else schema.NONE_INT,
            "text": c.text, "tokens": text_tokens(self.analyzer, c.text, context),
            "vector": np.asarray(self.vectors.vector(c.chunk_id), dtype=np.float32).tolist(),
        }

    def chunk_groups(self) -> dict[int, int]:
        """chunk id -> dup group (NONE_INT when none), for every chunk of the generation."""
        rows = self.catalog.connect().execute("SELECT chunk_id, dup_group FROM chunks")
        return {int(c): (int(g) if g is not None else schema.NONE_INT) for c, g in rows}

    def close(self) -> None:
        self.catalog.close()


def published(client, base: str) -> tuple[str, str, dict] | None:
    """(chunks collection, docs collection, info) the alias points at, or None when nothing is published."""
    try:
        target = client.describe_alias(base)["collection_name"]
    except Exception as exc:  # pymilvus raises for a missing alias; its code differs across versions
        if is_connection_error(exc):
            raise
        return None
    docs = schema.docs_of(target)
    # A process that opens a Lite file (or a server restarted) finds collections released: load is idempotent.
    for name in (target, docs):
        client.load_collection(name)
    rows = client.query(docs, filter=in_strings("key", [schema.INFO_KEY]), output_fields=["row"])
    return target, docs, (json.loads(rows[0]["row"]) if rows else {})


def sync(client, gen_path: Path, base: str = "reportsearch", full: bool = False,
         user_dict: Path | None = None, uri: str = "") -> SyncReport:
    """Make the collections behind alias `base` equal to the generation at `gen_path`.

    A lost connection raises `MilvusUnavailable` (naming `uri`); a full rebuild then has published nothing."""
    try:
        return _sync(client, gen_path, base, full, user_dict)
    except Exception as exc:
        if is_connection_error(exc):
            raise MilvusUnavailable(uri or "Milvus", reason_of(exc)) from exc
        raise


def _sync(client, gen_path: Path, base: str, full: bool, user_dict: Path | None) -> SyncReport:
    t0 = time.perf_counter()
    src = GenerationSource(gen_path, user_dict)
    try:
        current = published(client, base)
        dim = int(src.info.get("dim") or src.vectors.dim)
        if current is not None and not full:
            _, _, info = current
            if info.get("model") != src.info.get("model") or int(info.get("dim", 0)) != dim:
                full = True  # vectors of another model cannot be mixed in
        report = _rebuild(client, src, base, dim, current) if full or current is None else \
            _incremental(client, src, current)
    finally:
        src.close()
    report.seconds = time.perf_counter() - t0
    log.info("milvus sync %s: %s", report.collection, report)
    return report


def _rebuild(client, src: GenerationSource, base: str, dim: int, current) -> SyncReport:
    stamp = time.strftime("%Y%m%d%H%M%S") + f"{time.time_ns() % 1000000:06d}"
    chunks, docs = schema.chunks_name(base, stamp), schema.docs_name(base, stamp)
    info = {k: str(v) for k, v in src.info.items()} | {"generation": src.path.name, "dim": str(dim)}
    client.create_collection(docs, schema=schema.doc_schema(client), index_params=schema.doc_index_params(client))
    client.create_collection(chunks, schema=schema.chunk_schema(client, dim),
                             index_params=schema.chunk_index_params(client))
    report = SyncReport(collection=chunks, full=True)
    try:
        client.insert(docs, [{"key": schema.INFO_KEY, "doc_id": "", "n": -1, "paragraphs": "",
                              "row": json.dumps(info, ensure_ascii=False), "stub": [0.0] * schema.STUB_DIM}])
        for doc_id in src.docs:
            client.insert(docs, src.doc_rows(doc_id))
            report.docs_upserted += 1
        batch: list[dict] = []
        for row in src.chunk_rows(src.chunk_groups()):
            batch.append(row)
            if len(batch) >= BATCH:
                client.insert(chunks, batch)
                report.chunks_upserted += len(batch)
                batch = []
        if batch:
            client.insert(chunks, batch)
            report.chunks_upserted += len(batch)
        client.flush(docs)
        client.flush(chunks)
    except Exception:
        # nothing was published: the alias still points at the previous pair; drop the half-written one
        for name in (chunks, docs):
            try:
                client.drop_collection(name)
            except Exception:
                log.warning("could not drop unfinished collection %s", name)
        raise
    if current is None:
        client.create_alias(chunks, base)
    else:
        client.alter_alias(chunks, base)  # the atomic switch
    _prune(client, base, keep={chunks, docs} | ({current[0], current[1]} if current else set()))
    return report


def _prune(client, base: str, keep: set[str]) -> None:
    """Drop our collections other than the published pair and the one before it."""
    for name in client.list_collections():
        if name.startswith(f"{base}_chunks_") or name.startswith(f"{base}_docs_"):
            if name not in keep:
                client.drop_collection(name)


def _incremental(client, src: GenerationSource, current) -> SyncReport:
    chunks, docs, _ = current
    report = SyncReport(collection=chunks, full=False)
    have_docs = {r["doc_id"]: r["row"] for r in iterate(client, docs, "n == 0", ["doc_id", "row"])}
    want_docs = {d: doc_record(row, src.catalog.aliases_of(d)) for d, row in src.docs.items()}
    changed_docs = [d for d, rec in want_docs.items() if have_docs.get(d) != rec]
    gone_docs = [d for d in have_docs if d not in want_docs]

    have_chunks = {int(r["id"]): int(r["dup_group"]) for r in iterate(client, chunks, "id >= 0", ["id", "dup_group"])}
    want_chunks = src.chunk_groups()
    changed_set = set(changed_docs)
    upsert = [c for c, g in want_chunks.items() if have_chunks.get(c) != g]
    if changed_set:  # a renamed / re-described document: its chunks carry its path, title and facets
        upsert += [c.chunk_id for d in changed_set for c in src.catalog.chunks_of(d)]
    upsert = sorted(set(upsert))
    delete = sorted(c for c in have_chunks if c not in want_chunks)

    for d in changed_docs:
        client.delete(docs, filter=in_strings("doc_id", [d]))  # the number of parts may shrink
        client.insert(docs, src.doc_rows(d))
    report.docs_upserted = len(changed_docs)
    batch: list[dict] = []
    for row in src.chunk_rows(upsert):
        batch.append(row)
        if len(batch) >= BATCH:
            client.upsert(chunks, batch)
            batch = []
    if batch:
        client.upsert(chunks, batch)
    report.chunks_upserted = len(upsert)
    for start in range(0, len(delete), PAGE):
        client.delete(chunks, filter=in_ints("id", delete[start : start + PAGE]))
    report.chunks_deleted = len(delete)
    for d in gone_docs:
        client.delete(docs, filter=in_strings("doc_id", [d]))
    report.docs_deleted = len(gone_docs)
    client.flush(docs)
    client.flush(chunks)
    return report
