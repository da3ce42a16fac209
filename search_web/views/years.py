"""A place's page and 历年对比 (issue 30 point 3): /place/<name>, /place/<name>/years (HTML, CSV, Word) and
/api/place/<name>/years (JSON), all over `Searcher.place` / `Searcher.years`."""
from __future__ import annotations

import dataclasses

from flask import Blueprint, jsonify, render_template, request, url_for

from indexer.search.types import QueryError
from indexer.search.years import PlaceView, YearsRequest, YearsResponse
from search_web import state, years_export
from search_web.errors import NotFound
from search_web.params import MAX_YEAR, MIN_YEAR, check_text, parse_int, parse_query, shown
from search_web.views.pages import _download

bp = Blueprint("years", __name__)
api_bp = Blueprint("years_api", __name__)

MAX_PLACE_CHARS = 50
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _place(name: str) -> str:
    name = check_text("name", name).strip()
    if not name or len(name) > MAX_PLACE_CHARS:
        raise QueryError("name", f"地方名称“{shown(name)}”无效。")
    return name


def _place_view(name: str) -> PlaceView:
    try:
        return state.searcher().place(name)
    except KeyError:
        raise NotFound("name", f"索引中没有地方“{shown(name)}”的报告。") from None


def _years_request(name: str) -> YearsRequest:
    """from/to (both or neither) and q from the URL; a bad year is refused naming its parameter."""
    years = tuple(parse_int(request.args, key, 0, MIN_YEAR, MAX_YEAR) for key in ("from", "to")
                  if (request.args.get(key) or "").strip())
    if len(years) == 1:
        missing = "to" if (request.args.get("from") or "").strip() else "from"
        raise QueryError(missing, "请同时选择两个年份（from 和 to）。")
    if len(years) == 2 and years[0] == years[1]:
        raise QueryError("to", "请选择两个不同的年份。")
    return YearsRequest(place=_place(name), years=years, query=parse_query(request.args, state.config(), required=False))


def _years(name: str) -> tuple[YearsRequest, YearsResponse]:
    req = _years_request(name)
    try:
        return req, state.searcher().years(req)
    except KeyError:
        raise NotFound("name", f"索引中没有地方“{shown(req.place)}”的报告。") from None


@bp.get("/place/<name>")
def place(name: str):
    view = _place_view(_place(name))
    return render_template("place.html", view=view)


@bp.get("/place/<name>/years")
def years(name: str):
    view = _place_view(_place(name))
    try:
        req, response = _years(name)
    except QueryError as exc:
        return render_template("years.html", view=view, req=None, response=None, error=exc), 400
    state_args = {"from": response.years[0], "to": response.years[-1], "q": req.query or None}
    exports = {fmt: url_for(f"years.years_{fmt}", name=view.place, **state_args) for fmt in ("csv", "docx")}
    return render_template("years.html", view=view, req=req, response=response, error=None, exports=exports)


@bp.get("/place/<name>/years/export.csv")
def years_csv(name: str):
    req, response = _years(name)
    return _download(years_export.years_csv(response), years_export.filename(response, "csv"),
                     "text/csv; charset=utf-8")


@bp.get("/place/<name>/years/export.docx")
def years_docx(name: str):
    req, response = _years(name)
    return _download(years_export.years_docx(response), years_export.filename(response, "docx"), DOCX)


@api_bp.get("/place/<name>")
def api_place(name: str):
    return jsonify(dataclasses.asdict(_place_view(_place(name))))


@api_bp.get("/place/<name>/years")
def api_years(name: str):
    _, response = _years(name)
    return jsonify(response.to_dict())
