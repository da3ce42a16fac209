"""The search UI in a real browser: Playwright driving Debian's Chromium against the app under waitress.

Set REPORTSEARCH_SCREENSHOT_DIR=docs to also refresh docs/screenshot-search.png and docs/screenshot-compare.png.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from urllib.parse import quote

import playwright.sync_api as playwright_api
import pytest
from docx import Document


QUERY = "信访积案化解做法"
VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    pg = context.new_page()
    outside: list[str] = []
    pg.on("request", lambda r: None if r.url.startswith((server.url, "data:")) else outside.append(r.url))
    pg.on("pageerror", lambda exc: outside.append(f"page error: {exc}"))
    pg.outside_requests = outside  # type: ignore[attr-defined]
    yield pg
    context.close()
    assert outside == [], "the page reached outside the app or raised a script error"


def search(page, server, query: str = QUERY):
    page.goto(server.url + "/")
    page.fill("input[name=q]", query)
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(".hit")


def xinqiao(page):
    hit = page.locator(".hit", has_text="心桥工程")
    hit.first.wait_for()
    return hit.first


def test_search_shows_the_xinqiao_passage_highlighted(page, server):
    search(page, server)
    assert f"q={quote(QUERY)}" in page.url  # the whole state is in the URL
    hit = xinqiao(page)
    assert hit.locator(".hit-meta .place").inner_text() == "观音堂镇"
    marks = hit.locator(".passage mark").all_inner_texts()
    assert marks and any(m in QUERY or QUERY in m or any(ch in m for ch in "信访积案化解") for m in marks)
    assert "条结果" in page.inner_text(".summary") and "毫秒" in page.inner_text(".summary")


def test_place_filter_shows_only_that_place(page, server):
    search(page, server)
    page.click(".facet a:has(.v:text-is('大铭乡'))")
    page.wait_for_url("**place=*")
    places = page.locator(".hit .hit-meta .place").all_inner_texts()
    assert places and set(places) == {"大铭乡"}
    assert page.locator(".facet a.on .v").first.inner_text() == "大铭乡"


def test_compare_by_township_shows_one_hit_per_place(page, server):
    search(page, server)
    with page.expect_navigation():
        page.check("input[name=group]")  # re-runs the search immediately
    assert "group=1" in page.url
    places = page.locator(".hit .hit-meta .place").all_inner_texts()
    assert len(places) == len(set(places)) > 1
    assert "观音堂镇" in places


def test_mode_switch_reruns_the_search(page, server):
    search(page, server)
    with page.expect_navigation():
        page.click(".seg-item:has-text('语义')")
    assert "mode=semantic" in page.url
    assert "语义模式" in page.inner_text(".summary")
    assert page.locator(".hit").count() > 0


def test_document_view_opens_at_the_paragraph(page, server):
    search(page, server)
    hit = xinqiao(page)
    with page.expect_navigation():
        hit.locator("a", has_text="查看原文").click()
    assert "/doc/" in page.url and "#p-" in page.url
    index = page.url.rsplit("#p-", 1)[1]
    target = page.locator(f"#p-{index}")
    assert "is-target" in target.get_attribute("class")
    assert "心桥工程" in target.inner_text()
    box = target.bounding_box()
    assert box is not None and 0 <= box["y"] < VIEWPORT["height"]  # scrolled into view
    assert page.locator(".margin-mark").count() >= 1  # the query's hits in this report are marked
    assert "观音堂镇" in page.inner_text(".meta-panel")


def test_copy_puts_passage_and_citation_on_the_clipboard(page, server):
    search(page, server)
    hit = xinqiao(page)
    passage = hit.locator(".passage").inner_text().strip()
    hit.locator("button[data-action=copy]").click()
    page.wait_for_selector(".toast:not([hidden])")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(passage)
    assert copied.endswith("）")
    citation = copied[len(passage):]
    assert citation.startswith("（来源：观音堂镇《") and "》，2023年，" in citation


def test_context_expands_in_place(page, server):
    search(page, server)
    hit = xinqiao(page)
    hit.locator("button[data-action=context]").click()
    before = hit.locator(".ctx-before")
    before.wait_for()
    assert hit.locator(".ctx-after").inner_text().strip()
    assert before.inner_text().strip()
    assert hit.locator("button[data-action=context]").inner_text() == "收起上下文"
    hit.locator("button[data-action=context]").click()
    assert hit.locator(".ctx").count() == 0


def test_similar_lists_passages_from_other_reports(page, server):
    search(page, server)
    hit = xinqiao(page)
    hit.locator("button[data-action=similar]").click()
    items = hit.locator(".similar-panel li")
    items.first.wait_for()
    places = items.locator(".s-meta a").all_inner_texts()
    assert places and "观音堂镇" not in places  # the sample has one report per place


def test_compare_page_exports_csv_and_docx(page, server, tmp_path):
    page.goto(f"{server.url}/compare?q={quote(QUERY)}")
    rows = page.locator("table.compare tbody tr")
    places = rows.locator("th.place").all_inner_texts()
    assert len(rows.all()) > 1 and any(p.startswith("观音堂镇") for p in places)

    with page.expect_download() as info:
        page.click("text=导出 CSV")
    csv_path = tmp_path / info.value.suggested_filename
    info.value.save_as(csv_path)
    assert csv_path.suffix == ".csv"
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert "观音堂镇" in [r["地点"] for r in table]
    assert all("（来源：" in r["引用"] for r in table)

    with page.expect_download() as info:
        page.click("text=导出 Word")
    docx_path = tmp_path / info.value.suggested_filename
    info.value.save_as(docx_path)
    assert docx_path.suffix == ".docx"
    doc = Document(str(docx_path))
    cells = [c.text for row in doc.tables[0].rows[1:] for c in row.cells]
    assert "观音堂镇" in cells
    assert any("心桥工程" in c or "信访" in c for c in cells)
    assert any("来源：观音堂镇《" in c for c in cells)


def test_pages_fit_the_screen_and_screenshots(page, server, tmp_path):
    """No horizontal overflow at 1366×768; screenshots go to tmp_path (or REPORTSEARCH_SCREENSHOT_DIR)."""
    out = Path(os.environ.get("REPORTSEARCH_SCREENSHOT_DIR") or tmp_path)
    shots = {
        "screenshot-search.png": f"/?q={quote(QUERY)}",
        "screenshot-compare.png": f"/compare?q={quote(QUERY)}",
    }
    for name, url in shots.items():
        page.goto(server.url + url)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"], url
        page.screenshot(path=str(out / name))
        assert (out / name).stat().st_size > 10_000
