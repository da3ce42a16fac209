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

import functools
import json
import logging
import time
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from indexer.core.analysis import default_analyzer, pack_word_offsets
from indexer.core.facets import UNKNOWN
from indexer.core.filters import Filters
from indexer.core.querytree import Node, ParsedQuery, Terms, has_positive, is_strict
from indexer.storage.catalog import ChunkRow, DocRow
from indexer.storage.catalog_rows import FigureRow, figure_rows
from indexer.core.document import Paragraph, SectionKind
from indexer.engines.base import ChunkFacts, FacetCounts, FoldKeys, Ranked, count_facets, fold_keys_of
from indexer.engines.milvus import facetcounts, gramcounts, lookup, schema
from indexer.engines.milvus.connection import guarded
from indexer.engines.milvus.expr import NOTHING, filter_expr, in_ints, in_strings
from indexer.engines.milvus.textexpr import ALL, both, bounds
from indexer.core.analysis import squeeze
from indexer.engines.milvus.recheck import matcher, positive_words
from indexer.engines.milvus.sync import iterate, read_info
from indexer.engines.milvus.tokens import query_tokens, words_of
from indexer.pipeline.metadata import DocumentMeta
from indexer.core.config import RankingSettings

log = logging.getLogger(__name__)

MAX_TOPK = 16384  # Milvus's limit on one search's result count
EF_FLOOR = 64
INFO_TTL_S = 10.0
# A filter (or `within` list) keeping at most this many chunks is searched exactly on the client: filtered HNSW
# misses rows of small filtered sets (95-97 of 101 measured), and 2,048 vectors are 4 MB to fetch at 512-d.
EXACT_ROWS = 2048
# Facts fetched are reused this long after their fetch: one search asks for the same ids 2-3 times (matches,
# folds, facet counts), seconds apart on Lite at 100k chunks (2 s from the first fetch lost them mid-search);
# short, because an incremental sync changes rows in place.
FACTS_TTL_S = 10.0
FACTS_KEPT = 500_000
LOOKUP_TTL_S = 2.0  # a tree's bigram lookup, reused by the same search (keyword pool, then matches)
COUNT_TTL_S = 60.0  # how long a filter's row count is trusted (it only picks the path, never the answer)


def _plain_words(node: Node) -> set[str]:
    """The words whose joint presence earns the all-words bonus, for a ranked-OR query (Terms.earns_bonus)."""
    return set(node.words) if isinstance(node, Terms) and node.earns_bonus else set()


def _none(v: int) -> int | None:
    return None if v == schema.NONE_INT else int(v)


def _facts(r: dict) -> ChunkFacts:
    return ChunkFacts(doc_id=r["doc_id"], dup_group=_none(r["dup_group"]), place=r["place"], level=r["level"],
                      region=r["region"], year=_none(r["year"]), kind=r["kind"])


def _chunk_row(r: dict) -> ChunkRow:
    return ChunkRow(chunk_id=int(r["id"]), doc_id=r["doc_id"], paragraph_index=int(r["paragraph"]),
                    part=int(r["part"]), text=r["text"], heading_path=tuple(json.loads(r["heading"])),
                    section_kind=r["kind"], dup_group=_none(r["dup_group"]))


def _doc_row(rec: dict) -> DocRow:
    m = rec["meta"]
    return DocRow(doc_id=rec["doc_id"], path=rec["path"], fmt=rec["fmt"], content_hash=rec["content_hash"],
                  size=int(rec["size"]), mtime_ns=int(rec["mtime_ns"]), overrides=rec["overrides"],
                  meta=DocumentMeta(title=m["title"], place=m["place"], level=m["level"], region=m["region"],
                                    year=m["year"], date=m["date"], provenance=m.get("provenance") or {}))


class MilvusSnapshot:
    def __init__(self, client, chunks: str, docs: str, info: dict[str, str], uri: str = "",
                 weights: RankingSettings = RankingSettings()):
        self._client = client
        self.weights = weights  # the all-words bonus the local backends give (storage/fulltext/ranking.py)
        self.uri = uri
        self.chunks_collection = chunks
        self.docs_collection = docs
        self.name = chunks
        self._info, self._info_read = dict(info), time.monotonic()
        self._filtered: dict[Filters, tuple[float, int]] = {}  # filters -> (when counted, rows)
        self._known: dict[int, tuple[float, ChunkFacts]] = {}  # facts fetched lately, with when (facts())
        self._purged = time.monotonic()  # when stale facts were last dropped
        self._facets: tuple[tuple[str, str], list[list] | None] | None = None  # (digest, table name) -> table
        self._grams: tuple[str, dict | None] | None = None  # table name -> common-bigram counts
        self._looked_up: dict[tuple[Node, str], tuple[float, lookup.Candidates | None]] = {}  # _candidates()

    @property
    def info(self) -> dict[str, str]:
        """The build settings and the last sync (`built_at` of the generation synced, `synced_at`): an
        incremental sync changes them in place, so they are re-read at most every INFO_TTL_S."""
        if time.monotonic() - self._info_read > INFO_TTL_S:
            self._info_read = time.monotonic()
            self._info = self._read_info() or self._info
        return self._info

    def _read_info(self) -> dict[str, str]:
        return read_info(self._client, self.docs_collection)

    # ------------------------------------------------------------------ retrieval
    def keyword(self, query: ParsedQuery, limit: int, filters: Filters) -> Ranked:
        if limit <= 0 or not has_positive(query.root):
            return []
        words = positive_words(query.root)
        if not words:
            return []
        strict = is_strict(query.root)
        pool = min(MAX_TOPK, max(limit * 4, 200) if not strict else max(limit * 20, 2000))
        # A strict query's pool is drawn only from the chunks that may match: never fewer of its matches than
        # before, and no room spent on chunks the check below drops. Its candidates from the bigram index when
        # it has them (lookup.py; the pool then needs no more room than they are), else the LIKE bounds.
        scope = filter_expr(filters)
        found = self._candidates(query.root, scope) if strict else None
        if found is not None:
            scope, pool = both(scope, in_ints("id", found.ids)), min(pool, max(len(found.ids), 1))
        elif strict:
            scope = both(scope, bounds(query.root).maybe)
        if scope == NOTHING:
            return []
        hits = self._client.search(
            self.chunks_collection, data=[query_tokens(words)], anns_field="sparse", limit=pool,
            filter=scope, output_fields=["tokens", "text"],
            search_params={"metric_type": "BM25"})[0]
        every = _plain_words(query.root)
        test = matcher(query.root)
        out: Ranked = []
        for h in hits:
            e = h["entity"]
            held = words_of(e["tokens"])
            if test(held, squeeze(e["text"])):
                # Lite reports BM25 as a negative distance (more negative = better), servers as a positive
                # score; the order is best-first either way and the façade only needs "higher is better".
                score = abs(float(h["distance"]))
                if every and every <= held:  # the local backends' bonus for matching every plain word
                    score *= 1 + self.weights.all_terms_bonus
                out.append((int(h["id"]), score))
        out.sort(key=lambda x: -x[1])
        return out[:limit]

    def matching(self, query: ParsedQuery, filters: Filters) -> list[int]:
        """Exact: the query tree's matches among the chunks the filters keep, never a BM25 top k -- a string
        can occur across two of our words (法治 in 依法|治国), which no token finds. The candidates come from
        Milvus's indexes where they bound the tree (lookup.py), else from one LIKE scan of the chunks that may
        match (textexpr.py); their text is checked here (recheck.py) unless they are known to be exactly the
        matches. Their facts are kept for the same query's folds and facet counts."""
        scope = filter_expr(filters)
        found = self._candidates(query.root, scope)
        if found is not None:  # through the indexes: only the candidates are read
            if found.exact:
                return [self._remember(r) for r in self._rows(found.ids, schema.FACT_FIELDS)]
            test = matcher(query.root)
            return [self._remember(r) for r in self._rows(found.ids, [*schema.FACT_FIELDS, "tokens", "text"])
                    if test(words_of(r["tokens"]), squeeze(r["text"]))]
        bound = bounds(query.root)  # a pure exclusion (-法治) is every chunk outside it, as on the local engine
        if bound.maybe == NOTHING:
            return []
        if bound.sure == ALL:
            return [self._remember(r) for r in self._select(scope or "id >= 0", schema.FACT_FIELDS)]
        test = matcher(query.root)
        if bound.maybe != ALL:
            # One scan of the chunks that may match, each checked here: on Lite every filtered query reads every
            # row (~1.5 s at 100k chunks), so a separate scan for the sure ones cost more than their text.
            rows = self._select(both(scope, bound.maybe), [*schema.FACT_FIELDS, "tokens", "text"])
            return [self._remember(r) for r in rows if test(words_of(r["tokens"]), squeeze(r["text"]))]
        # a pure exclusion: the chunks surely outside it by their facts only, the rest checked
        out = [self._remember(r) for r in self._select(both(scope, bound.sure) or "id >= 0", schema.FACT_FIELDS)] \
            if bound.sure != NOTHING else []
        rest = both(scope, f"not ({bound.sure})" if bound.sure != NOTHING else ALL)
        rows = self._select(rest or "id >= 0", [*schema.FACT_FIELDS, "tokens", "text"])
        return out + [self._remember(r) for r in rows if test(words_of(r["tokens"]), squeeze(r["text"]))]

    def _select(self, expr: str, fields: list[str], collection: str | None = None) -> list[dict]:
        """Every row `expr` keeps, in as few queries as possible: Lite evaluates a filter by reading every row
        once per query or iterator page (the iterator's last, empty page included), so one query of up to
        MAX_TOPK rows first, and the iterator only when that one is full."""
        collection = collection or self.chunks_collection
        rows = self._client.query(collection, filter=expr, output_fields=fields, limit=MAX_TOPK)
        if len(rows) < MAX_TOPK:
            return rows
        return list(iterate(self._client, collection, expr, fields, page=MAX_TOPK))

    def _candidates(self, root: Node, scope: str) -> lookup.Candidates | None:
        """lookup.candidates, kept LOOKUP_TTL_S: a search asks for the same tree twice (its pool, its matches)."""
        now = time.monotonic()
        got = self._looked_up.get((root, scope))
        if got is not None and now - got[0] <= LOOKUP_TTL_S:
            return got[1]
        found = lookup.candidates(self._client, self.chunks_collection, root, scope, self._gram_table())
        if len(self._looked_up) > 64:
            self._looked_up.clear()
        self._looked_up[(root, scope)] = (now, found)
        return found

    def _remember(self, r: dict) -> int:
        """Keep a fetched row's facts (for FACTS_TTL_S); its id."""
        cid = int(r["id"])
        self._known[cid] = (time.monotonic(), _facts(r))
        return cid

    def semantic(self, vector: np.ndarray, limit: int, filters: Filters,
                 within: Sequence[int] | None = None) -> Ranked:
        if limit <= 0 or (within is not None and not within):
            return []
        limit = min(limit, MAX_TOPK)
        expr = filter_expr(filters, within)
        query = np.asarray(vector, dtype=np.float32)
        small = len(set(within)) <= EXACT_ROWS if within is not None else \
            bool(expr) and self._filtered_rows(filters, expr) <= EXACT_ROWS
        exact = self._exact(query, limit, expr) if small else None
        if exact is not None:
            return exact
        hits = self._client.search(
            self.chunks_collection, data=[query.tolist()], anns_field="vector",
            limit=limit, filter=expr,
            search_params={"metric_type": "COSINE", "params": {"ef": max(EF_FLOOR, limit)}})[0]
        return [(int(h["id"]), float(h["distance"])) for h in hits]

    def _filtered_rows(self, filters: Filters, expr: str) -> int:
        when, rows = self._filtered.get(filters, (0.0, -1))
        if rows < 0 or time.monotonic() - when > COUNT_TTL_S:
            rows = int(self._client.query(self.chunks_collection, filter=expr,
                                          output_fields=["count(*)"])[0]["count(*)"])
            if len(self._filtered) > 256:
                self._filtered.clear()
            self._filtered[filters] = (time.monotonic(), rows)
        return rows

    def _exact(self, query: np.ndarray, limit: int, expr: str) -> Ranked | None:
        """Cosine over every vector `expr` keeps, on the client (the local engine's exact subset search);
        None when the filter has grown past EXACT_ROWS since it was counted (HNSW then)."""
        rows = self._client.query(self.chunks_collection, filter=expr, output_fields=["id", "vector"],
                                  limit=EXACT_ROWS + 1)
        if len(rows) > EXACT_ROWS:
            return None
        if not rows:
            return []
        ids = np.array([int(r["id"]) for r in rows], dtype=np.int64)
        mat = np.asarray([r["vector"] for r in rows], dtype=np.float32)
        norms = np.linalg.norm(mat, axis=1) * (np.linalg.norm(query) or 1.0)
        scores = mat @ query / np.where(norms == 0, 1.0, norms)
        order = np.lexsort((ids, -scores))[:limit]
        return [(int(ids[i]), float(scores[i])) for i in order]

    def vector(self, chunk_id: int) -> np.ndarray | None:
        rows = self._client.query(self.chunks_collection, filter=in_ints("id", [chunk_id]), output_fields=["vector"])
        return np.asarray(rows[0]["vector"], dtype=np.float32) if rows else None

    def term_table(self) -> None:
        """No term table is synced to Milvus yet: the bridge (search/bridge.py) is off on this engine."""
        return None

    def sentence_vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray] | None:
        """The stored sentence vectors (schema.pack_sentences); None when the synced generation had none (the
        search then encodes the candidates' sentences, as for a local generation without them)."""
        if self.info.get("sentences") != "1":
            return None
        dim = int(self.info.get("dim") or 0)
        return {int(r["id"]): rows for r in self._rows(ids, ["id", "sentences"])
                if (rows := schema.unpack_sentences(r["sentences"], dim)) is not None}

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

    def fold_keys(self, ids: np.ndarray) -> FoldKeys:
        return fold_keys_of(ids, self.facts(ids))

    def facts(self, ids: Sequence[int]) -> dict[int, ChunkFacts]:
        """The chunks' facts: those fetched in the last FACTS_TTL_S (a search asks for the same ids for its
        matches, folds and facet counts), the rest from Milvus."""
        known, fresh = self._known, time.monotonic() - FACTS_TTL_S
        if len(known) > FACTS_KEPT or fresh - self._purged > FACTS_TTL_S:  # stale rows go, at most every TTL
            self._known = known = {cid: got for cid, got in known.items() if got[0] >= fresh}
            self._purged = fresh + FACTS_TTL_S
            if len(known) > FACTS_KEPT:
                self._known = known = {}
        wanted = {int(i) for i in (ids.tolist() if isinstance(ids, np.ndarray) else ids)}
        out = {cid: got[1] for cid in wanted if (got := known.get(cid)) is not None and got[0] >= fresh}
        missing = wanted - out.keys()
        if missing:
            for r in self._rows(missing, schema.FACT_FIELDS):
                out[int(r["id"])] = known[self._remember(r)][1]
        return out

    def chunks(self, ids: Iterable[int]) -> dict[int, ChunkRow]:
        return {int(r["id"]): _chunk_row(r) for r in self._rows(ids, schema.CHUNK_FIELDS)}

    def figures(self, ids: Iterable[int]) -> dict[int, list[FigureRow]]:
        # Derived, not stored: the same extractor over the same text gives the rows the local catalog stores.
        return {cid: rows for cid, row in self.chunks(ids).items() if (rows := figure_rows(cid, row.text))}

    def word_offsets(self, ids: Iterable[int]) -> dict[int, bytes]:
        # Derived, not stored: Milvus has no blob type and the analyzer is the one the tokens came from.
        analyzer = default_analyzer()
        out = {}
        for cid, row in self.chunks(ids).items():
            blob = pack_word_offsets(analyzer.tokenize(row.text))
            if blob is not None:
                out[cid] = blob
        return out

    def _heads(self, doc_ids: Iterable[str], fields: list[str]) -> dict[str, dict]:
        """Part 0 (the committed metadata row) of each document, by primary key."""
        keys = [schema.part_key(d, 0, "") for d in set(doc_ids)]
        out: dict[str, dict] = {}
        for start in range(0, len(keys), MAX_TOPK):
            for r in self._client.query(self.docs_collection, ids=keys[start : start + MAX_TOPK],
                                        output_fields=["doc_id", *fields]):
                out[r["doc_id"]] = r
        return out

    def _records(self, doc_ids: Iterable[str]) -> dict[str, dict]:
        return {d: json.loads(r["row"]) for d, r in self._heads(doc_ids, ["row"]).items()}

    def documents(self, doc_ids: Iterable[str]) -> dict[str, DocRow]:
        wanted = set(doc_ids)
        out = {d: _doc_row(rec) for d, rec in self._records(wanted).items()}
        missing = wanted - out.keys()
        if missing:  # chunks whose document row an incremental sync has not written yet: their own metadata
            rows = self._client.query(self.chunks_collection, filter=in_strings("doc_id", missing),
                                      output_fields=["doc_id", "path", "title", "place", "region", "level", "year"],
                                      limit=MAX_TOPK)
            for r in rows:
                if r["doc_id"] not in out:
                    out[r["doc_id"]] = DocRow(
                        doc_id=r["doc_id"], path=r["path"], fmt="", content_hash="", size=0, mtime_ns=0,
                        overrides="", meta=DocumentMeta(title=r["title"], place=r["place"], level=r["level"],
                                                        region=r["region"], year=_none(r["year"]), date=None))
        return out

    def document_list(self) -> list[DocRow]:
        """Every committed document, by path (as Catalog.documents)."""
        rows = self._select("n == 0", ["row"], self.docs_collection)
        return sorted((_doc_row(json.loads(r["row"])) for r in rows), key=lambda d: d.path)

    def document_chunks(self, doc_id: str) -> list[ChunkRow]:
        rows = self._select(in_strings("doc_id", [doc_id]), schema.CHUNK_FIELDS)
        return sorted((_chunk_row(r) for r in rows), key=lambda c: (c.paragraph_index, c.part))  # as Catalog.chunks_of

    def paragraphs(self, doc_id: str) -> list[Paragraph]:
        head = self._heads([doc_id], ["parts", "h", "paragraphs"]).get(doc_id)
        if head is None:
            raise KeyError(doc_id)
        pieces = [head["paragraphs"]]
        if int(head["parts"]) > 1:  # the parts part 0 names (a sync may be writing a newer set beside them)
            keys = [schema.part_key(doc_id, n, head["h"]) for n in range(1, int(head["parts"]))]
            rest = {int(r["n"]): r["paragraphs"] for r in self._client.query(
                self.docs_collection, ids=keys, output_fields=["n", "paragraphs"])}
            pieces += [rest[n] for n in range(1, int(head["parts"]))]
        return [Paragraph(index=p["index"], text=p["text"], is_heading=p["is_heading"],
                          heading_level=p["heading_level"], heading_path=tuple(p["heading_path"]),
                          section_kind=SectionKind(p["section_kind"]))
                for p in json.loads("".join(pieces))]

    def aliases_of(self, doc_id: str) -> list[str]:
        rec = self._records([doc_id]).get(doc_id)
        return list(rec.get("aliases", [])) if rec else []

    def dup_members(self, groups: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
        groups = [g for g in set(groups) if g is not None and g != schema.NONE_INT]
        out: dict[int, list[tuple[int, str]]] = {}
        if not groups:
            return out
        for r in sorted(self._select(in_ints("dup_group", groups), ["id", "doc_id", "dup_group"]),
                        key=lambda r: r["id"]):
            out.setdefault(int(r["dup_group"]), []).append((int(r["id"]), r["doc_id"]))
        return out

    # ------------------------------------------------------------------ whole-corpus figures
    def facet_values(self, filters: Filters) -> dict[str, list[tuple[str, int]]]:
        """From the counts table the last finished sync wrote (facetcounts.py: no chunk row is read); by
        reading every row the filters keep when there is none (a sync running, or killed)."""
        table = self._facet_table()
        if table is not None:
            return facetcounts.facet_values(table, filters)
        counts: dict[str, Counter] = {k: Counter() for k in ("place", "level", "region", "year", "kind")}
        expr = filter_expr(filters) or "id >= 0"
        for r in self._select(expr, ["id", "place", "level", "region", "year", "kind"]):
            for k in counts:
                v = r[k]
                if k == "year":
                    v = "" if v == schema.NONE_INT else str(v)
                counts[k][v or UNKNOWN] += 1  # a missing document value is a value of its own
        return {k: sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) for k, c in counts.items()}

    def _gram_table(self) -> dict | None:
        """The sync's common-bigram counts (gramcounts.py); None for a pair without them (schema < 4)."""
        named = self.info.get("grams", "")
        if self._grams is None or self._grams[0] != named:
            self._grams = named, gramcounts.read(self._client, self.docs_collection, self.info) if named else None
        return self._grams[1]

    def _facet_table(self) -> list[list] | None:
        info = self.info
        named = (info.get("digest", ""), info.get("facets", ""))
        if self._facets is None or self._facets[0] != named:
            self._facets = named, facetcounts.read(self._client, self.docs_collection, info)
        return self._facets[1]

    def counts(self) -> tuple[int, int]:
        docs = self._client.query(self.docs_collection, filter="n == 0", output_fields=["count(*)"])[0]["count(*)"]
        chunks = self._client.query(self.chunks_collection, filter="", output_fields=["count(*)"])[0]["count(*)"]
        return int(docs), int(chunks)

    def close(self) -> None:
        """The client belongs to the engine (one connection for every snapshot)."""


def _released(exc: BaseException) -> bool:
    """Milvus's answer for a collection not in memory (a restarted server releases every collection)."""
    return getattr(exc, "code", None) == 101 or "released" in str(exc) or "not loaded" in str(exc)


def _reloading(method):
    """A server that restarted under a reader holds the pair released: load it and ask again, once."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            if not _released(exc):
                raise
            log.info("milvus: %s released (server restarted?): loading it again", self.chunks_collection)
            for name in (self.chunks_collection, self.docs_collection):
                self._client.load_collection(name)
            return method(self, *args, **kwargs)
    return wrapper


# A server that goes away mid-query: one MilvusUnavailable naming the URI, from every public method; one that
# came back (collections released) is loaded again.
for _name in ("_read_info", "keyword", "matching", "semantic", "vector", "facts", "chunks", "word_offsets",
              "documents", "document_chunks", "document_list", "paragraphs", "aliases_of", "dup_members",
              "facet_values", "counts", "sentence_vectors"):
    setattr(MilvusSnapshot, _name, guarded(_reloading(getattr(MilvusSnapshot, _name))))
