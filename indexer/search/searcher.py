"""Searcher: the one façade the CLI, web app, scripts and tests use to query the published index.

Verbs only: search, figures, place, years, document, find_document, documents, document_chunks, all_chunks, context, similar,
facets, health, embed_query, snapshot, close. It holds the embedding model for the life of the process and talks to the storage engine only through its
snapshots (indexer/engines/base.py); each call uses the current snapshot, switching when a newer one is
published (search/snapshots.py), while queries already running finish on the one they started with.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np

from indexer.core import analysis
from indexer.core.filters import Filters
from indexer.core.lru import LruCache
from indexer.core.querytree import ParsedQuery
from indexer.storage.catalog import ChunkRow, DocRow
from indexer.core.config import Config
from indexer.engines.base import Engine, IndexDamaged, IndexNotFound, Snapshot
from indexer.core.facets import FACET_FIELDS as FACETS
from indexer.search.damage import DamageCheck
from indexer.search.encoders import SnapshotEncoders
from indexer.search.candidates import Candidates
from indexer.search.figures import (
    FiguresCache, FiguresRequest, FiguresResponse, MeasureGrouper, active_filters, check_figures_request,
    figures_table,
)
from indexer.search.fuse import Fused
from indexer.search.highlight import MARK_OFFICIAL, has_real_match, hit_marks
from indexer.search.limits import MAX_PAGE, MAX_PAGE_SIZE, check_mode, check_query, check_range
from indexer.search.official import OfficialMatch, no_literal_note, official_matches
from indexer.search.query import parse_query
from indexer.search.sentences import SentenceReranker
from indexer.search.resultset import ResultSet
from indexer.search.retrieve import Retriever
from indexer.search.rewrite import QueryRewriter
from indexer.search.routing import sentence_like
from indexer.search.shared import SENTENCE_MARK_DEPTH, list_group_members, shared_sentences
from indexer.search.snapshots import CurrentSnapshot
from indexer.search.years import (
    PlaceView, YearsRequest, YearsResponse, check_years_request, chosen_reports, compare, place_reports, place_view,
    scope_ids,
)
from indexer.search.types import (
    MATCH_LITERAL, MATCH_OFFICIAL, MATCH_SEMANTIC, ContextView, DocumentView, Hit, ParagraphView, SearchRequest,
    SearchResponse, SharedSentence, SharedWith,
)
from indexer.storage.vectors import Encoder
from indexer.storage.vectors.encoder import cache_key

__all__ = ["IndexNotFound", "Searcher"]  # IndexNotFound: where callers have always imported it from

log = logging.getLogger(__name__)


class Searcher:
    def __init__(self, config: Config, encoder: Encoder | None = None, engine: Engine | None = None):
        from indexer.engines.factory import open_engine  # local unless config.engine.name says otherwise

        self.config = config
        analysis.configure(config.analysis.user_dict)  # queries must tokenize like the index did
        self._encoders = SnapshotEncoders(config, encoder or Encoder.from_config(config))
        self._current = CurrentSnapshot(engine or open_engine(config))
        self._qcache: LruCache[tuple[str, str], np.ndarray] = LruCache(2048)
        self.rewriter = QueryRewriter.from_config(config)  # reads the 口语→公文 lexicon once
        self.sentences = SentenceReranker.from_config(config, lambda texts: self.encoder.encode(texts),
                                                      lambda: self.encoder.name)
        self._retriever = Retriever(config, self.rewriter, self.embed_query, self.sentences)
        self._damage = DamageCheck()
        self._measures = MeasureGrouper(lambda: self.encoder, config.figures.group_threshold)
        self._figure_tables = FiguresCache(config.figures.table_cache_entries, config.figures.table_cache_rows)

    @classmethod
    def open(cls, config: Config, encoder: Encoder | None = None, engine: Engine | None = None) -> "Searcher":
        searcher = cls(config, encoder, engine)
        with searcher._use():  # the index's own model (adapted, or another than configured) from here on
            searcher.encoder.prepare_queries()  # load now, not on the first user's query
        analysis.default_analyzer()  # jieba's dictionary too: a second on first use
        return searcher

    def close(self) -> None:
        """Release the snapshot and close the engine (a Milvus client's connection): the searcher is done."""
        self.sentences.close()
        self._current.close()

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """The current snapshot, for tools that need the engine's own lists (a keyword-only ranking, a chunk's
        vector): only what engines/base.py `Snapshot` promises, on whichever engine is configured."""
        with self._use() as snap:
            yield snap

    @property
    def encoder(self) -> Encoder:
        """The encoder of the snapshot this thread's call uses (search/encoders.py)."""
        return self._encoders.current()

    @encoder.setter
    def encoder(self, encoder: Encoder) -> None:
        self._encoders.set(encoder)

    @contextmanager
    def _use(self) -> Iterator[Snapshot]:
        with self._current.use() as snap, self._encoders.using(snap.info.get("model", "")):
            try:
                yield snap
            except Exception as exc:  # damaged files surface as the engine's own errors: name the damage
                damaged = self._damage.explain(snap, exc)
                if damaged is None:
                    raise
                raise damaged from exc

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector; popular queries are encoded once (the model is most of a query's time)."""
        encoder = self.encoder  # keyed by model too: a switch to an adapted model must not reuse old vectors
        return self._qcache.get_or_make((encoder.name, text), lambda key: encoder.encode_query(key[1]))

    # -- search ----------------------------------------------------------------------------------
    def _validate(self, req: SearchRequest) -> None:
        check_mode(req.mode)
        check_query(req.query, self.config.retrieval.max_query_chars)
        check_range("size", req.size, 1, MAX_PAGE_SIZE)
        check_range("page", req.page, 1, MAX_PAGE)

    def search(self, req: SearchRequest) -> SearchResponse:
        t0 = time.perf_counter()
        self._validate(req)
        parsed = parse_query(req.query)
        with self._use() as snap:
            found = self._retriever.retrieve(snap, parsed, req.mode, req.filters)
            literal = found.literal
            results = ResultSet.of(snap, found)  # every result, unranked: counts and facets need no ranking
            # A per-place view never folds a place's paragraph into another place's copy of it.
            facets = self._facets(snap, parsed, req, results.ids,
                                  req.collapse_duplicates and not req.group_by_place)
            fold = results.fold(req.group_by_place, req.collapse_duplicates)
            shown_all = fold(results.everything())  # the same hits as the ranked list's, in another order
            start = (req.page - 1) * req.size
            need = min(start + req.size, len(shown_all)) if start < len(shown_all) else 0  # past the end: none
            head = results.ranked_head(found, fold, need)
            page = found.fused_of(results.ids[fold(head)[start : start + req.size]])
            cand = Candidates(snap, parsed)
            official = official_matches(page, cand)  # the page's official-term hits, with where their terms are

            def pool() -> list[int]:  # the ranked results as far as their first literal matches the
                depth = SENTENCE_MARK_DEPTH  # stock-sentence check reads (asked only then)
                return results.ids[results.ranked_head(found, results.literal_only, depth)].tolist()

            hits = self._page_hits(req, parsed, cand, page, pool, literal, official)
            literal_total = int(results.literal[shown_all].sum())
            shown_official = results.ids[shown_all[results.official[shown_all]]].tolist()
            return SearchResponse(
                query=req.query, mode=req.mode, total=len(shown_all), hits=hits, facets=facets,
                took_ms=round((time.perf_counter() - t0) * 1000, 2), page=req.page, size=req.size,
                generation=snap.name, literal_total=literal_total, official_total=len(shown_official),
                message=_notes(req, parsed, len(shown_all), literal_total,
                               lambda: {cid: found.official[cid] for cid in shown_official}),
                total_estimated=bool(results.near[shown_all].any()),
            )

    def _page_hits(self, req: SearchRequest, parsed: ParsedQuery, cand: Candidates, page: list[Fused],
                   matched: Callable[[], list[int]], literal: set[int],
                   official: dict[int, OfficialMatch]) -> list[Hit]:
        """The shown page's hits: rows, literal matches, and who else has the paragraph or its sentence."""
        cand.load(f.chunk_id for f in page)
        cand.load_docs(cand.doc_id(f.chunk_id) for f in page)
        spans = {f.chunk_id: cand.spans(f.chunk_id) for f in page}  # the literal matches to highlight
        shared: dict[int, list[SharedWith]] = {}
        sentences: dict[int, SharedSentence] = {}
        if req.collapse_duplicates:
            list_group_members(page, cand, shared)
            sentences = shared_sentences(page, spans, matched, cand, literal, shared)
        meaning = self._meaning_sentences(cand, parsed, req.mode, page, spans, official)
        return [_hit(f, cand.rows[f.chunk_id], cand.doc(f.chunk_id), parsed, shared.get(f.chunk_id, []),
                     spans[f.chunk_id], f.chunk_id in literal, sentences.get(f.chunk_id), meaning.get(f.chunk_id),
                     official.get(f.chunk_id), by_meaning=req.mode != "keyword")
                for f in page]

    def _meaning_sentences(self, cand: Candidates, parsed: ParsedQuery, mode: str, page: list[Fused],
                           spans: dict[int, list[tuple[int, int]]],
                           official: dict[int, OfficialMatch]) -> dict[int, tuple[int, int]]:
        """For the shown hits with nothing to mark literally (nor an official term), the sentence the
        embedding matched best."""
        text = parsed.semantic_text.strip()
        if mode == "keyword" or not text or not sentence_like(parsed):
            return {}
        want = {f.chunk_id: cand.rows[f.chunk_id].text for f in page
                if not has_real_match(spans[f.chunk_id]) and f.chunk_id not in official}
        return self.sentences.best_sentences(cand.snap, self.embed_query(text), want) if want else {}

    def _facets(self, snap: Snapshot, parsed: ParsedQuery, req: SearchRequest, matched: np.ndarray,
                copies_once: bool) -> dict[str, list[tuple[str, int]]]:
        """Disjunctive facet counts: each field's counts apply the query and every *other* field's active
        filters (so its values are the alternatives a click offers); counts are paragraphs, a folded
        boilerplate group once per value. A field with active values needs its own retrieval without them."""
        active = [name for name in FACETS if getattr(req.filters, name)]
        out = snap.facet_counts(matched, [name for name in FACETS if name not in active], copies_once)
        for name in active:
            without = self._retriever.retrieve(snap, parsed, req.mode, dataclasses.replace(req.filters, **{name: ()}))
            out.update(snap.facet_counts(without.ids(), [name], copies_once))
        return {name: out[name] for name in FACETS}

    # -- figures -------------------------------------------------------------------------------
    def figures(self, req: FiguresRequest) -> FiguresResponse:
        """Every figure in every paragraph that contains the query (with the search's filters), measures grouped
        by meaning (search/figures.py)."""
        t0 = time.perf_counter()
        check_figures_request(req, self.config.retrieval.max_query_chars)
        with self._use() as snap:
            table = self._figure_tables.get_or_make(snap, req, lambda: figures_table(
                snap, req, self._measures, self.config.figures.group_measures))
            generation = snap.name
        return FiguresResponse(
            query=req.query, filters=active_filters(req.filters), sort=req.sort, descending=req.descending,
            paragraphs=table.paragraphs, rows=table.rows(req.sort, req.descending),
            groups=list(table.groups), generation=generation, took_ms=round((time.perf_counter() - t0) * 1000, 2),
            note=table.note,
        )

    def prepare_figures(self) -> None:
        """Load the current generation's figure columns now (a server's start, before it forks its workers),
        not on the first user's 数据 table (~0.9 s at 100k chunks, engines/figure_columns.py); and each
        generation published later in the background as soon as this searcher switches to it."""
        with self._use() as snap:
            _load_figure_columns(snap)
        self._current.on_switch = _load_figure_columns

    # -- a place's years ------------------------------------------------------------------------
    def place(self, name: str) -> PlaceView:
        """The place's reports by year (KeyError: no report of that place)."""
        with self._use() as snap:
            return place_view(snap, name)

    def years(self, req: YearsRequest) -> YearsResponse:
        """Two or more years of one place side by side, paragraph by paragraph (search/years.py); KeyError for
        a place without reports, QueryError for years it has no report of."""
        t0 = time.perf_counter()
        check_years_request(req, self.config.retrieval.max_query_chars)
        threshold = self.config.figures.align_threshold
        with self._use() as snap:
            docs = place_reports(snap, req.place)
            chosen, note = chosen_reports(docs, req.years, req.place)
            scope = scope_ids(snap, req.query, req.place)
            comparisons = [compare(snap, a, b, self._text_vectors, threshold, scope,
                                   self.config.figures.group_threshold,
                                   measure_vectors=lambda texts: self._measures.vectors_of(snap, texts))
                           for a, b in zip(chosen, chosen[1:])]
            reports = place_view(snap, req.place).reports
            generation = snap.name
        return YearsResponse(
            place=req.place, query=req.query, years=[d.meta.year for d in chosen], reports=reports,
            comparisons=comparisons, generation=generation, threshold=threshold,
            took_ms=round((time.perf_counter() - t0) * 1000, 2), note=note,
        )

    def _text_vectors(self, texts: list[str]) -> np.ndarray:
        """Vectors of the short texts the index stores none for (a heading with no paragraph under it): the
        query encoder (loaded at start; a batch encode would load the full model on a serving
        process's first comparison, ~1 s), the missing ones in one batch, cached with the queries."""
        encoder = self.encoder
        missing = [t for t in dict.fromkeys(texts) if self._qcache.get((encoder.name, t)) is None]
        if missing:
            for text, vector in zip(missing, encoder.encode_queries(missing)):
                self._qcache.put((encoder.name, text), vector)
        return np.stack([self.embed_query(t) for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)

    # -- documents, context, similar, facets, health -------------------------------------------
    def document(self, doc_id: str) -> DocumentView:
        with self._use() as snap:
            doc = snap.documents([doc_id]).get(doc_id)
            if doc is None:
                raise KeyError(doc_id)
            return DocumentView(
                doc_id=doc.doc_id, path=doc.path, fmt=doc.fmt, title=doc.meta.title, place=doc.meta.place,
                level=doc.meta.level, region=doc.meta.region, year=doc.meta.year, date=doc.meta.date,
                paragraphs=_paragraph_views(snap, doc_id), other_paths=snap.aliases_of(doc_id),
                provenance=dict(doc.meta.provenance),
            )

    def documents(self) -> list[DocRow]:
        """Every document of the index, by path."""
        with self._use() as snap:
            return snap.document_list()

    def document_chunks(self, doc_id: str) -> list[ChunkRow]:
        """The chunks of one document, in reading order (paragraph, part); empty for an unknown id."""
        with self._use() as snap:
            return snap.document_chunks(doc_id)

    def all_chunks(self) -> list[ChunkRow]:
        """Every chunk of the index, by chunk id (one snapshot: no mix of two publications)."""
        with self._use() as snap:
            rows = [c for d in snap.document_list() for c in snap.document_chunks(d.doc_id)]
        return sorted(rows, key=lambda c: c.chunk_id)

    def find_document(self, ref: str) -> DocumentView:
        """A document by id, else by path (exact, or the end of the path after a "/"); KeyError when none."""
        try:
            return self.document(ref)
        except KeyError:
            pass
        docs = self.documents()
        match = [d for d in docs if d.path == ref] or [d for d in docs if d.path.endswith("/" + ref)]
        if not match:
            raise KeyError(ref)
        return self.document(match[0].doc_id)

    def context(self, chunk_id: int, before: int = 2, after: int = 2) -> ContextView:
        with self._use() as snap:
            row = snap.chunks([chunk_id]).get(int(chunk_id))
            if row is None:
                raise KeyError(chunk_id)
            paras = _paragraph_views(snap, row.doc_id)
            pos = next(i for i, p in enumerate(paras) if p.index == row.paragraph_index)
            return ContextView(
                doc_id=row.doc_id, chunk_id=row.chunk_id, paragraph_index=row.paragraph_index,
                before=paras[max(0, pos - before) : pos], target=paras[pos], after=paras[pos + 1 : pos + 1 + after],
            )

    def similar(self, chunk_id: int, limit: int = 10) -> SearchResponse:
        """Passages with similar content in *other* documents (one per boilerplate group)."""
        t0 = time.perf_counter()
        check_range("size", limit, 1, MAX_PAGE_SIZE)
        with self._use() as snap:
            row = snap.chunks([chunk_id]).get(int(chunk_id))
            vector = snap.vector(int(chunk_id)) if row is not None else None
            if vector is None:
                raise KeyError(chunk_id)
            found = snap.semantic(vector, limit * 5 + 20, Filters())
            rows = snap.chunks(cid for cid, _ in found)
            docs = snap.documents(r.doc_id for r in rows.values())
            hits, seen_groups = [], set()
            for rank, (cid, score) in enumerate(found, start=1):
                r = rows.get(cid)
                if r is None or r.doc_id == row.doc_id or (r.dup_group is not None and r.dup_group in seen_groups):
                    continue
                if r.dup_group is not None:
                    seen_groups.add(r.dup_group)
                fused = Fused(cid, score, {"semantic": rank}, {"semantic": score})
                hits.append(_hit(fused, r, docs[r.doc_id], None, [], literal=False))
                if len(hits) >= limit:
                    break
            return SearchResponse(
                query=row.text, mode="semantic", total=len(hits), hits=hits, facets={},
                took_ms=round((time.perf_counter() - t0) * 1000, 2), page=1, size=limit, generation=snap.name,
            )

    def facets(self, filters: Filters = Filters()) -> dict[str, list[tuple[str, int]]]:
        with self._use() as snap:
            return snap.facet_values(filters)

    def health(self) -> dict:
        """The published snapshot's counts; status "damaged" (with `damaged`, one line per problem, and
        `repair`) when its files fail the size and count check or a query found them damaged."""
        with self._use() as snap:
            documents, chunks = snap.counts()
            out = {
                "status": "ok", "generation": snap.name, "built_at": snap.info.get("built_at", ""),
                "documents": documents, "chunks": chunks, "model": snap.info.get("model", self.encoder.name),
            }
            damage = self._damage.damage(snap)
        if damage:
            out.update(status="damaged", damaged=damage, repair=IndexDamaged(damage).repair)
        return out


def _notes(req: SearchRequest, parsed: ParsedQuery, total: int, literal_total: int,
           official: Callable[[], dict[int, tuple[str, ...]]]) -> str | None:
    """How a malformed query was read, that nothing matches literally (`official`: the shown official-term
    hits' terms, asked only then), that the page is out of range."""
    notes = [parsed.warning] if parsed.warning else []
    if total and not literal_total:
        notes.append(no_literal_note(total, official()))
    pages = -(-total // req.size)
    if total and req.page > pages:
        notes.append(f"第 {req.page} 页超出范围：共 {total} 条结果，{pages} 页。")
    return " ".join(notes) or None


def _paragraph_views(snap: Snapshot, doc_id: str) -> list[ParagraphView]:
    by_para: dict[int, list[int]] = {}
    for c in snap.document_chunks(doc_id):
        by_para.setdefault(c.paragraph_index, []).append(c.chunk_id)
    return [
        ParagraphView(index=p.index, text=p.text, is_heading=p.is_heading, heading_level=p.heading_level,
                      heading_path=list(p.heading_path), section_kind=p.section_kind.value,
                      chunk_ids=by_para.get(p.index, []))
        for p in snap.paragraphs(doc_id)
    ]


def _hit(f: Fused, row: ChunkRow, doc: DocRow, parsed: ParsedQuery | None, shared: list[SharedWith],
         spans: list[tuple[int, int]] = (), literal: bool = True, sentence: SharedSentence | None = None,
         meaning: tuple[int, int] | None = None, official: OfficialMatch | None = None,
         by_meaning: bool = True) -> Hit:
    if official is not None and not literal:
        marks, kind, match = list(official.spans), MARK_OFFICIAL, MATCH_OFFICIAL
    else:
        marks, kind = hit_marks(row.text, list(spans), parsed, meaning, by_meaning)
        match = MATCH_LITERAL if literal else MATCH_SEMANTIC
    m = doc.meta
    return Hit(
        chunk_id=row.chunk_id, doc_id=doc.doc_id, path=doc.path, title=m.title, place=m.place,
        region=m.region, level=m.level, year=m.year, date=m.date, heading_path=list(row.heading_path),
        section_kind=row.section_kind, text=row.text, paragraph_index=row.paragraph_index,
        part=row.part, score=round(f.score, 6), keyword_rank=f.ranks.get("keyword"),
        semantic_rank=f.ranks.get("semantic"), keyword_score=_round(f.scores.get("keyword")),
        semantic_score=_round(f.scores.get("semantic")), shared_with=shared,
        match=match, shared_sentence=sentence, spans=marks, span_kind=kind,
        official_terms=list(official.terms) if match == MATCH_OFFICIAL else [],
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


def _load_figure_columns(snap: Snapshot) -> None:
    load = getattr(snap, "figure_columns", None)
    if load is not None:
        load()
