"""Server-rendered pages: search, document view, comparison table and its exports."""
from __future__ import annotations

import dataclasses
import logging
from urllib.parse import quote

from flask import Blueprint, Response, current_app, render_template, request, send_from_directory
from markupsafe import Markup

from indexer.core.filters import Filters
from indexer.search.highlight import MARK_OFFICIAL, MARK_SENTENCE, MARK_WORDS, highlight_html, query_spans
from indexer.search.official import official_match
from indexer.search.query import parse_query as parse_user_query
from indexer.search.types import MATCH_LITERAL, MATCH_OFFICIAL, MATCH_SEMANTIC, Hit, QueryError, SearchRequest, SearchResponse
from search_web import export, ids, state
from search_web.errors import NotFound, known_document
from search_web.views.figures import parse_sentence, sentence_mark
from search_web.params import MAX_SIZE, parse_int, parse_mode, parse_query, parse_search

log = logging.getLogger(__name__)

bp = Blueprint("pages", __name__)

EXAMPLE_QUERIES = ("信访积案化解做法", "法律顾问", "防范养老诈骗", "重大决策合法性审查", "普法宣传存在的问题")
PAGE_SIZE = 10
COMPARE_LIMIT = MAX_SIZE  # places shown on one comparison table
DOC_NEAREST = 3  # paragraphs marked as closest in meaning when none matches the query literally


@bp.get("/")
def search():
    cfg = state.config()
    try:
        req = parse_search(request.args, cfg, required=False, size=PAGE_SIZE)
    except QueryError as exc:
        return _search_page(None, None, error=exc), 400
    if not req.query:
        return _search_page(req, None)
    try:
        response = state.searcher().search(req)
    except QueryError as exc:
        return _search_page(req, None, error=exc), 400
    return _search_page(req, response)


def _search_page(req: SearchRequest | None, response: SearchResponse | None, error: QueryError | None = None):
    places = []
    if response is None:  # landing page: show what the index covers
        places = state.searcher().facets(Filters()).get("place", [])
    return render_template(
        "search.html",
        req=req,
        response=response,
        error=error,
        examples=EXAMPLE_QUERIES,
        places=places,
        health=state.searcher().health(),
        page_count=_page_count(response),
        # the legend explains only the highlight colours the page shows
        semantic_marks=_marks(response, MARK_SENTENCE),
        official_marks=_marks(response, MARK_OFFICIAL),
        legend=_legend(response),
    )


_LEGEND = (
    (MARK_WORDS, Markup('<mark>黄色</mark>为检索词')),
    (MARK_OFFICIAL, Markup('<mark class="official">绿色</mark>为检索词对应的公文用语')),
    (MARK_SENTENCE, Markup('<mark class="sem">蓝色</mark>为按意思匹配的句子')),
)


def _legend(response: SearchResponse | None) -> list[Markup]:
    """One phrase per highlight colour the page shows."""
    return [text for kind, text in _LEGEND if _marks(response, kind)]


def _marks(response: SearchResponse | None, kind: str) -> bool:
    """Whether any shown hit marks spans of this kind (query words, or a sentence close in meaning)."""
    return bool(response and any(h.spans and h.span_kind == kind for h in response.hits))


def _page_count(response: SearchResponse | None) -> int:
    if response is None or response.size <= 0:
        return 0
    return max(1, -(-response.total // response.size))


@bp.get("/favicon.ico")
def favicon():
    """Browsers and bookmark tools ask for /favicon.ico whatever the page links; the SVG icon serves it."""
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400)


@bp.get("/doc/<doc_id>")
def document(doc_id: str):
    doc_id = ids.doc_id(doc_id)
    with known_document(doc_id):
        doc = state.searcher().document(doc_id)
    target = parse_int(request.args, "p", -1, 0, 1_000_000)
    if request.args.get("chunk"):  # a link to a chunk (相同表述): open at its paragraph
        try:
            cid = ids.chunk_id(request.args["chunk"], param="chunk")
        except NotFound:  # no such chunk: the document still opens, at the top
            cid = None
        target = next((p.index for p in doc.paragraphs if cid in p.chunk_ids), target)
    marked = _hits_in_document(doc.doc_id, doc.place)
    by_paragraph: dict[int, list[tuple[int, Hit]]] = {}
    for rank, hit in enumerate(marked.hits, 1):
        by_paragraph.setdefault(hit.paragraph_index, []).append((rank, hit))
    paragraphs = _marked_paragraphs(doc, by_paragraph, request.args.get("q", ""))
    paragraphs.update(_figure_sentence(doc, request.args.get("chunk"), request.args.get("s"), target))
    return render_template(
        "document.html",
        doc=doc,
        target=target,
        query=request.args.get("q", "").strip(),
        mode=request.args.get("mode", "hybrid"),
        hits_by_paragraph=by_paragraph,
        marked_paragraphs=paragraphs,
        query_hits=list(enumerate(marked.hits, 1)),
        nearest_only=marked.nearest_only,
        official_only=marked.official_only,
        message=marked.message,
    )


def _figure_sentence(doc, chunk: str | None, raw: str | None, target: int) -> dict[int, Markup]:
    """A figure's link (`chunk` + `s`, views/figures.py sentence_link): its sentence marked in the target
    paragraph; nothing when the chunk is not in that paragraph (the document still opens there)."""
    span = parse_sentence(raw)  # a malformed `s` is a 400 naming it
    paragraph = next((p for p in doc.paragraphs if p.index == target), None)
    if span is None or not chunk or paragraph is None:
        return {}
    text = next((c.text for c in state.searcher().document_chunks(doc.doc_id) if str(c.chunk_id) == chunk.strip()
                 and c.chunk_id in paragraph.chunk_ids), None)
    mark = None if text is None else sentence_mark(paragraph.text, text, span, request.args.get("q", ""))
    return {} if mark is None else {target: mark}


def _marked_paragraphs(doc, by_paragraph: dict[int, list[tuple[int, Hit]]], query: str) -> dict[int, Markup]:
    """Each hit paragraph as HTML with what matched marked: the query's words for a literal hit, the
    official terms for one found through them (a paragraph cut into several chunks is marked whole)."""
    out: dict[int, Markup] = {}
    texts = {p.index: p.text for p in doc.paragraphs}
    for index, hits in by_paragraph.items():
        text = texts.get(index)
        if text is None:
            continue
        matches = {hit.match for _, hit in hits}
        if MATCH_LITERAL in matches:
            out[index] = Markup(highlight_html(text, query_spans(text, parse_user_query(query)), MARK_WORDS))
        elif MATCH_OFFICIAL in matches:
            found = official_match(text, tuple(t for _, hit in hits for t in hit.official_terms))
            if found is not None:
                out[index] = Markup(highlight_html(text, list(found.spans), MARK_OFFICIAL))
    return out


@dataclasses.dataclass
class _DocumentHits:
    hits: list[Hit]  # in ranking order
    nearest_only: bool = False  # no literal match: the paragraphs closest in meaning instead
    message: str | None = None
    official_only: bool = False  # no literal match: paragraphs with the query's official terms instead


def _hits_in_document(doc_id: str, place: str) -> _DocumentHits:
    """What the document view marks for the current query: the paragraphs that match it literally, or
    through an official term its everyday words stand for (上访 -> 信访).

    Semantic retrieval ranks every paragraph, so "every hit" would badge the whole report (15 badges on
    14 paragraphs); semantic neighbours are marked only when nothing matches (or in semantic mode), and
    then only the closest few. Filters has no document field, so the query runs filtered to the
    document's place and the hits of other documents (another year's report) are dropped here. What the
    panel says is about this document, not the place's other reports (the search's own message is not).
    """
    try:
        query = parse_query(request.args, state.config(), required=False)
        mode = parse_mode(request.args)
    except QueryError as exc:
        return _DocumentHits([], message=exc.message)
    if not query:
        return _DocumentHits([])
    req = SearchRequest(
        query=query,
        mode=mode,
        filters=Filters(place=(place,)) if place else Filters(),
        size=MAX_SIZE,
        collapse_duplicates=False,  # boilerplate shared with other reports is still a hit in this one
    )
    try:
        response = state.searcher().search(req)
    except QueryError as exc:
        return _DocumentHits([], message=exc.message)
    warning = parse_user_query(query).warning  # how a malformed query was read
    hits = [hit for hit in response.hits if hit.doc_id == doc_id]
    matched = [hit for hit in hits if hit.match != MATCH_SEMANTIC]
    if matched or mode == "keyword" or not hits:  # nothing near enough (Config.retrieval.semantic_floor): no claim
        official_only = bool(matched) and all(hit.match == MATCH_OFFICIAL for hit in matched)
        return _DocumentHits(matched, message=warning, official_only=official_only)
    return _DocumentHits(hits[:DOC_NEAREST], nearest_only=True, message=warning)


def _compare_response() -> tuple[SearchRequest, SearchResponse]:
    req = parse_search(request.args, state.config(), required=True, size=COMPARE_LIMIT)
    req = dataclasses.replace(req, group_by_place=True, page=1)
    return req, state.searcher().search(req)


@bp.get("/compare")
def compare():
    try:
        req, response = _compare_response()
    except QueryError as exc:
        status = 200 if exc.param == "q" and not request.args.get("q", "").strip() else 400
        return render_template("compare.html", req=None, response=None, error=exc), status
    return render_template("compare.html", req=req, response=response, error=None)


@bp.get("/compare/export.csv")
def compare_csv():
    req, response = _compare_response()
    data = export.comparison_csv(req, response)
    return _download(data, export.filename(req.query, "csv"), "text/csv; charset=utf-8")


@bp.get("/compare/export.docx")
def compare_docx():
    req, response = _compare_response()
    data = export.comparison_docx(req, response)
    mimetype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return _download(data, export.filename(req.query, "docx"), mimetype)


def _download(data: bytes, name: str, content_type: str) -> Response:
    """Bytes built in memory (nothing is ever read from a path the request names), as an attachment.

    The plain `filename` is an ASCII fallback for old clients; browsers use the UTF-8 `filename*`."""
    fallback = "comparison." + name.rsplit(".", 1)[-1]
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    # content_type, not mimetype: Flask appends "; charset=utf-8" to a text/* mimetype a second time.
    return Response(data, content_type=content_type, headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})
