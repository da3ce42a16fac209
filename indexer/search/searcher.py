"""Searcher: the one façade the CLI, web app, scripts and tests use to query the published index.

It holds the embedding model for the life of the process and one opened generation at a time; on each
call it checks (one stat) whether a newer generation was published and switches to it, while queries
already running finish on the generation they started with.
"""
from __future__ import annotations

import dataclasses
import html
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Generic, Iterable, Iterator, TypeVar

import numpy as np

from indexer.catalog import Catalog, ChunkRow, DocRow
from indexer.config import Config
from indexer.dedup import MatchedSentence, SentencePool, matched_sentence
from indexer.base import analysis
from indexer.fulltext.factory import open_fulltext
from indexer.generations import CURRENT, CurrentUnreadable, GenerationStore, IndexUnavailable, ReaderHold
from indexer.search.columns import FACETS, ChunkColumns
from indexer.base.filters import Filters
from indexer.search.fuse import Fused, fuse, single
from indexer.search.highlight import DEFAULT_MAX_MARKS, mark_spans, query_spans
from indexer.base.querytree import ParsedQuery, is_strict
from indexer.search.query import parse_query
from indexer.search.rewrite import QueryRewriter
from indexer.search.routing import FusionPlan, fusion_plan
from indexer.search.sentences import SentenceReranker
from indexer.search.types import (
    MATCH_LITERAL, MATCH_SEMANTIC, MODES, ContextView, DocumentView, Hit, ParagraphView, QueryError, SearchRequest,
    SearchResponse, SharedSentence, SharedWith,
)
from indexer.vectors import Encoder, VectorIndex

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100
MAX_PAGE = 50
STRICT_CANDIDATES = 1000
SENTENCE_MARK_DEPTH = 100  # other reports with a shown hit's stock sentence are looked for among these top hits
NO_LITERAL_MATCH = "没有字面匹配的段落，以下为意思相近的段落。"


class IndexNotFound(IndexUnavailable):
    """No generation has been published yet, or the published one cannot be opened (damaged)."""


K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """A small thread-safe least-recently-used map; values are made outside the lock (two threads may
    both make a missing value; the last one is kept)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: K, make: Callable[[K], V]) -> V:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make(key)
        with self._lock:
            self._items[key] = value
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class _Generation:
    """One opened, immutable generation, reference-counted so it closes after its last query."""

    def __init__(self, name: str, path: Path, config: Config):
        self.name = name
        self.path = path
        self.hold = ReaderHold(path)
        try:
            self.catalog = Catalog(path / "catalog.sqlite", readonly=True)
            self.info = self.catalog.info()
            self.fulltext = open_fulltext(path / "fulltext", config)
            self.vectors = VectorIndex.load(path / "vectors.faiss")
            self.columns = ChunkColumns(self.catalog)
        except Exception:
            self.hold.release()
            raise
        self.refs = 0
        self.retired = False
        self._lock = threading.Lock()
        self._filter_ids: LruCache[Filters, np.ndarray] = LruCache(64)

    def filter_ids(self, filters: Filters) -> np.ndarray:
        """Chunk ids passing `filters`, cached: a generation never changes and users reuse a few facet values."""
        return self._filter_ids.get_or_make(filters, self.columns.filter_ids)

    def acquire(self) -> None:
        with self._lock:
            self.refs += 1

    def release(self) -> None:
        with self._lock:
            self.refs -= 1
            done = self.retired and self.refs == 0
        if done:
            self._close()

    def retire(self) -> None:
        with self._lock:
            self.retired = True
            done = self.refs == 0
        if done:
            self._close()

    def _close(self) -> None:
        self.fulltext.close()
        self.catalog.close()
        self.hold.release()


class _Candidates:
    """What one search reads about its candidate chunks: small values from the generation's in-memory
    columns, and chunk rows, documents and word offsets from the catalog only for the few hits that need
    them (the shown page; the candidates checked for shared stock sentences), each loaded once."""

    def __init__(self, gen: _Generation, parsed: ParsedQuery | None, fused: list[Fused]):
        self.gen, self.cols, self.parsed = gen, gen.columns, parsed
        positions = self.cols.positions([f.chunk_id for f in fused])
        self.pos = {f.chunk_id: int(p) for f, p in zip(fused, positions) if p >= 0}
        self.rows: dict[int, ChunkRow] = {}
        self.docs: dict[str, DocRow] = {}
        self._offsets: dict[int, bytes] = {}
        self._offsets_read: set[int] = set()
        self._spans: dict[int, list[tuple[int, int]]] = {}

    def doc_id(self, cid: int) -> str:
        return self.cols.doc_id(self.pos[cid])

    def group(self, cid: int) -> int | None:
        return self.cols.group(self.pos[cid])

    def load(self, ids: Iterable[int], offsets: bool = True) -> None:
        """Fetch the rows and (for a query with words, unless not wanted) word offsets of these chunks, one
        catalog query each."""
        ids = list(ids)
        want = [i for i in ids if i not in self.rows]
        if want:
            self.rows.update(self.gen.catalog.chunks_by_id(want))
        if offsets and self.parsed is not None and self.parsed.terms:
            want = [i for i in ids if i not in self._offsets_read]
            if want:
                self._offsets.update(self.gen.catalog.word_offsets(want))
                self._offsets_read.update(want)

    def load_docs(self, doc_ids: Iterable[str]) -> None:
        """Fetch these documents' rows (only shown hits and listed copies need them), one catalog query."""
        want = {d for d in doc_ids if d not in self.docs}
        if want:
            self.docs.update(self.gen.catalog.documents_by_id(want))

    def doc(self, cid: int) -> DocRow:
        doc_id = self.doc_id(cid)
        if doc_id not in self.docs:
            self.load_docs([doc_id])
        return self.docs[doc_id]

    def spans(self, cid: int) -> list[tuple[int, int]]:
        """The query's literal matches in the chunk (exactly highlight.tokenized_spans)."""
        spans = self._spans.get(cid)
        if spans is None:
            self.load([cid])
            blob = self._offsets.get(cid)
            offsets = analysis.unpack_word_offsets(blob) if blob is not None else None
            spans = self._spans[cid] = query_spans(self.rows[cid].text, self.parsed, offsets)
        return spans


class Searcher:
    def __init__(self, config: Config, encoder: Encoder | None = None):
        self.config = config
        self.store = GenerationStore(config.index_dir)
        analysis.configure(config.user_dict)  # queries must tokenize like the index did
        self.encoder = encoder or Encoder(config.model, config.embed_batch_size, config.encoder_backend)
        self._gen: _Generation | None = None
        self._current_stamp: tuple | None = None
        self._switch_lock = threading.Lock()
        self._qcache: LruCache[str, np.ndarray] = LruCache(2048)
        self.rewriter = QueryRewriter.from_config(config)  # reads the 口语→公文 lexicon once
        self.sentences = SentenceReranker.from_config(config, lambda texts: self.encoder.encode(texts))

    @classmethod
    def open(cls, config: Config, encoder: Encoder | None = None) -> "Searcher":
        searcher = cls(config, encoder)
        with searcher._use() as gen:
            model = gen.info.get("model", "")
            if model and model != searcher.encoder.name:
                log.warning("index was built with model %s but %s is configured; using %s for queries",
                            model, searcher.encoder.name, model)
                searcher.encoder = Encoder(model, config.embed_batch_size, config.encoder_backend)
        searcher.encoder.model  # load now, not on the first user's query
        analysis.default_analyzer()  # jieba's dictionary too: a second on first use
        return searcher

    def close(self) -> None:
        self.sentences.close()
        with self._switch_lock:
            if self._gen is not None:
                self._gen.retire()
                self._gen = None

    # -- generation handling -------------------------------------------------------------------
    def _stamp(self) -> tuple | None:
        try:
            st = os.stat(self.store.index_dir / CURRENT)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    @contextmanager
    def _use(self) -> Iterator[_Generation]:
        stamp = self._stamp()
        if stamp is None and self._gen is None:
            raise IndexNotFound(f"no index in {self.store.index_dir}: run `reportsearch index` first")
        if stamp != self._current_stamp or self._gen is None:
            with self._switch_lock:
                if stamp != self._current_stamp or self._gen is None:
                    self._switch(stamp)
        with self._switch_lock:
            gen = self._gen
            gen.acquire()
        try:
            yield gen
        finally:
            gen.release()

    def _switch(self, stamp: tuple | None) -> None:
        try:
            name = self.store.current_name()
        except CurrentUnreadable as exc:
            if self._gen is None:
                raise IndexNotFound(f"index damaged: {exc}; run `reportsearch index --full`") from exc
            log.warning("%s; still serving %s", exc, self._gen.name)
            self._current_stamp = stamp  # warned once per change of CURRENT, not on every query
            return
        if name is None and self._gen is None:
            raise IndexNotFound(f"no index in {self.store.index_dir}: run `reportsearch index` first")
        if name is None or (self._gen is not None and self._gen.name == name):
            self._current_stamp = stamp
            return
        try:
            new = _Generation(name, self.store.gen_root / name, self.config)
        except Exception as exc:  # missing or damaged files: sqlite3, FAISS and Whoosh each raise their own
            if self._gen is None:
                raise IndexNotFound(f"index damaged: published generation {name} cannot be opened "
                                    f"({type(exc).__name__}: {exc}); run `reportsearch index --full`") from exc
            log.warning("cannot open generation %s yet (%s); still serving %s", name, exc, self._gen.name)
            return
        old, self._gen = self._gen, new
        self._current_stamp = stamp
        if old is not None:
            log.info("switched from generation %s to %s", old.name, name)
            old.retire()

    # -- queries -------------------------------------------------------------------------------
    def _validate(self, req: SearchRequest) -> None:
        if req.mode not in MODES:
            raise QueryError("mode", f"未知的检索方式 {req.mode!r}，可选：hybrid（混合）、keyword（关键词）、semantic（语义）")
        if len(req.query) > self.config.max_query_chars:
            raise QueryError("q", f"检索词过长（{len(req.query)} 字），请控制在 {self.config.max_query_chars} 字以内")
        if not 1 <= req.size <= MAX_PAGE_SIZE:
            raise QueryError("size", f"每页条数应在 1 到 {MAX_PAGE_SIZE} 之间")
        if not 1 <= req.page <= MAX_PAGE:
            raise QueryError("page", f"页码应在 1 到 {MAX_PAGE} 之间")

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector; popular queries are encoded once (the model is most of a query's time)."""
        return self._qcache.get_or_make(text, lambda t: self.encoder.encode([t])[0])

    def _retrieve(self, gen: _Generation, parsed: ParsedQuery, mode: str,
                  filters: Filters) -> tuple[list[Fused], set[int]]:
        """The ranked candidates (those the keyword side did not find and whose similarity is below
        Config.semantic_floor cut off) and the ids that match the query as typed (the literal matches)."""
        cfg = self.config
        n = cfg.candidates
        strict = is_strict(parsed.root)  # quoted phrases / AND / NOT: every hit must satisfy them
        # The keyword side runs in every mode: in semantic mode it only tells which hits match literally.
        # A constrained query lets semantics only re-rank keyword matches: fetch enough of them.
        limit = STRICT_CANDIDATES if strict and mode != "keyword" else n
        # Everyday words add official terms on the keyword side (search/rewrite.py); a hit found only
        # through such a term is not a literal match of what the user typed, so "literal" asks the typed query.
        expanded = self.rewriter.keyword_query(parsed) if mode != "semantic" else parsed
        keyword = gen.fulltext.search(expanded, limit=limit, filters=filters)
        found = {cid for cid, _ in keyword}
        if expanded is parsed:
            literal = found
        else:
            literal = {cid for cid, _ in gen.fulltext.search(parsed, limit=limit, filters=filters)}
        if mode == "keyword":
            return single("keyword", keyword), literal
        semantic: list[tuple[int, float]] = []
        text = parsed.semantic_text.strip()
        if text:
            allowed = None
            if strict:
                allowed = np.fromiter((cid for cid, _ in keyword), dtype=np.int64, count=len(keyword))
            elif not filters.is_empty():
                allowed = gen.filter_ids(filters)
            semantic = gen.vectors.search(self.embed_query(text), n, allowed)
            semantic = self.sentences.semantic(semantic, self.embed_query(text), gen.catalog)
        if mode == "semantic":
            fused = single("semantic", semantic)
        else:
            plan = self._weights(parsed, expanded=expanded is not parsed)
            fused = fuse({"keyword": keyword[:n], "semantic": semantic}, plan.weights(), plan.method, plan.k,
                         plan.norm, plan.confidence)
            fused = self.sentences.fused(fused, self.embed_query(text) if text else None, gen.catalog)
        return self._above_floor(fused, found), literal

    def _above_floor(self, fused: list[Fused], found: set[int]) -> list[Fused]:
        """Drop hits that are only near in meaning, and not near enough: a vector search always returns
        neighbours, even for a query the corpus knows nothing about (calibrated: scripts/calibrate_floor.py)."""
        floor = self.config.semantic_floor
        if floor <= 0:
            return fused
        return [f for f in fused if f.chunk_id in found or f.scores.get("semantic", 0.0) >= floor]

    def _weights(self, parsed: ParsedQuery, expanded: bool = False) -> FusionPlan:
        """Fusion method and weights by query kind (indexer/search/routing.py)."""
        return fusion_plan(parsed, self.config, expanded)

    def search(self, req: SearchRequest) -> SearchResponse:
        t0 = time.perf_counter()
        self._validate(req)
        parsed = parse_query(req.query)
        with self._use() as gen:
            fused, literal = self._retrieve(gen, parsed, req.mode, req.filters)
            cand = _Candidates(gen, parsed, fused)
            fused = [f for f in fused if f.chunk_id in cand.pos]
            matched = fused  # every matching paragraph, before copies are folded
            # A per-place view never folds a place's paragraph into another place's copy of it.
            copies_once = req.collapse_duplicates and not req.group_by_place
            facets = self._facets(gen, parsed, req, fused, copies_once)
            if req.group_by_place:
                fused = _best_per_place(fused, cand)
            elif req.collapse_duplicates:
                fused = _one_copy_per_group(fused, cand)
            total = len(fused)
            start = (req.page - 1) * req.size
            page = fused[start : start + req.size]
            cand.load(f.chunk_id for f in page)
            cand.load_docs(cand.doc_id(f.chunk_id) for f in page)
            spans = {f.chunk_id: cand.spans(f.chunk_id) for f in page}  # the literal matches to highlight
            shared: dict[int, list[SharedWith]] = {}
            sentences: dict[int, SharedSentence] = {}
            if req.collapse_duplicates:
                self._list_group_members(gen, page, cand, shared)
                sentences = self._shared_sentences(page, spans, matched, cand, literal, shared)
            hits = [self._hit(f, cand.rows[f.chunk_id], cand.doc(f.chunk_id), parsed, shared,
                              spans[f.chunk_id], f.chunk_id in literal, sentences.get(f.chunk_id))
                    for f in page]
            literal_total = sum(1 for f in fused if f.chunk_id in literal)
            notes = [parsed.warning] if parsed.warning else []
            if total and not literal_total:
                notes.append(NO_LITERAL_MATCH)
            pages = -(-total // req.size)
            if total and req.page > pages:
                notes.append(f"第 {req.page} 页超出范围：共 {total} 条结果，{pages} 页。")
            return SearchResponse(
                query=req.query, mode=req.mode, total=total, hits=hits, facets=facets,
                took_ms=round((time.perf_counter() - t0) * 1000, 2), page=req.page, size=req.size,
                generation=gen.name, message=" ".join(notes) or None, literal_total=literal_total,
            )

    def _facets(self, gen: _Generation, parsed: ParsedQuery, req: SearchRequest, matched: list[Fused],
                copies_once: bool) -> dict[str, list[tuple[str, int]]]:
        """Disjunctive facet counts: each field's counts apply the query and every *other* field's active
        filters (so its values are the alternatives a click offers); counts are paragraphs, a folded
        boilerplate group once per value. A field with active values needs its own retrieval without them."""
        cols = gen.columns

        def counts(hits: list[Fused], fields: list[str]) -> dict[str, list[tuple[str, int]]]:
            return cols.facet_counts(cols.positions([f.chunk_id for f in hits]), fields, copies_once)

        active = [name for name in FACETS if getattr(req.filters, name)]
        out = counts(matched, [name for name in FACETS if name not in active])
        for name in active:
            without, _ = self._retrieve(gen, parsed, req.mode, dataclasses.replace(req.filters, **{name: ()}))
            out.update(counts(without, [name]))
        return {name: out[name] for name in FACETS}

    def _shared_sentences(self, page: list[Fused], spans: dict[int, list[tuple[int, int]]], matched: list[Fused],
                          cand: _Candidates, literal: set[int],
                          shared: dict[int, list[SharedWith]]) -> dict[int, SharedSentence]:
        """Mark the shown hits whose literal matches lie in one sentence that paragraphs of other reports
        among the query's top literal hits also carry (dedup.contains_sentence). Nothing is hidden."""
        if not (cand.parsed.terms or cand.parsed.phrases):
            return {}
        found: dict[int, MatchedSentence] = {}
        for f in page:
            if f.chunk_id in literal:
                sentence = matched_sentence(cand.rows[f.chunk_id].text, spans[f.chunk_id])
                if sentence is not None:
                    found[f.chunk_id] = sentence
        if not found:
            return {}
        pool = [f.chunk_id for f in matched if f.chunk_id in literal][:SENTENCE_MARK_DEPTH]
        cand.load(pool, offsets=False)
        texts = SentencePool({cid: cand.rows[cid].text for cid in pool})
        rank = {cid: i for i, cid in enumerate(pool)}
        out: dict[int, SharedSentence] = {}
        for cid, sentence in found.items():
            seen = {cand.doc_id(cid)} | {s.doc_id for s in shared.get(cid, [])}  # listed copies: said already
            others = []
            for other in sorted(texts.holders(sentence), key=rank.__getitem__):  # the pool's order
                doc_id = cand.doc_id(other)
                if doc_id not in seen:
                    seen.add(doc_id)
                    others.append(other)
            if others:
                cand.load_docs(cand.doc_id(o) for o in others)
                text = cand.rows[cid].text[sentence.start : sentence.end].strip()
                out[cid] = SharedSentence(text, [
                    SharedWith(doc_id=(d := cand.doc(o)).doc_id, path=d.path, place=d.meta.place, chunk_id=o)
                    for o in others])
        return out

    @staticmethod
    def _list_group_members(gen: _Generation, page: list[Fused], cand: _Candidates,
                            shared: dict[int, list[SharedWith]]) -> None:
        """Add the other reports of each shown hit's boilerplate group to its `shared_with`."""
        groups = {g for f in page if (g := cand.group(f.chunk_id)) is not None}
        if not groups:
            return
        members = gen.catalog.dup_members(groups)
        cand.load_docs(d for m in members.values() for _, d in m)
        for f in page:
            g = cand.group(f.chunk_id)
            if g is None:
                continue
            listed = shared.setdefault(f.chunk_id, [])
            known = {cand.doc_id(f.chunk_id)} | {s.doc_id for s in listed}
            group = [SharedWith(doc_id=d, path=cand.docs[d].path, place=cand.docs[d].meta.place, chunk_id=cid)
                     for cid, d in members.get(g, []) if d not in known and d in cand.docs]
            listed[:0] = group

    def _hit(self, f: Fused, row: ChunkRow, doc: DocRow, parsed: ParsedQuery | None,
             shared: dict[int, list[SharedWith]], spans: list[tuple[int, int]] = (), literal: bool = True,
             sentence: SharedSentence | None = None) -> Hit:
        if parsed is None:
            marked = mark_spans(row.text, [], None)
        else:
            marked = mark_spans(row.text, list(spans)[:DEFAULT_MAX_MARKS])
            if not _has_literal_match(marked) and parsed.semantic_text.strip():
                span = best_sentence(row.text, parsed.semantic_text)
                marked = mark_spans(row.text, [span] if span else [], "sem")
        m = doc.meta
        return Hit(
            chunk_id=row.chunk_id, doc_id=doc.doc_id, path=doc.path, title=m.title, place=m.place,
            region=m.region, level=m.level, year=m.year, date=m.date, heading_path=list(row.heading_path),
            section_kind=row.section_kind, text=row.text, highlighted=marked, paragraph_index=row.paragraph_index,
            part=row.part, score=round(f.score, 6), keyword_rank=f.ranks.get("keyword"),
            semantic_rank=f.ranks.get("semantic"), keyword_score=_round(f.scores.get("keyword")),
            semantic_score=_round(f.scores.get("semantic")), shared_with=shared.get(row.chunk_id, []),
            match=MATCH_LITERAL if literal else MATCH_SEMANTIC, shared_sentence=sentence,
        )

    # -- documents, context, similar, facets, health -------------------------------------------
    def document(self, doc_id: str) -> DocumentView:
        with self._use() as gen:
            doc = gen.catalog.document(doc_id)
            if doc is None:
                raise KeyError(doc_id)
            return DocumentView(
                doc_id=doc.doc_id, path=doc.path, fmt=doc.fmt, title=doc.meta.title, place=doc.meta.place,
                level=doc.meta.level, region=doc.meta.region, year=doc.meta.year, date=doc.meta.date,
                paragraphs=self._paragraph_views(gen, doc_id), other_paths=gen.catalog.aliases_of(doc_id),
            )

    def _paragraph_views(self, gen: _Generation, doc_id: str) -> list[ParagraphView]:
        by_para: dict[int, list[int]] = {}
        for c in gen.catalog.chunks_of(doc_id):
            by_para.setdefault(c.paragraph_index, []).append(c.chunk_id)
        return [
            ParagraphView(index=p.index, text=p.text, is_heading=p.is_heading, heading_level=p.heading_level,
                          heading_path=list(p.heading_path), section_kind=p.section_kind.value,
                          chunk_ids=by_para.get(p.index, []))
            for p in gen.catalog.paragraphs(doc_id)
        ]

    def context(self, chunk_id: int, before: int = 2, after: int = 2) -> ContextView:
        with self._use() as gen:
            row = gen.catalog.chunks_by_id([chunk_id]).get(int(chunk_id))
            if row is None:
                raise KeyError(chunk_id)
            paras = self._paragraph_views(gen, row.doc_id)
            pos = next(i for i, p in enumerate(paras) if p.index == row.paragraph_index)
            return ContextView(
                doc_id=row.doc_id, chunk_id=row.chunk_id, paragraph_index=row.paragraph_index,
                before=paras[max(0, pos - before) : pos], target=paras[pos], after=paras[pos + 1 : pos + 1 + after],
            )

    def similar(self, chunk_id: int, limit: int = 10) -> SearchResponse:
        """Passages with similar content in *other* documents."""
        t0 = time.perf_counter()
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise QueryError("size", f"条数应在 1 到 {MAX_PAGE_SIZE} 之间")
        with self._use() as gen:
            row = gen.catalog.chunks_by_id([chunk_id]).get(int(chunk_id))
            if row is None:
                raise KeyError(chunk_id)
            found = gen.vectors.search(gen.vectors.vector(row.chunk_id), limit * 5 + 20)
            rows = gen.catalog.chunks_by_id(cid for cid, _ in found)
            docs = gen.catalog.documents_by_id(r.doc_id for r in rows.values())
            hits, seen_groups = [], set()
            for rank, (cid, score) in enumerate(found, start=1):
                r = rows.get(cid)
                if r is None or r.doc_id == row.doc_id:
                    continue
                if r.dup_group is not None:
                    if r.dup_group in seen_groups:
                        continue
                    seen_groups.add(r.dup_group)
                hits.append(self._hit(Fused(cid, score, {"semantic": rank}, {"semantic": score}), r, docs[r.doc_id],
                                      None, {}, literal=False))
                if len(hits) >= limit:
                    break
            return SearchResponse(
                query=row.text, mode="semantic", total=len(hits), hits=hits, facets={},
                took_ms=round((time.perf_counter() - t0) * 1000, 2), page=1, size=limit, generation=gen.name,
            )

    def facets(self, filters: Filters = Filters()) -> dict[str, list[tuple[str, int]]]:
        with self._use() as gen:
            return gen.catalog.facet_values(filters=filters)

    def health(self) -> dict:
        with self._use() as gen:
            return {
                "status": "ok", "generation": gen.name, "built_at": gen.info.get("built_at", ""),
                "documents": gen.catalog.document_count(), "chunks": gen.catalog.chunk_count(),
                "model": gen.info.get("model", self.encoder.name),
            }


def _one_copy_per_group(fused: list[Fused], cand: _Candidates) -> list[Fused]:
    """The best-ranked copy of each boilerplate group (near-identical paragraphs of several reports) stands
    for it; who else has it is listed on the shown hit (_list_group_members)."""
    seen: set[int] = set()
    out = []
    for f in fused:
        g = cand.group(f.chunk_id)
        if g is None or g not in seen:
            if g is not None:
                seen.add(g)
            out.append(f)
    return out


def _best_per_place(fused: list[Fused], cand: _Candidates) -> list[Fused]:
    """One hit per place (a document without a known place counts as its own place)."""
    seen: set[str] = set()
    out = []
    for f in fused:
        key = cand.cols.place_key(cand.pos[f.chunk_id])
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


_SENTENCE_END = re.compile(r"[^。！？；!?;]+[。！？；!?;]?")
_STOP_CHARS = set("的了是在和与及等对把被为有也就都而或怎么如何什哪吗呢啊")


def best_sentence(text: str, query: str) -> tuple[int, int] | None:
    """The sentence of `text` that shares the most characters and character pairs with the query.

    Cheap on purpose: it runs for every displayed semantic hit; character overlap is a fair proxy for
    which sentence the embedding matched when no query word occurs literally."""
    q_chars = {c for c in query if c.strip() and c not in _STOP_CHARS}
    q_pairs = {query[i : i + 2] for i in range(len(query) - 1)}
    best, best_score = None, 0.0
    for m in _SENTENCE_END.finditer(text):
        s = m.group(0)
        if len(s.strip()) < 4:
            continue
        score = sum(1 for c in set(s) if c in q_chars) + 2 * sum(1 for i in range(len(s) - 1) if s[i : i + 2] in q_pairs)
        if score > best_score:
            best, best_score = (m.start(), m.end()), score
    return best


_MARKED = re.compile(r"<mark>([^<]*)</mark>")


def _has_literal_match(marked_html: str) -> bool:
    """A real literal match marks at least two characters; a lone shared character (骗) is noise."""
    return any(len(html.unescape(m)) >= 2 for m in _MARKED.findall(marked_html))


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)
