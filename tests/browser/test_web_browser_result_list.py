"""Issue 11 in a real browser (Playwright + Debian's Chromium): what the page says can be trusted -- every
place a phrase occurs in, counts that say what matched literally, facet counts a click keeps, and a page
past the end that says so."""
from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, quote, urlparse

import playwright.sync_api as playwright_api
import pytest


SLOGAN_PLACES = {"大铭乡", "张茅乡", "观音堂镇"}
SLOGAN_START = quote('"小事不出村"')
SLOGAN_END = quote('"矛盾不上交"')


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == []


def total_of(page) -> int:
    return int(page.inner_text(".summary b"))


def test_comparison_lists_every_township_with_the_phrase_and_exports_them(page, server):
    page.goto(f"{server.url}/compare?q={SLOGAN_START}&mode=keyword")
    places = page.locator("table.compare tbody th.place").all_inner_texts()
    assert {p.split("\n")[0].strip() for p in places} >= SLOGAN_PLACES and len(places) == 3
    assert "共 3 个地点" in page.inner_text(".compare-head")
    with page.expect_download() as download:
        page.click("text=导出 CSV")
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_bytes().decode("utf-8-sig"))))
    assert {r["地点"] for r in rows} == SLOGAN_PLACES


def test_paragraphs_sharing_a_slogan_are_all_listed_and_marked(page, server):
    page.goto(f"{server.url}/?q={SLOGAN_END}&mode=keyword")
    assert total_of(page) == 3
    hits = page.locator(".hit")
    assert hits.count() == 3
    assert {hits.nth(i).locator(".hit-meta .place").inner_text() for i in range(3)} == SLOGAN_PLACES
    marked = 0
    for i in range(3):
        if hits.nth(i).locator(".hit-meta .place").inner_text() == "观音堂镇":  # other wording (issue 24)
            assert hits.nth(i).locator(".shared-sentence").count() == 0
            continue
        mark = hits.nth(i).locator(".shared-sentence").inner_text()
        assert mark.startswith("另有 1 份报告有相同表述“小事不出") and "矛盾不上交" in mark
        marked += 1
    assert marked == 2
    link = page.locator(".hit .shared-sentence a").first
    link.click()  # opens the other report at that paragraph, with the query highlighted there
    page.wait_for_load_state()
    assert "#c-" in page.url and "chunk=" in page.url
    assert "矛盾不上交" in page.locator(".para.is-target").inner_text()


def test_a_query_without_literal_match_says_so_and_explains_only_the_blue(page, server):
    page.goto(f"{server.url}/?q={quote('老人上当受骗')}&mode=semantic")  # (hybrid adds official terms: issue 24)
    assert "没有字面匹配的段落，以下为意思相近的段落" in page.inner_text(".results .notice")
    summary = page.inner_text(".summary")
    assert "字面匹配 0 条" in summary and "意思相近" in summary
    legend = page.inner_text(".legend")
    assert "蓝色" in legend and "黄色" not in legend  # nothing is yellow on this page
    assert page.locator(".passage mark:not(.sem)").count() == 0
    assert page.locator(".hit .match-sem").count() == page.locator(".hit").count() > 0


def test_an_off_topic_query_does_not_claim_the_whole_corpus(page, server):
    page.goto(f"{server.url}/?q={quote('量子计算机')}")
    summary = page.inner_text(".summary")
    assert "共 73 条结果" not in summary
    assert total_of(page) < 10


def test_facet_counts_are_what_a_click_gives(page, server):
    page.goto(f"{server.url}/?q={quote('信访积案化解做法')}&mode=keyword&kind={quote('存在问题')}")
    assert total_of(page) == 1
    links = page.locator(".facet li a:not(.on):not(.drop)")  # values a click adds
    offered = [(links.nth(i).get_attribute("href"), int(links.nth(i).locator(".n").inner_text()))
               for i in range(links.count())]
    assert offered
    assert not any("大铭乡" in href and n == 4 for href, n in offered)
    for href, count in offered:
        page.goto(server.url + href)
        shown = total_of(page) if page.locator(".summary b").count() else 0
        # A value of the field that has a selection is OR-ed with it (a paragraph has one kind, one place):
        # the click adds its count to the one result; any other field's value narrows to exactly its count.
        added = 1 if len(parse_qs(urlparse(href).query).get("kind", [])) > 1 else 0
        assert shown == count + added, (parse_qs(urlparse(href).query), count, shown)


def test_a_selected_value_with_no_results_stays_visible_but_disabled(page, server):
    page.goto(f"{server.url}/?q={quote('信访积案化解做法')}&mode=keyword&kind={quote('存在问题')}"
              f"&place={quote('大铭乡')}")
    zero = page.locator(".facet li.zero", has_text="大铭乡")
    assert zero.count() == 1
    assert zero.locator("[aria-disabled=true] .n").inner_text() == "0"
    with page.expect_navigation():
        zero.locator("a.drop").click()  # it can still be removed
    assert "place=" not in page.url and total_of(page) == 1


def test_a_page_past_the_end_says_so_and_the_pager_leads_back(page, server):
    page.goto(f"{server.url}/?q={quote('矛盾纠纷排查化解')}&page=50")
    text = page.inner_text(".results")
    assert "超出范围" in text and "没有找到" not in text
    total = total_of(page)
    pages = -(-total // 10)
    targets = [int(parse_qs(urlparse(a.get_attribute("href")).query).get("page", ["1"])[0])
               for a in page.locator(".pager a").all()]
    assert targets and max(targets) == pages  # no link into the void
    with page.expect_navigation():
        page.click("text=查看最后一页")
    assert page.locator(".hit").count() == total - (pages - 1) * 10
    assert re.search(rf'<span class="cur" aria-current="page">{pages}</span>', page.content())
