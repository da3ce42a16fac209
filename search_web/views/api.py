"""JSON API under /api. Documented in search_web/openapi.json (served at /api/openapi.json)."""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, jsonify, request

from indexer.storage.generations import IndexUnavailable
from indexer.search.types import SearchResponse
from indexer.search.limits import MAX_PAGE
from search_web import ids, state
from search_web.citation import Passage, cite
from search_web.errors import known_chunk, known_document, unavailable_message
from search_web.views.figures import FIGURE_EXPORTS, figure_link, figures_download
from search_web.params import (
    DEFAULT_SIZE, MAX_CONTEXT, MAX_SIMILAR, MAX_SIZE, parse_figures, parse_filters, parse_format, parse_int,
    parse_search, schema_limits,
)

bp = Blueprint("api", __name__)

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.json"


@bp.get("/search")
def search():
    req = parse_search(request.args, state.config())
    return jsonify(_with_citations(state.searcher().search(req)))


@bp.get("/figures")
def figures():
    """The figures of the paragraphs containing the query: one page of rows as JSON (every group), or every
    row as CSV (format=csv) or Excel (format=xlsx) naming the query, filters and order."""
    req = parse_figures(request.args, state.config())
    fmt = parse_format(request.args, ("json", "csv", "xlsx"))
    page = parse_int(request.args, "page", 1, 1, MAX_PAGE)
    size = parse_int(request.args, "size", DEFAULT_SIZE, 1, MAX_SIZE)
    response = state.searcher().figures(req)
    if fmt in FIGURE_EXPORTS:
        return figures_download(req, response, fmt)
    start = (page - 1) * size
    data = response.to_dict(start, start + size)
    data.update(page=page, size=size)
    for out, row in zip(data["rows"], response.rows[start:start + size]):
        out["citation"] = cite(Passage(row.sentence, row.title, row.place, row.year, row.path, list(row.heading_path)))
        out["link"] = figure_link(row, req.query)
    return jsonify(data)


@bp.get("/documents/<doc_id>")
def document(doc_id: str):
    doc_id = ids.doc_id(doc_id)
    with known_document(doc_id):
        view = state.searcher().document(doc_id)
    return jsonify(view.to_dict())


@bp.get("/context/<chunk_id>")
def context(chunk_id: str):
    cid = ids.chunk_id(chunk_id)
    before = parse_int(request.args, "before", 2, 0, MAX_CONTEXT)
    after = parse_int(request.args, "after", 2, 0, MAX_CONTEXT)
    with known_chunk(cid):
        view = state.searcher().context(cid, before=before, after=after)
    return jsonify(view.to_dict())


@bp.get("/similar/<chunk_id>")
def similar(chunk_id: str):
    cid = ids.chunk_id(chunk_id)
    limit = parse_int(request.args, "limit", 10, 1, MAX_SIMILAR)
    with known_chunk(cid):
        response = state.searcher().similar(cid, limit=limit)
    return jsonify(_with_citations(response))


def _with_citations(response: SearchResponse) -> dict:
    """The response with each hit's ready-to-paste citation (search_web.citation, as the pages' 复制)."""
    data = response.to_dict()
    for out, hit in zip(data["hits"], response.hits):
        out["citation"] = cite(hit)
    return data


@bp.get("/facets")
def facets():
    counts = state.searcher().facets(parse_filters(request.args))
    return jsonify({"facets": {k: [{"value": v, "count": c} for v, c in vals] for k, vals in counts.items()}})


@bp.get("/health")
def health():
    try:
        health = state.searcher().health()  # status "damaged" (with what and the repair command): 503 for monitors
    except IndexUnavailable as exc:  # none published, or the published one cannot even be opened
        status = "damaged" if str(exc).startswith("index damaged") else "unavailable"
        return jsonify({"status": status, "error": str(exc), "message": unavailable_message(str(exc)),
                        "worker_pid": os.getpid()}), 503
    return jsonify({"status": "ok", **health, "worker_pid": os.getpid()}), 200 if health["status"] == "ok" else 503


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(state.config().retrieval.max_query_chars))


@lru_cache(maxsize=4)
def openapi_document(max_query_chars: int) -> dict:
    """openapi.json with every parameter's bounds filled in from search_web.params (one source of truth)."""
    spec = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    limits = schema_limits(max_query_chars)
    for operations in spec["paths"].values():
        for operation in operations.values():
            for param in operation.get("parameters", []):
                bounds = limits.get(param["name"])
                if bounds is None or param["in"] != "query":
                    continue
                param["schema"].update(bounds.get("schema", {}))
                if "items" in bounds:
                    param["schema"]["items"].update(bounds["items"])
    return spec
