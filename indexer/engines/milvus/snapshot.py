"""One consistent read view: the chunks/documents pair the alias pointed at when it was opened.

What is exact and what is not (keyword):
- Filters run inside Milvus (expr.py), exactly.
- Ranking is Milvus BM25 over our words (tokens.py); scores differ from Whoosh/tantivy BM25F, the candidate
  sets do not (same words).
- AND / NOT / phrases / lone words: Milvus ranks the OR of all positive words; the client keeps the
  candidates that satisfy the query tree (recheck.py). That is exact over the candidate pool; the pool is the
  top `pool` BM25 hits (up to Milvus's topk limit of 16,384), so a strict query whose words occur in more
  chunks than that may miss matches ranked below it. Pure exclusions (only NOT) return nothing, as locally.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from indexer.base.analysis import default_analyzer, pack_word_offsets
from indexer.base.filters import Filters
from indexer.base.querytree import ParsedQuery, has_positive, is_strict
from indexer.catalog import ChunkRow, DocRow
from indexer.document import Paragraph, SectionKind
from indexer.engines.base import ChunkFacts, FacetCounts, Ranked, count_facets
from indexer.engines.milvus import schema
from indexer.engines.milvus.connection import guarded
from indexer.engines.milvus.expr import filter_expr, in_ints, in_strings
from indexer.engines.milvus.recheck import matches, positive_words, squeeze
from indexer.engines.milvus.sync import iterate
from indexer.engines.milvus.tokens import query_tokens, words_of
from indexer.metadata import DocumentMeta

log = logging.getLogger(__name__)

ALL_TERMS_BONUS = 0.5  # as indexer/fulltext/*: chunks matching every plain word get this share on top
MAX_TOPK = 16384  # Milvus's limit on one search's result count
EF_FLOOR = 64


def _plain_words(node) -> set[str]:
    """The words of a ranked-OR query of two or more words (the local backends' "all words" bonus)."""
    from indexer.base.querytree import Terms

    if isinstance(node, Terms) and not node.require_all and len(node.words) > 1:
        return set(node.words)
    return set()


def _none(v: int) -> int | None:
    return None if v == schema.NONE_INT else int(v)


def _chunk_row(r: dict) -> ChunkRow:
    return ChunkRow(chunk_id=int(r["id"]), doc_id=r["doc_id"], paragraph_index=int(r["paragraph"]),
                    part=int(r["part"]), text=r["text"], heading_path=tuple(json.loads(r["heading"])),
                    section_kind=r["kind"], dup_group=_none(r["dup_group"]))


def _doc_row(rec: dict) -> DocRow:
    m = rec["meta"]
    return DocRow(doc_id=rec["doc_id"], path=rec["path"], fmt=rec["fmt"], content_hash=rec["content_hash"],
                  size=int(rec["size"]), mtime_ns=int(rec["mtime_ns"]), overrides=rec["overrides"],
                  meta=DocumentMeta(title=m["title"], place=m["place"], level=m["level"], region=m["region"],
                                    year=m["year"], date=m["date"]))


class MilvusSnapshot:
    def __init__(self, client, chunks: str, docs: str, info: dict[str, str], uri: str = ""):
        self._client = client
        self.uri = uri
        self.chunks_collection = chunks
        self.docs_collection = docs
        self.name = chunks
        self.info = dict(info)

    # ------------------------------------------------------------------ retrieval
    def keyword(self, query: ParsedQuery, limit: int, filters: Filters) -> Ranked:
        if limit <= 0 or not has_positive(query.root):
            return []
        words = positive_words(query.root)
        if not words:
            return []
        pool = min(MAX_TOPK, max(limit * 4, 200) if not is_strict(query.root) else max(limit * 20, 2000))
        hits = self._client.search(
            self.chunks_collection, data=[query_tokens(words)], anns_field="sparse", limit=pool,
            filter=filter_expr(filters), output_fields=["tokens", "text"],
            search_params={"metric_type": "BM25"})[0]
        every = _plain_words(query.root)
        out: Ranked = []
        for h in hits:
            e = h["entity"]
            held = words_of(e["tokens"])
            if matches(query.root, held, squeeze(e["text"])):
                # Lite reports BM25 as a negative distance (more negative = better), servers as a positive
                # score; the order is best-first either way and the façade only needs "higher is better".
                score = abs(float(h["distance"]))
                if every and every <= held:  # the local backends' bonus for matching every plain word
                    score *= 1 + ALL_TERMS_BONUS
                out.append((int(h["id"]), score))
        out.sort(key=lambda x: -x[1])
        return out[:limit]

    def matching(self, query: ParsedQuery, filters: Filters) -> list[int]:
        """Exact: the query tree checked on every chunk the filters keep (recheck.py), not on a BM25 pool --
        a string can occur across two of our words (法治 in 依法|治国), which no token finds. One pass over
        the collection; meant for Lite-sized corpora (issue 24)."""
        if not has_positive(query.root):
            return []
        return [int(r["id"]) for r in iterate(self._client, self.chunks_collection, filter_expr(filters) or "id >= 0",
                                               ["id", "tokens", "text"])
                if matches(query.root, words_of(r["tokens"]), squeeze(r["text"]))]

    def semantic(self, vector: np.ndarray, limit: int, filters: Filters,
                 within: Sequence[int] | None = None) -> Ranked:
        if limit <= 0 or (within is not None and not within):
            return []
        limit = min(limit, MAX_TOPK)
        hits = self._client.search(
            self.chunks_collection, data=[np.asarray(vector, dtype=np.float32).tolist()], anns_field="vector",
            limit=limit, filter=filter_expr(filters, within),
            search_params={"metric_type": "COSINE", "params": {"ef": max(EF_FLOOR, limit)}})[0]
        return [(int(h["id"]), float(h["distance"])) for h in hits]

    def vector(self, chunk_id: int) -> np.ndarray | None:
        rows = self._client.query(self.chunks_collection, filter=in_ints("id", [chunk_id]), output_fields=["vector"])
        return np.asarray(rows[0]["vector"], dtype=np.float32) if rows else None

    def sentence_vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray] | None:
        # Not stored in Milvus (yet): the search encodes the candidates' sentences, through the index's
        # embedding cache, which the local build filled with them (docs/milvus.md).
        return None

    # ------------------------------------------------------------------ candidates and rows
    def _rows(self, ids: Iterable[int], fields: list[str]) -> list[dict]:
        ids = sorted({int(i) for i in ids})
        out: list[dict] = []
        for start in range(0, len(ids), MAX_TOPK):
            out += self._client.query(self.chunks_collection, filter=in_ints("id", ids[start : start + MAX_TOPK]),
                                      output_fields=fields)
        return out

    def facet_counts(self, ids: Sequence[int], fields: Sequence[str], copies_once: bool) -> FacetCounts:
        return count_facets(self.facts(ids).items(), fields, copies_once)

    def facts(self, ids: Sequence[int]) -> dict[int, ChunkFacts]:
        return {int(r["id"]): ChunkFacts(doc_id=r["doc_id"], dup_group=_none(r["dup_group"]), place=r["place"],
                                         level=r["level"], region=r["region"], year=_none(r["year"]),
                                         kind=r["kind"])
                for r in self._rows(ids, schema.FACT_FIELDS)}

    def chunks(self, ids: Iterable[int]) -> dict[int, ChunkRow]:
        return {int(r["id"]): _chunk_row(r) for r in self._rows(ids, schema.CHUNK_FIELDS)}

    def word_offsets(self, ids: Iterable[int]) -> dict[int, bytes]:
        # Derived, not stored: Milvus has no blob type and the analyzer is the one the tokens came from.
        analyzer = default_analyzer()
        out = {}
        for cid, row in self.chunks(ids).items():
            blob = pack_word_offsets(analyzer.tokenize(row.text))
            if blob is not None:
                out[cid] = blob
        return out

    def _doc_parts(self, expr: str) -> dict[str, list[dict]]:
        parts: dict[str, list[dict]] = {}
        for r in iterate(self._client, self.docs_collection, expr, ["doc_id", "n", "row", "paragraphs"]):
            parts.setdefault(r["doc_id"], []).append(r)
        return {d: sorted(p, key=lambda r: r["n"]) for d, p in parts.items()}

    def _records(self, doc_ids: Iterable[str]) -> dict[str, dict]:
        ids = list(set(doc_ids))
        if not ids:
            return {}
        rows = self._client.query(self.docs_collection, filter=f"({in_strings('doc_id', ids)}) and n == 0",
                                  output_fields=["doc_id", "row"])
        return {r["doc_id"]: json.loads(r["row"]) for r in rows}

    def documents(self, doc_ids: Iterable[str]) -> dict[str, DocRow]:
        return {d: _doc_row(rec) for d, rec in self._records(doc_ids).items()}

    def document_chunks(self, doc_id: str) -> list[ChunkRow]:
        rows = iterate(self._client, self.chunks_collection, in_strings("doc_id", [doc_id]), schema.CHUNK_FIELDS)
        return sorted((_chunk_row(r) for r in rows), key=lambda c: (c.paragraph_index, c.part))  # as Catalog.chunks_of

    def paragraphs(self, doc_id: str) -> list[Paragraph]:
        parts = self._doc_parts(in_strings("doc_id", [doc_id])).get(doc_id)
        if not parts:
            raise KeyError(doc_id)
        return [Paragraph(index=p["index"], text=p["text"], is_heading=p["is_heading"],
                          heading_level=p["heading_level"], heading_path=tuple(p["heading_path"]),
                          section_kind=SectionKind(p["section_kind"]))
                for p in json.loads("".join(r["paragraphs"] for r in parts))]

    def aliases_of(self, doc_id: str) -> list[str]:
        rec = self._records([doc_id]).get(doc_id)
        return list(rec.get("aliases", [])) if rec else []

    def dup_members(self, groups: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
        groups = [g for g in set(groups) if g is not None and g != schema.NONE_INT]
        out: dict[int, list[tuple[int, str]]] = {}
        if not groups:
            return out
        for r in sorted(iterate(self._client, self.chunks_collection, in_ints("dup_group", groups),
                                ["id", "doc_id", "dup_group"]), key=lambda r: r["id"]):
            out.setdefault(int(r["dup_group"]), []).append((int(r["id"]), r["doc_id"]))
        return out

    # ------------------------------------------------------------------ whole-corpus figures
    def facet_values(self, filters: Filters) -> dict[str, list[tuple[str, int]]]:
        counts: dict[str, Counter] = {k: Counter() for k in ("place", "level", "region", "year", "kind")}
        expr = filter_expr(filters) or "id >= 0"
        for r in iterate(self._client, self.chunks_collection, expr, ["id", "place", "level", "region", "year", "kind"]):
            for k in counts:
                v = r[k]
                if k == "year":
                    if v == schema.NONE_INT:
                        continue
                    v = str(v)
                if v:
                    counts[k][v] += 1
        return {k: sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) for k, c in counts.items()}

    def counts(self) -> tuple[int, int]:
        docs = self._client.query(self.docs_collection, filter="n == 0", output_fields=["count(*)"])[0]["count(*)"]
        chunks = self._client.query(self.chunks_collection, filter="", output_fields=["count(*)"])[0]["count(*)"]
        return int(docs), int(chunks)

    def close(self) -> None:
        """The client belongs to the engine (one connection for every snapshot)."""


# A server that goes away mid-query: one MilvusUnavailable naming the URI, from every public method.
for _name in ("keyword", "semantic", "vector", "facts", "chunks", "word_offsets", "documents", "document_chunks",
              "paragraphs", "aliases_of", "dup_members", "facet_values", "counts"):
    setattr(MilvusSnapshot, _name, guarded(getattr(MilvusSnapshot, _name)))
