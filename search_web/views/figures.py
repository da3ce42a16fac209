"""The 数据 page (issue 30): the figures of the paragraphs containing a query as a table, place × year ×
measure × value, sortable and paged on the server, each value linked to its sentence (marked) in the document view;
the measure groups listed above it; every row exported as CSV or Excel (through /api/figures).

A thin view: the rows are `Searcher.figures` exactly as /api/figures returns them (same parsing, same order),
so the page, the API, the CLI and the exports show the same numbers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, render_template, request, url_for
from markupsafe import Markup

from indexer.search.figures import FigureHit, FiguresRequest, FiguresResponse, value_text
from indexer.search.highlight import MARK_WORDS, highlight_html, query_spans
from indexer.search.query import parse_query as parse_user_query
from indexer.search.limits import MAX_PAGE
from indexer.search.types import QueryError
from search_web import export, state
from search_web.templating import state_url
from search_web.params import (
    FILTER_FIELDS, MAX_FILTER_CHARS, MAX_SIZE, parse_figures, parse_int, shown, without_bad_characters,
)

bp = Blueprint("figures", __name__)

PAGE_SIZE = 50  # rows per page by default (`size` changes it, up to the API's limit); the exports hold every row
FIGURE_EXPORTS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXAMPLES = ("信访积案", "矛盾纠纷调解", "普法宣传", "法律顾问")
_STATE_KEYS = ("q", *FILTER_FIELDS, "sort", "desc", "size")  # what a 数据 URL carries besides the page
_TAB_FROM = ("pages.search", "pages.compare", "figures.page")  # pages whose query and filters the 数据 tab keeps


@dataclass(frozen=True)
class FigureRow:
    """One table row: the figure, its value as the exports write it, its link and its sentence with the number
    marked."""

    hit: FigureHit
    value: str
    link: str
    sentence: Markup


def figure_link(row: FigureHit, query: str) -> str:
    """The document view at the figure's paragraph with its sentence marked, the query too (the API's `link`,
    the page's value)."""
    return sentence_link(row.doc_id, row.chunk_id, row.sentence_start, row.sentence_end, query)


@bp.app_template_global()
def sentence_link(doc_id: str, chunk_id: int, start: int, end: int, query: str = "") -> str:
    """The document view scrolled to a chunk's paragraph, the sentence at [start, end) of the chunk's text marked
    (`s=start-end`, read by `sentence_mark`)."""
    args = {"q": query} if query else {}
    return url_for("pages.document", doc_id=doc_id, chunk=chunk_id, s=f"{start}-{end}", **args) + f"#c-{chunk_id}"


def parse_sentence(raw: str | None) -> tuple[int, int] | None:
    """The `s` parameter of a document link: start-end offsets of a sentence in the linked chunk's text."""
    if raw is None or not raw.strip():
        return None
    match = re.fullmatch(r"([0-9]{1,7})-([0-9]{1,7})", raw.strip())
    if match is None or int(match[1]) >= int(match[2]):
        raise QueryError("s", f"参数 s 应为句子在段落中的起止位置，如 12-58，收到“{shown(raw)}”。")
    return int(match[1]), int(match[2])


def sentence_mark(paragraph: str, chunk_text: str, span: tuple[int, int], query: str) -> Markup | None:
    """The paragraph as HTML with the sentence at `span` of one of its chunks in <mark class="fig"> (the
    query's words marked inside and around it); None when the chunk's text is not in the paragraph or the span
    is not within the chunk (a stale link after the report changed)."""
    start, end = span
    offset = paragraph.find(chunk_text)
    if offset < 0 or end > len(chunk_text):
        return None
    a, b = offset + start, offset + end
    parsed = parse_user_query(query) if query.strip() else None

    def words(text: str) -> str:
        return highlight_html(text, query_spans(text, parsed) if parsed else [], MARK_WORDS)

    return Markup(f"{words(paragraph[:a])}<mark class=\"fig\" id=\"fig-sentence\">{words(paragraph[a:b])}</mark>"
                  f"{words(paragraph[b:])}")


def figures_download(req: FiguresRequest, response: FiguresResponse, fmt: str) -> Response:
    """Every row as CSV or xlsx (search_web/export.py), as an attachment built in memory."""
    if fmt == "csv":
        data, content_type = export.figures_csv(req, response), "text/csv; charset=utf-8"
    else:
        data, content_type = export.figures_xlsx(req, response), XLSX_TYPE
    name = quote(export.figures_filename(req.query, fmt))
    disposition = f"attachment; filename=\"figures.{fmt}\"; filename*=UTF-8''{name}"
    return Response(data, content_type=content_type,
                    headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})


@bp.get("/figures")
def page():
    try:
        req = parse_figures(request.args, state.config())
        page_no = parse_int(request.args, "page", 1, 1, MAX_PAGE)
        size = parse_int(request.args, "size", PAGE_SIZE, 1, MAX_SIZE)
        response = state.searcher().figures(req)
    except QueryError as exc:
        if exc.param == "q" and not request.args.get("q", "").strip():  # nothing asked yet: the landing
            return render_template("figures.html", req=None, response=None, error=None, examples=EXAMPLES)
        return render_template("figures.html", req=None, response=None, error=exc, examples=EXAMPLES), 400
    start = (page_no - 1) * size
    rows = [_row(r, req.query) for r in response.rows[start:start + size]]
    page_count = min(MAX_PAGE, -(-response.total // size))
    return render_template(
        "figures.html", req=req, response=response, error=None, examples=EXAMPLES, rows=rows, page=page_no,
        page_count=page_count, first_row=start + 1, shown_limit=MAX_PAGE * size,
        merged_groups=[g for g in response.groups if len(g.measures) > 1],
        export_csv=_api_url("csv"), export_xlsx=_api_url("xlsx"),
    )


def _row(hit: FigureHit, query: str) -> FigureRow:
    number = (hit.start - hit.sentence_start, hit.end - hit.sentence_start)
    return FigureRow(hit, value_text(hit.value, hit.value_high), figure_link(hit, query),
                     Markup(highlight_html(hit.sentence, [number], MARK_WORDS)))


def _api_url(fmt: str) -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k in _STATE_KEYS and k != "size" and v]
    return url_for("api.figures") + "?" + urlencode([*args, ("format", fmt)])


@bp.app_template_global()
def figures_url(**changes) -> str:
    """This 数据 page's URL with `changes` applied (None removes a key); the page resets unless given."""
    return state_url("figures.page", _STATE_KEYS, changes)


@bp.app_template_global()
def sort_url(column: str, current: FiguresRequest) -> str:
    """A column header's link: the same column again flips the order; another starts with its natural order
    (largest value first, places, years and measures from the start)."""
    if column == current.sort:
        desc = None if current.descending else "1"
    else:
        desc = "1" if column == "value" else None
    return figures_url(sort=column, desc=desc)


@bp.app_template_global()
def figures_tab_url() -> str:
    """The 数据 tab: the search's (or the comparison's) query and filters, so the table answers the same
    question; from any other page, the 数据 landing."""
    query = request.args.get("q", "").strip()
    if (request.endpoint not in _TAB_FROM or not query or len(query) > state.config().retrieval.max_query_chars
            or without_bad_characters(query) != query):  # a rejected query is not carried along (nor echoed)
        return url_for("figures.page")
    args = [(k, v) for k, v in request.args.items(multi=True)
            if k in ("q", *FILTER_FIELDS) and v and len(v) <= MAX_FILTER_CHARS * 4]
    return url_for("figures.page") + "?" + urlencode(args)
