"""JSON API under /api. Documented in search_web/openapi.json (served at /api/openapi.json)."""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, jsonify, request

from search_web import ids, state
from search_web.errors import known_chunk, known_document
from search_web.params import parse_filters, parse_int, parse_search

bp = Blueprint("api", __name__)

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.json"


@bp.get("/search")
def search():
    req = parse_search(request.args, state.config())
    return jsonify(state.searcher().search(req).to_dict())


@bp.get("/documents/<doc_id>")
def document(doc_id: str):
    doc_id = ids.doc_id(doc_id)
    with known_document(doc_id):
        view = state.searcher().document(doc_id)
    return jsonify(view.to_dict())


@bp.get("/context/<chunk_id>")
def context(chunk_id: str):
    cid = ids.chunk_id(chunk_id)
    before = parse_int(request.args, "before", 2, 0, 20)
    after = parse_int(request.args, "after", 2, 0, 20)
    with known_chunk(cid):
        view = state.searcher().context(cid, before=before, after=after)
    return jsonify(view.to_dict())


@bp.get("/similar/<chunk_id>")
def similar(chunk_id: str):
    cid = ids.chunk_id(chunk_id)
    limit = parse_int(request.args, "limit", 10, 1, 50)
    with known_chunk(cid):
        response = state.searcher().similar(cid, limit=limit)
    return jsonify(response.to_dict())


@bp.get("/facets")
def facets():
    counts = state.searcher().facets(parse_filters(request.args))
    return jsonify({"facets": {k: [{"value": v, "count": c} for v, c in vals] for k, vals in counts.items()}})


@bp.get("/health")
def health():
    return jsonify({"status": "ok", **state.searcher().health(), "worker_pid": os.getpid()})


@bp.get("/openapi.json")
def openapi():
    return jsonify(_openapi_document())


@lru_cache(maxsize=1)
def _openapi_document() -> dict:
    return json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
