"""Issue 24 point 7 in a real Chromium (Playwright + /usr/bin/chromium): the pager fits a 390 px phone on
every page, the long place facet shows its first values and the rest behind 更多 (with and without
JavaScript, by keyboard too), and the match labels as a reader sees them. Over tests/mixedcorpus.py."""
from __future__ import annotations

from urllib.parse import quote

import playwright.sync_api as playwright_api
import pytest

from tests.mixedcorpus import build_mixed
from tests.webfixtures import live_server


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
BROAD = "法治政府建设"  # more than ten pages of results
FACET_TOP = 10


@pytest.fixture(scope="module")
def mixed_server(tmp_path_factory, encoder, embedding_cache):
    config, searcher = build_mixed(tmp_path_factory, encoder, embedding_cache)
    with live_server(config, searcher) as running:
        yield running
    searcher.close()


def open_page(browser, viewport: dict, mobile: bool = False, js: bool = True):
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=mobile, has_touch=mobile,
                                  java_script_enabled=js)
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return context, page


@pytest.fixture()
def phone(browser):
    context, page = open_page(browser, PHONE, mobile=True)
    yield page
    context.close()
    assert page.errors == []


@pytest.fixture()
def desktop(browser):
    context, page = open_page(browser, DESKTOP)
    yield page
    context.close()
    assert page.errors == []


def test_the_pager_fits_a_phone_on_every_page(phone, mixed_server):
    phone.goto(f"{mixed_server.url}/?q={quote(BROAD)}")
    total = int(phone.inner_text(".summary b"))
    pages = -(-total // 10)
    assert pages >= 10, total  # enough pages for the widest pager: ‹ 1 … 3 4 5 6 7 … N ›
    for n in range(1, pages + 1):
        phone.goto(f"{mixed_server.url}/?q={quote(BROAD)}&page={n}")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (n, width)
        box = phone.locator(".pager").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (n, box)
        # one row: every pager item on the same line
        tops = [b["y"] for b in (i.bounding_box() for i in phone.locator(".pager > *").all())]
        assert max(tops) - min(tops) < 8, (n, tops)
    # the arrows still say where they lead, to a screen reader
    assert phone.locator(".pager a[rel=prev]").get_attribute("aria-label") == "上一页"


def visible_places(page) -> list[str]:
    return [t for t in page.locator("section.facet:has(h3:text-is('地点')) li a .v").all_inner_texts() if t]


def test_the_place_facet_lists_the_first_values_and_the_rest_behind_more(desktop, mixed_server):
    desktop.goto(f"{mixed_server.url}/?q={quote(BROAD)}")
    facet = desktop.locator("section.facet:has(h3:text-is('地点'))")
    links = facet.locator("li a")
    total = links.count()
    assert total > FACET_TOP + 2  # every value is on the page ...
    shown = [links.nth(i) for i in range(total) if links.nth(i).is_visible()]
    assert len(shown) == FACET_TOP  # ... the first ten visible
    more = facet.locator("details.facet-more > summary")
    assert more.inner_text().strip() == f"更多 {total - FACET_TOP} 个地点"
    last = links.nth(total - 1)
    assert not last.is_visible()
    more.focus()
    desktop.keyboard.press("Enter")  # a native disclosure: the keyboard opens it
    assert last.is_visible() and more.inner_text().strip() == "收起"
    place = last.locator(".v").inner_text()
    with desktop.expect_navigation():
        last.click()
    assert set(desktop.locator(".hit .hit-meta .place").all_inner_texts()) == {place}
    # the selected value is never hidden behind 更多
    selected = desktop.locator("section.facet:has(h3:text-is('地点')) li a.on")
    assert selected.count() == 1 and selected.is_visible()


def test_more_works_without_javascript_on_a_phone(browser, mixed_server):
    context, page = open_page(browser, PHONE, mobile=True, js=False)
    try:
        page.goto(f"{mixed_server.url}/?q={quote(BROAD)}")
        page.click(".facets-fold > summary")
        facet = page.locator("section.facet:has(h3:text-is('地点'))")
        hidden = facet.locator("details.facet-more li a").first
        assert not hidden.is_visible()
        facet.locator("details.facet-more > summary").click()
        assert hidden.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()


def test_labels_a_reader_sees(desktop, mixed_server):
    desktop.goto(f"{mixed_server.url}/?q={quote('上访')}")
    first = desktop.locator(".hit").first
    assert first.locator(".match-official").inner_text().startswith("按公文用语匹配：信访")
    assert first.locator("mark.official").first.inner_text().startswith("信访")
    assert "绿色为检索词对应的公文用语" in desktop.inner_text(".legend")
    desktop.goto(f"{mixed_server.url}/compare?q={quote('上访')}&mode=keyword")
    cells = desktop.locator("table.compare td.match-cell").all_inner_texts()
    assert cells and all(c.startswith("按公文用语匹配：信访") for c in cells)
