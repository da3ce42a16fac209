"""The document view, copying with citation, and the phone layout in a real Chromium (issue 11, points 6, 7,
8, 12 and 17): Playwright against the app under waitress, as tests/browser/test_web_browser.py does."""
from __future__ import annotations

import json
import urllib.request
from urllib.parse import quote

import playwright.sync_api as playwright_api
import pytest

from search_web.citation import cite_paragraph
from indexer.search.types import DocumentView, ParagraphView
from tests.webfixtures import SHARED_PARAGRAPH, XSS_CORPUS, live_server


QUERY = "信访积案化解做法"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def open_page(browser, url_base: str, viewport: dict, mobile: bool = False):
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=mobile, has_touch=mobile)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url_base)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    return context, page


@pytest.fixture()
def page(browser, server):
    context, pg = open_page(browser, server.url, DESKTOP)
    yield pg
    context.close()
    assert pg.errors == []


@pytest.fixture()
def phone(browser, server):
    context, pg = open_page(browser, server.url, PHONE, mobile=True)
    yield pg
    context.close()
    assert pg.errors == []


def api(server, path: str) -> dict:
    with urllib.request.urlopen(server.url + path, timeout=60) as response:
        return json.load(response)


def in_viewport(locator, height: int) -> bool:
    box = locator.bounding_box()
    return box is not None and 0 <= box["y"] < height


# -- point 6: 相同表述 opens the other report at the paragraph, with the query highlighted --------------
def test_shared_wording_link_opens_the_other_report_at_the_paragraph(browser, build_index, encoder):
    from indexer.search.searcher import Searcher

    config, report = build_index(XSS_CORPUS)
    assert report.exit_code == 0, report.summary()
    searcher = Searcher.open(config, encoder)
    try:
        with live_server(config, searcher) as server:
            context, pg = open_page(browser, server.url, {"width": 1366, "height": 500})
            pg.goto(f"{server.url}/?q={quote('小事不出村')}&mode=keyword")
            hit = pg.locator(".hit", has=pg.locator(".shared a")).first
            here = hit.locator(".hit-meta .place").inner_text()
            link = hit.locator(".shared a").first
            other = link.inner_text()
            assert other != here
            with pg.expect_navigation():
                link.click()
            assert "/doc/" in pg.url and "#c-" in pg.url and "q=" in pg.url
            assert other in pg.inner_text(".meta-panel")
            target = pg.locator(".para.is-target")
            assert target.count() == 1
            assert SHARED_PARAGRAPH in target.inner_text()
            assert "小事不出村" in target.locator("mark").all_inner_texts()
            assert in_viewport(target, 500)  # scrolled to it, not left at the top of a long page
            context.close()
    finally:
        searcher.close()


# -- point 7: only actual hits are marked --------------------------------------------------------------
def test_document_view_in_hybrid_mode_marks_the_literal_hits_only(page, server):
    keyword = api(server, f"/api/search?q={quote(QUERY)}&mode=keyword&place={quote('观音堂镇')}&size=100")
    doc_id = keyword["hits"][0]["doc_id"]
    literal = {h["paragraph_index"] for h in keyword["hits"] if h["doc_id"] == doc_id}
    paragraphs = [p for p in api(server, f"/api/documents/{doc_id}")["paragraphs"] if not p["is_heading"]]
    assert 0 < len(literal) < len(paragraphs) // 2

    page.goto(f"{server.url}/doc/{doc_id}?q={quote(QUERY)}")  # hybrid: every paragraph is a semantic neighbour
    marked = {int(i.split("-")[1]) for i in page.eval_on_selector_all(".para.is-hit", "els => els.map(e => e.id)")}
    assert marked == literal
    assert page.locator(".margin-mark").count() == len(literal)
    assert page.locator(".hit-jump li").count() == len(literal)


def test_document_view_without_a_literal_match_marks_the_closest_few(page, server):
    doc_id = api(server, f"/api/search?q={quote(QUERY)}")["hits"][0]["doc_id"]
    # Nothing in the corpus is near 量子计算机 (below Config.retrieval.semantic_floor): nothing is marked or claimed.
    page.goto(f"{server.url}/doc/{doc_id}?q={quote('量子计算机')}")
    assert page.locator(".para.is-hit").count() == 0
    assert "没有命中" in page.inner_text(".hits-panel") and "意思最接近" not in page.inner_text(".hits-panel")
    page.goto(f"{server.url}/doc/{doc_id}?q={quote(QUERY)}&mode=semantic")  # semantic: the closest few, no claim
    assert 0 < page.locator(".para.is-hit").count() <= 3
    assert "没有字面匹配" not in page.inner_text(".hits-panel")


# -- point 8: copy with citation in the document view and in the similar-passages panel ------------
def test_copy_a_paragraph_in_the_document_view(page, server):
    hit = next(h for h in api(server, f"/api/search?q={quote(QUERY)}&size=20")["hits"] if "心桥工程" in h["text"])
    page.goto(f"{server.url}/doc/{hit['doc_id']}?p={hit['paragraph_index']}&q={quote(QUERY)}#p-{hit['paragraph_index']}")
    target = page.locator(".para.is-target")
    target.hover()
    target.locator("button[data-action=copy]").click()
    page.wait_for_selector(".toast:not([hidden])")
    copied = page.evaluate("navigator.clipboard.readText()")

    doc = api(server, f"/api/documents/{hit['doc_id']}")
    para = next(p for p in doc["paragraphs"] if p["index"] == hit["paragraph_index"])
    view = DocumentView(**{**doc, "paragraphs": []})
    expected = cite_paragraph(view, ParagraphView(**para))
    assert copied == expected
    assert copied.startswith(para["text"]) and "（来源：观音堂镇《" in copied and "2023年" in copied
    assert hit["citation"] == expected  # the same citation the results page copies for this passage


def test_copy_a_similar_passage(page, server):
    page.goto(f"{server.url}/?q={quote(QUERY)}")
    hit = page.locator(".hit", has_text="心桥工程").first
    hit.locator("button[data-action=similar]").click()
    item = hit.locator(".similar-panel li").first
    item.wait_for()
    item.locator("button[data-action=copy]").click()
    page.wait_for_selector(".toast:not([hidden])")
    copied = page.evaluate("navigator.clipboard.readText()")

    similar = api(server, f"/api/similar/{hit.get_attribute('data-chunk-id')}?limit=5")["hits"][0]
    assert copied == similar["citation"]
    assert copied.startswith(similar["text"].strip()) and f"（来源：{similar['place']}《" in copied


# -- point 12: the limit reaches the box ---------------------------------------------------------------
def test_search_box_stops_at_the_limit_and_keeps_an_overlong_query(page, server, sample_index):
    limit = sample_index.retrieval.max_query_chars
    page.goto(server.url + "/")
    assert page.get_attribute("input[name=q]", "maxlength") == str(limit)
    page.locator("input[name=q]").press_sequentially("法" * (limit + 5), delay=0)
    assert len(page.input_value("input[name=q]")) == limit
    too_long = "依法行政" * (limit // 4 + 1)
    page.goto(f"{server.url}/?q={quote(too_long)}")
    assert page.input_value("input[name=q]") == too_long
    assert "检索词过长" in page.inner_text(".notice-error")


# -- point 17: the phone layout ------------------------------------------------------------------------
def no_horizontal_overflow(pg) -> bool:
    return pg.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_phone_results_come_first_filters_fold(phone, server, tmp_path):
    phone.goto(f"{server.url}/?q={quote(QUERY)}")
    assert no_horizontal_overflow(phone)
    first = phone.locator(".hit").first
    assert in_viewport(first, PHONE["height"])  # the first result starts on the first screen
    assert not phone.locator(".facet").first.is_visible()  # filters folded...
    phone.click(".facets-fold > summary")
    phone.locator(".facet a:has(.v:text-is('大铭乡'))").click()  # ...and usable
    phone.wait_for_url("**place=*")
    assert set(phone.locator(".hit .hit-meta .place").all_inner_texts()) == {"大铭乡"}
    assert "已选 1 项" in phone.inner_text(".facets-fold > summary")
    phone.screenshot(path=str(tmp_path / "phone-search.png"))


def test_phone_tabs_do_not_run_into_each_other(phone, server):
    phone.goto(f"{server.url}/compare")
    boxes = [a.bounding_box() for a in phone.locator(".topnav a").all()]
    assert len(boxes) == 4  # 检索, 按乡镇对比, 数据, 数据接口
    assert len({round(b["y"]) for b in boxes}) == 1  # one row
    for left, right in zip(boxes, boxes[1:]):
        assert left["x"] + left["width"] <= right["x"]
    assert boxes[-1]["x"] + boxes[-1]["width"] <= PHONE["width"]
    assert phone.locator(".topnav a", has_text="数据接口").inner_text() == "数据接口"


def test_phone_comparison_stacks_per_township(phone, server):
    phone.goto(f"{server.url}/compare?q={quote(QUERY)}")
    assert no_horizontal_overflow(phone)
    rows = phone.locator("table.compare tbody tr")
    assert rows.count() > 1
    for i in range(rows.count()):
        passage = rows.nth(i).locator(".passage").bounding_box()
        place = rows.nth(i).locator("th.place").bounding_box()
        assert passage["width"] >= 300  # the passage gets the screen's width, not one character
        assert place["y"] + place["height"] <= passage["y"]  # the township's name above its passage


def test_phone_document_view_fits(phone, server):
    doc_id = api(server, f"/api/search?q={quote(QUERY)}")["hits"][0]["doc_id"]
    phone.goto(f"{server.url}/doc/{doc_id}?q={quote(QUERY)}")
    assert no_horizontal_overflow(phone)
    phone.goto(f"{server.url}/")
    assert no_horizontal_overflow(phone)
