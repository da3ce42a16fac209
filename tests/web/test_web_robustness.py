"""Hostile and odd requests get a clear 4xx naming the parameter, never a 500 (issue 11, points 9-14):
deep parenthesis nesting, non-ASCII digits, huge numbers, over-long URLs under the real waitress server,
the spec's limits against the server's, 405 Allow, the CSV content type, /favicon.ico."""
from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from indexer.search.query import MAX_NESTING, parse_query
from indexer.search.types import QueryError, SearchRequest
from search_web.views.api import OPENAPI_PATH
from tests.webfixtures import live_server

QUERY = "信访积案化解做法"


@pytest.fixture(scope="module")
def hit(app) -> dict:
    data = app.test_client().get(f"/api/search?q={quote(QUERY)}&size=20").get_json()
    return next(h for h in data["hits"] if "心桥工程" in h["text"])


def error_of(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.data[:300])
    assert response.is_json
    return response.get_json()["error"]


# -- point 9: deep nesting ------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["(" * 400 + "信访", "(" * 326, "((信访 " * 80, "-(" * 200 + "x", "（" * 400])
def test_deep_nesting_is_a_400_on_every_search_route_without_a_logged_traceback(client, caplog, text):
    caplog.set_level(logging.INFO)
    error = error_of(client.get(f"/api/search?q={quote(text)}"), 400)
    assert error["param"] == "q" and "括号嵌套过深" in error["message"] and "\n" not in error["message"]
    for url in (f"/?q={quote(text)}", f"/compare?q={quote(text)}"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "括号嵌套过深" in response.get_data(as_text=True), url
    assert client.get(f"/compare/export.csv?q={quote(text)}").status_code == 400
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_nesting_up_to_the_limit_still_searches(client):
    nested = "(" * MAX_NESTING + "信访 OR 调解" + ")" * MAX_NESTING
    data = client.get(f"/api/search?q={quote(nested)}&mode=keyword").get_json()
    assert data["hits"]
    with pytest.raises(QueryError):
        parse_query("(" * (MAX_NESTING + 1) + "信访")


# -- point 10: ASCII digits only --------------------------------------------------------------------
@pytest.mark.parametrize("value", ["²", "٣", "１", "3²", "--1", "1_0", " 1 2", "9" * 5000, "0" * 5000 + "1"])
def test_integer_parameters_take_ascii_digits_only(client, hit, value):
    v = quote(value)
    cid, doc = hit["chunk_id"], hit["doc_id"]
    for url, param in [
        (f"/api/search?q=x&page={v}", "page"),
        (f"/api/search?q=x&size={v}", "size"),
        (f"/api/search?q=x&year={v}", "year"),
        (f"/api/facets?year={v}", "year"),
        (f"/api/context/{cid}?before={v}", "before"),
        (f"/api/context/{cid}?after={v}", "after"),
        (f"/api/similar/{cid}?limit={v}", "limit"),
    ]:
        error = error_of(client.get(url), 400)
        assert error["param"] == param, url
    for url in (f"/?q=x&page={v}", f"/compare?q=x&year={v}", f"/doc/{doc}?p={v}"):
        response = client.get(url)
        assert response.status_code == 400, url


@pytest.mark.parametrize("value", ["²", "٣", "１２", "9" * 5000, "0" * 5000 + "1"])
def test_chunk_id_path_takes_ascii_digits_only(client, value):
    for route in ("context", "similar"):
        response = client.get(f"/api/{route}/{quote(value)}")
        assert response.status_code in (400, 404), (route, value)
        assert error_of(response, response.status_code)["param"] == "chunk_id"


def test_non_ascii_document_ids_are_404(client):
    for value in ("²", "文档", "ａｂｃ"):
        assert client.get(f"/api/documents/{quote(value)}").status_code == 404
        assert client.get(f"/doc/{quote(value)}").status_code == 404


# -- point 11: over-long URLs under the real waitress server ---------------------------------------
def test_a_100kb_query_gets_a_json_error_from_the_real_server(sample_index, searcher):
    query = quote("法" * 35_000)  # ~315 KB on the wire: over waitress's default header limit
    with live_server(sample_index, searcher) as server:
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(f"{server.url}/api/search?q={query}", timeout=60)
        assert failed.value.code == 400
        assert failed.value.headers.get_content_type() == "application/json"
        error = json.loads(failed.value.read())["error"]
        assert error["param"] == "q" and str(sample_index.retrieval.max_query_chars) in error["message"]
        # the page answers with its own message, the text back in the box (cut to a sane length)
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(f"{server.url}/?q={query}", timeout=60)
        assert failed.value.code == 400
        html = failed.value.read().decode("utf-8")
        assert "检索词过长" in html and len(html) < 100_000


# -- point 12: the box's limit --------------------------------------------------------------------
def test_search_box_carries_the_configured_limit_and_keeps_a_rejected_query(client, sample_index):
    for url in ("/", f"/?q={quote(QUERY)}", "/compare", f"/compare?q={quote(QUERY)}"):
        html = client.get(url).get_data(as_text=True)
        assert f'maxlength="{sample_index.retrieval.max_query_chars}"' in html, url
    too_long = "依法行政" * (sample_index.retrieval.max_query_chars // 4 + 1)
    for url in (f"/?q={quote(too_long)}", f"/compare?q={quote(too_long)}"):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 400 and "检索词过长" in html, url
        box = re.search(r'<input class="q"[^>]*value="([^"]*)"', html)
        assert box and box.group(1) == too_long, url


# -- point 13: one source of truth for limits; 405 Allow; CSV content type ------------------------
def integer_query_params(spec: dict):
    for path, ops in spec["paths"].items():
        for param in ops["get"].get("parameters", []):
            schema = param["schema"]
            if param["in"] == "query" and schema.get("type") == "integer":
                yield path, param["name"], schema["minimum"], schema["maximum"]


def test_openapi_limits_are_the_limits_the_server_enforces(client, hit):
    spec = client.get("/api/openapi.json").get_json()
    checked = set()
    for path, name, low, high in integer_query_params(spec):
        base = path.replace("{chunk_id}", hit["chunk_id"])
        base += "?q=x&" if path in ("/search", "/figures") else "?"
        for value in (low, high):
            response = client.get(f"/api{base}{name}={value}")
            assert response.status_code == 200, (path, name, value, response.data[:200])
        for value in (low - 1, high + 1):
            assert error_of(client.get(f"/api{base}{name}={value}"), 400)["param"] == name, (path, name, value)
        checked.add(name)
    assert checked == {"page", "size", "before", "after", "limit"}
    q = next(p for p in spec["paths"]["/search"]["get"]["parameters"] if p["name"] == "q")
    limit = q["schema"]["maxLength"]
    assert client.get(f"/api/search?q={'法' * limit}").status_code == 200
    assert error_of(client.get(f"/api/search?q={'法' * (limit + 1)}"), 400)["param"] == "q"


def test_openapi_file_states_the_served_limits(client):
    """Readers of the file in the repository see the same numbers the default server serves."""
    served = client.get("/api/openapi.json").get_json()
    assert json.loads(Path(OPENAPI_PATH).read_text(encoding="utf-8")) == served


def test_405_names_the_allowed_methods(client):
    for url in ("/api/search?q=x", "/", "/api/health"):
        response = client.post(url)
        assert response.status_code == 405
        assert "GET" in {m.strip() for m in response.headers.get("Allow", "").split(",")}, url


def test_csv_export_declares_its_charset_once(client):
    response = client.get(f"/compare/export.csv?q={quote(QUERY)}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


# -- point 14: favicon ------------------------------------------------------------------------------
def test_favicon_ico_is_served(client, app):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.data == (Path(app.static_folder) / "favicon.svg").read_bytes()


def test_document_back_link_shows_a_quoted_query_as_typed(client, searcher):
    doc_id = searcher.search(SearchRequest('"小事不出村"', mode="keyword")).hits[0].doc_id
    page = client.get(f"/doc/{doc_id}", query_string={"q": '"小事不出村"', "mode": "keyword"}).get_data(as_text=True)
    back = page[page.index('class="back"'):].split("</a>")[0]
    assert "返回检索结果：&#34;小事不出村&#34;" in back and "“&#34;" not in back
