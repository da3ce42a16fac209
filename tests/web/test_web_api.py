"""The JSON API and the server-rendered pages, through Flask's test client over a real index."""
from __future__ import annotations

import csv
import io
import json
import re
import threading
import urllib.request
from urllib.parse import quote

import pytest
from docx import Document

from search_web import create_app
from search_web.state import SEARCHER_KEY
from tests.webfixtures import SHARED_PARAGRAPH, XSS_CORPUS, live_server

QUERY = "信访积案化解做法"


def get_json(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.data[:300])
    assert response.is_json, url
    return response.get_json()


def assert_error(client, url, status, param):
    data = get_json(client, url, status)
    assert set(data) == {"error"}
    assert data["error"]["param"] == param
    assert data["error"]["message"].strip()
    return data["error"]["message"]


def xinqiao_hit(client):
    data = get_json(client, f"/api/search?q={quote(QUERY)}&size=20")
    return next(h for h in data["hits"] if "心桥工程" in h["text"])


# -- /api/search -----------------------------------------------------------------------------------
def test_search_finds_the_xinqiao_passage_with_highlighted_terms(client):
    data = get_json(client, f"/api/search?q={quote(QUERY)}")
    assert data["query"] == QUERY and data["mode"] == "hybrid"
    assert data["total"] >= len(data["hits"]) > 0
    hit = next(h for h in data["hits"] if "心桥工程" in h["text"])
    assert hit["place"] == "观音堂镇"
    assert "<mark" in hit["highlighted"]
    assert {"place", "level", "region", "year", "kind"} <= set(data["facets"])
    assert all(set(f) == {"value", "count"} for f in data["facets"]["place"])


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_every_mode_answers(client, mode):
    data = get_json(client, f"/api/search?q={quote('法律顾问')}&mode={mode}")
    assert data["mode"] == mode
    assert data["hits"]


def test_place_filter_returns_only_that_place(client):
    data = get_json(client, f"/api/search?q={quote(QUERY)}&place={quote('大铭乡')}&size=50")
    assert data["hits"]
    assert {h["place"] for h in data["hits"]} == {"大铭乡"}
    # facet counts still offer the other places, so the user can widen the filter again
    assert len(data["facets"]["place"]) > 1


def test_repeated_kind_filters_are_ored(client):
    url = f"/api/search?q={quote('普法')}&kind={quote('存在问题')}&kind={quote('下一步计划')}&size=50"
    data = get_json(client, url)
    assert data["hits"]
    assert {h["section_kind"] for h in data["hits"]} <= {"存在问题", "下一步计划"}


def test_year_filter(client):
    data = get_json(client, f"/api/search?q={quote('普法')}&year=2023")
    assert data["hits"] and all(h["year"] == 2023 for h in data["hits"])
    assert get_json(client, f"/api/search?q={quote('普法')}&year=2019")["hits"] == []


def test_group_by_place_gives_one_hit_per_place(client):
    data = get_json(client, f"/api/search?q={quote(QUERY)}&group=1&size=50")
    places = [h["place"] for h in data["hits"]]
    assert len(places) == len(set(places)) > 1
    assert data["total"] == len(places)


def test_pages_do_not_overlap(client):
    first = get_json(client, f"/api/search?q={quote('法治')}&size=3&page=1")
    second = get_json(client, f"/api/search?q={quote('法治')}&size=3&page=2")
    assert len(first["hits"]) == len(second["hits"]) == 3
    assert not {h["chunk_id"] for h in first["hits"]} & {h["chunk_id"] for h in second["hits"]}
    assert first["total"] == second["total"]


@pytest.mark.parametrize(
    "query_string, param",
    [
        ("", "q"),
        ("q=", "q"),
        ("q=%20%20", "q"),
        ("q=x&mode=fuzzy", "mode"),
        ("q=x&page=0", "page"),
        ("q=x&page=abc", "page"),
        ("q=x&page=-1", "page"),
        ("q=x&page=99999999999999999999", "page"),
        ("q=x&size=0", "size"),
        ("q=x&size=1000", "size"),
        ("q=x&size=2.5", "size"),
        ("q=x&year=abc", "year"),
        ("q=x&year=20233", "year"),
        ("q=x&kind=" + quote("随便"), "kind"),
        ("q=x&group=maybe", "group"),
        ("q=%22", "q"),  # only syntax, nothing to look for: not "every paragraph"
        ("q=" + quote("（）AND “”"), "q"),
    ],
)
def test_bad_search_parameters_are_400_naming_the_parameter(client, query_string, param):
    assert_error(client, f"/api/search?{query_string}", 400, param)


def test_overlong_query_is_rejected_with_the_limit(client, sample_index):
    too_long = "法治" * sample_index.retrieval.max_query_chars
    message = assert_error(client, f"/api/search?q={quote(too_long)}", 400, "q")
    assert str(sample_index.retrieval.max_query_chars) in message


# A malformed query with a word in it is repaired and answered, and `message` says how it was read ...
@pytest.mark.parametrize("query,read_as", [('"信访积案', "引号不成对"), ("信访 AND", "AND 后缺少检索词"),
                                           ("((信访", "括号不成对"), ("信访 -", None), ("法治:", None)])
def test_malformed_queries_with_a_word_are_answered(client, query, read_as):
    response = client.get(f"/api/search?q={quote(query)}")
    assert response.status_code == 200, (query, response.get_data(as_text=True))
    data = response.get_json()
    assert data["hits"] and data["total"] > 0
    if read_as:
        assert read_as in data["message"]


# ... one left with nothing to look for (operators, brackets, punctuation, an emoji) is refused, naming q:
# answering it would list every paragraph as a match.
@pytest.mark.parametrize("query", ["OR OR", "NOT", ")", "*", "?", "\\", "、、、", "😀"])
def test_malformed_queries_with_nothing_to_look_for_are_400_naming_q(client, query):
    message = assert_error(client, f"/api/search?q={quote(query)}", 400, "q")
    assert "没有可检索的词语" in message


# -- documents, context, similar, facets, health ---------------------------------------------------
def test_document_endpoint_returns_the_cleaned_document(client):
    hit = xinqiao_hit(client)
    doc = get_json(client, f"/api/documents/{hit['doc_id']}")
    assert doc["doc_id"] == hit["doc_id"] and doc["place"] == "观音堂镇" and doc["year"] == 2023
    target = next(p for p in doc["paragraphs"] if p["index"] == hit["paragraph_index"])
    assert "心桥工程" in target["text"]
    assert hit["chunk_id"] in target["chunk_ids"]
    assert any(p["is_heading"] for p in doc["paragraphs"])


def test_chunk_ids_are_decimal_strings_a_javascript_client_can_send_back(client):
    """63-bit ids as JSON numbers would be rounded by JavaScript (above 2**53); as strings they survive."""
    data = get_json(client, "/api/search?q=信访积案化解做法&size=20")
    ids = [h["chunk_id"] for h in data["hits"]] + [s["chunk_id"] for h in data["hits"] for s in h["shared_with"]]
    assert ids and all(isinstance(i, str) and i.isdigit() for i in ids)
    assert any(int(i) > 2**53 for i in ids)
    big = next(i for i in ids if int(i) > 2**53)
    assert get_json(client, f"/api/context/{big}")["chunk_id"] == big
    assert float(big) != int(big)  # what a JavaScript client would have made of the number


@pytest.mark.parametrize("doc_id", ["000000000000", "nope", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "a" * 200])
def test_unknown_or_hostile_document_ids_are_404(client, doc_id):
    response = client.get(f"/api/documents/{doc_id}")
    assert response.status_code == 404
    assert b"root:" not in response.data
    if response.is_json:  # a path the router cannot match at all is still a JSON 404 under /api
        assert response.get_json()["error"]["message"]


def test_context_returns_neighbouring_paragraphs(client):
    hit = xinqiao_hit(client)
    ctx = get_json(client, f"/api/context/{hit['chunk_id']}?before=2&after=1")
    assert ctx["target"]["index"] == hit["paragraph_index"] == ctx["paragraph_index"]
    assert [p["index"] for p in ctx["before"]] == [hit["paragraph_index"] - 2, hit["paragraph_index"] - 1]
    assert [p["index"] for p in ctx["after"]] == [hit["paragraph_index"] + 1]


def test_context_and_similar_reject_bad_ids(client):
    assert_error(client, "/api/context/abc", 400, "chunk_id")
    assert_error(client, "/api/context/123", 404, "chunk_id")
    assert_error(client, "/api/context/99999999999999999999999", 404, "chunk_id")
    assert_error(client, "/api/similar/123", 404, "chunk_id")
    assert_error(client, "/api/similar/x1", 400, "chunk_id")
    hit = xinqiao_hit(client)
    assert_error(client, f"/api/context/{hit['chunk_id']}?before=99", 400, "before")
    assert_error(client, f"/api/similar/{hit['chunk_id']}?limit=0", 400, "limit")


def test_similar_passages_come_from_other_documents(client):
    hit = xinqiao_hit(client)
    data = get_json(client, f"/api/similar/{hit['chunk_id']}?limit=5")
    assert 0 < len(data["hits"]) <= 5
    assert all(h["doc_id"] != hit["doc_id"] for h in data["hits"])


def test_facets_cover_the_whole_index(client):
    facets = get_json(client, "/api/facets")["facets"]
    assert {f["value"] for f in facets["place"]} == {"张茅乡", "前营乡", "观音堂镇", "大铭乡", "硖石乡"}
    assert all(f["count"] > 0 for f in facets["place"])
    only = get_json(client, f"/api/facets?place={quote('大铭乡')}")["facets"]
    assert [f["value"] for f in only["place"]] == ["大铭乡"]
    assert_error(client, "/api/facets?year=abc", 400, "year")


def test_health_reports_the_index(client):
    health = get_json(client, "/api/health")
    assert health["status"] == "ok"
    assert health["documents"] == 5
    assert health["chunks"] > 20
    assert health["generation"] and health["model"] and health["built_at"]


def test_openapi_documents_every_api_route(app, client):
    spec = get_json(client, "/api/openapi.json")
    assert spec["openapi"].startswith("3.")
    documented = set(spec["paths"])
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api"):])
            assert path in documented, f"{rule.rule} is not in openapi.json"
    search_params = {p["name"] for p in spec["paths"]["/search"]["get"]["parameters"]}
    assert search_params == {"q", "mode", "place", "level", "region", "year", "kind", "group", "page", "size"}


def test_unknown_api_path_and_method_are_json_errors(client):
    assert get_json(client, "/api/nothing-here", 404)["error"]["message"]
    response = client.post("/api/search?q=x")
    assert response.status_code == 405 and response.get_json()["error"]["message"]


# -- pages -----------------------------------------------------------------------------------------
def page(client, url, status=200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def test_landing_page_offers_example_queries(client):
    html = page(client, "/")
    assert '<html lang="zh-CN">' in html
    assert QUERY in html and "混合" in html and "关键词" in html and "语义" in html


def test_search_page_shows_results_with_citation_ready_for_copy(client):
    html = page(client, f"/?q={quote(QUERY)}")
    assert "心桥工程" in html and "<mark" in html
    assert "来源：观音堂镇《" in html  # the citation the 复制 button copies
    assert "共 <b>" in html and "毫秒" in html


def test_search_page_shows_how_a_malformed_query_was_read(client):
    html = page(client, f"/?q={quote('“信访积案')}")
    assert "引号不成对" in html


def test_search_page_paginates(client):
    html = page(client, f"/?q={quote('法治')}&page=2")
    assert '<span class="cur" aria-current="page">2</span>' in html
    assert ">#11</span>" in html and ">#10</span>" not in html
    assert 'rel="prev"' in html


def test_search_page_explains_an_empty_result(client):
    html = page(client, f"/?q={quote('信访')}&mode=keyword&year=2019")
    assert "没有找到" in html and "语义模式" in html and "清除全部筛选" in html


def test_search_page_reports_bad_parameters_without_failing(client):
    html = page(client, f"/?q={quote(QUERY)}&year=abc", status=400)
    assert "年份" in html and "abc" in html
    html = page(client, "/?q=" + quote("法" * 5000), status=400)
    assert "检索词过长" in html
    html = page(client, "/?q=" + quote('"'), status=400)
    assert "没有可检索的词语" in html


def test_document_page_marks_the_target_and_other_hits(client):
    hit = xinqiao_hit(client)
    p = hit["paragraph_index"]
    html = page(client, f"/doc/{hit['doc_id']}?p={p}&q={quote(QUERY)}")
    target = re.search(rf'<div id="p-{p}" class="([^"]*)"', html)
    assert target and "is-target" in target.group(1) and "is-hit" in target.group(1)
    assert html.count('class="margin-mark"') >= 1
    assert "本文中的检索命中" in html
    page(client, "/doc/000000000000", status=404)
    page(client, f"/doc/{hit['doc_id']}?p=abc", status=400)


def test_pages_load_nothing_from_elsewhere(client):
    for url in ("/", f"/?q={quote(QUERY)}", f"/compare?q={quote(QUERY)}"):
        html = page(client, url)
        for ref in re.findall(r'(?<![\w-])(?:src|href|action)="([^"]*)"', html):
            assert ref.startswith(("/", "#", "?")), f"{url} refers to {ref}"
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    for asset in ("/static/app.css", "/static/app.js", "/static/favicon.svg"):
        assert client.get(asset).status_code == 200


def test_compare_page_and_exports(client):
    html = page(client, f"/compare?q={quote(QUERY)}")
    assert "按乡镇对比" in html and "观音堂镇" in html and "导出 CSV" in html

    response = client.get(f"/compare/export.csv?q={quote(QUERY)}")
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf")  # BOM: Excel then reads the file as UTF-8
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    places = [r["地点"] for r in rows]
    assert len(places) == len(set(places)) > 1 and "观音堂镇" in places
    assert all(r["引用"].startswith(r["段落"]) and "（来源：" in r["引用"] for r in rows)

    response = client.get(f"/compare/export.docx?q={quote(QUERY)}")
    assert response.status_code == 200
    doc = Document(io.BytesIO(response.data))
    cells = [c.text for row in doc.tables[0].rows for c in row.cells]
    assert "观音堂镇" in cells
    assert any("来源：观音堂镇《" in c for c in cells)
    assert QUERY in doc.paragraphs[0].text

    assert client.get("/compare/export.csv?q=").status_code == 400
    assert client.get(f"/compare/export.docx?q={quote(QUERY)}&year=x").status_code == 400


# -- safety ----------------------------------------------------------------------------------------
@pytest.fixture()
def xss_client(build_index, encoder):
    from indexer.search.searcher import Searcher

    config, report = build_index(XSS_CORPUS)
    assert report.exit_code == 0, report.summary()
    searcher = Searcher.open(config, encoder)
    yield create_app(config, searcher).test_client()
    searcher.close()


def test_script_in_a_report_is_shown_as_text_everywhere(xss_client):
    data = get_json(xss_client, f"/api/search?q={quote('执法培训')}")
    hit = next(h for h in data["hits"] if "alert(1)" in h["text"])
    assert "<script>" in hit["text"]  # the API returns the text as it is...
    assert "<script>" not in hit["highlighted"] and "&lt;script&gt;" in hit["highlighted"]  # ...and escaped HTML

    urls = [
        f"/?q={quote('执法培训')}",
        f"/compare?q={quote('执法培训')}",
        f"/doc/{hit['doc_id']}?p={hit['paragraph_index']}&q={quote('执法培训')}",
        f"/doc/{hit['doc_id']}",
    ]
    for url in urls:
        html = xss_client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
        assert "<b>整改</b>" not in html, url

    # a hostile query is escaped too
    payload = '"><script>alert(2)</script><img src=x onerror=alert(3)>'
    for url in (f"/?q={quote(payload)}", f"/compare?q={quote(payload)}", f"/doc/x?q={quote(payload)}"):
        html = xss_client.get(url).get_data(as_text=True)
        assert "<script>alert(2)" not in html and "<img src=x" not in html, url
    data = xss_client.get(f"/api/search?q={quote(payload)}")
    assert data.status_code in (200, 400) and data.is_json


def test_wording_shared_by_several_reports_is_shown_once_with_the_other_places(xss_client):
    data = get_json(xss_client, f"/api/search?q={quote('小事不出村')}&mode=keyword")
    copies = [h for h in data["hits"] if h["text"] == SHARED_PARAGRAPH]
    assert len(copies) == 1
    other = {"东城镇": "东河乡", "东河乡": "东城镇"}[copies[0]["place"]]
    assert [s["place"] for s in copies[0]["shared_with"]] == [other]
    html = xss_client.get(f"/?q={quote('小事不出村')}&mode=keyword").get_data(as_text=True)
    assert re.search(rf"另有 1 份报告有相同表述：<a [^>]*>{other}</a>", html)


# -- sharing one searcher across threads -----------------------------------------------------------
def test_concurrent_requests_share_one_searcher(sample_index, searcher):
    app = create_app(sample_index, searcher)
    assert app.extensions[SEARCHER_KEY] is searcher
    queries = ["信访积案化解做法", "法律顾问", "普法宣传", "养老诈骗", "合法性审查", "小事不出村", "法律明白人", "政务公开"]
    results: dict[str, int] = {}
    errors: list[BaseException] = []
    with live_server(sample_index, searcher) as server:
        def fetch(q: str) -> None:
            try:
                for mode in ("hybrid", "keyword", "semantic"):
                    with urllib.request.urlopen(f"{server.url}/api/search?q={quote(q)}&mode={mode}", timeout=60) as r:
                        results[f"{q}/{mode}"] = len(json.load(r)["hits"])
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=fetch, args=(q,)) for q in queries]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    assert len(results) == 3 * len(queries) and all(n > 0 for n in results.values())


def test_csv_export_does_not_let_excel_run_formulas():
    from indexer.search.types import Hit, SearchRequest, SearchResponse
    from search_web.export import comparison_csv

    hit = Hit(chunk_id=1, doc_id="abc", path="a.txt", title="=HYPERLINK(\"http://x\")", place="东城镇", region="",
              level="镇", year=2023, date="", heading_path=["一、做法"], section_kind="做法与成效",
              text="=1+1 这一段以等号开头", paragraph_index=3, part=0, score=1.0)
    response = SearchResponse(query="x", mode="hybrid", total=1, hits=[hit], facets={}, took_ms=1.0, page=1,
                              size=10, generation="g1")
    row = list(csv.DictReader(io.StringIO(comparison_csv(SearchRequest(query="x"), response).decode("utf-8-sig"))))[0]
    assert row["报告标题"].startswith("'=") and row["段落"] == "'=1+1 这一段以等号开头"
    assert row["地点"] == "东城镇" and row["年份"] == "2023"
