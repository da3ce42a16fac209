"""历年对比 in a real Chromium at 1366 px and 390 px (issue 30 point 3): side by side on a desktop, stacked on a
phone without horizontal scrolling, the same counts and figures as the API."""
from __future__ import annotations

import json
import urllib.request
from urllib.parse import quote

import pytest

from tests.webfixtures import live_server

PLACE = "西丽街道"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def years_server(years_index, years_searcher):
    with live_server(years_index, years_searcher) as running:
        yield running


def _open(browser, viewport: dict, mobile: bool):
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=mobile, has_touch=mobile)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, errors


def test_years_side_by_side_on_desktop_and_stacked_on_a_phone(browser, years_server):
    with urllib.request.urlopen(f"{years_server.url}/api/place/{quote(PLACE)}/years?from=2024&to=2025",
                                timeout=60) as response:
        api = json.load(response)["comparisons"][0]

    context, page, errors = _open(browser, DESKTOP, mobile=False)
    try:
        page.goto(f"{years_server.url}/place/{quote(PLACE)}/years?from=2024&to=2025")
        rows = page.locator(".yr-row")
        assert rows.count() == len(api["rows"])
        counts = {el.get_attribute("data-label"): int(el.get_attribute("data-count"))
                  for el in page.locator(".yr-counts .yr-label").all()}
        assert counts == api["counts"]
        continued = page.locator('.yr-row[data-label="延续"]').first
        left, right = (continued.locator(".yr-cell").nth(k).bounding_box() for k in (0, 1))
        assert right["x"] >= left["x"] + left["width"] and abs(right["y"] - left["y"]) < 2  # side by side
        assert continued.locator("mark.chg").count() >= 1
        figures = page.locator(".yr-figure").all_inner_texts()
        assert len(figures) == len(api["figures"]) and any("45次" in f and "46次" in f for f in figures)
        assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    finally:
        context.close()
    assert errors == []

    context, phone, errors = _open(browser, PHONE, mobile=True)
    try:
        phone.goto(f"{years_server.url}/place/{quote(PLACE)}")  # from the place page, through its form
        assert phone.locator(".place-reports tbody tr").count() == 2
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        phone.select_option(".years-form select[name=from]", "2024")
        phone.select_option(".years-form select[name=to]", "2025")
        phone.locator(".years-form button").click()
        phone.wait_for_selector(".yr-row")
        assert "from=2024" in phone.url and phone.locator(".yr-row").count() == len(api["rows"])
        continued = phone.locator('.yr-row[data-label="延续"]').first
        left, right = (continued.locator(".yr-cell").nth(k).bounding_box() for k in (0, 1))
        assert right["y"] >= left["y"] + left["height"] - 1  # stacked: the later year below the earlier
        # the figures stay a table: which value is which year is read from its visible header
        assert phone.locator(".yr-figures thead th").all_inner_texts()[1:] == ["2024 年", "2025 年"]
        caption = phone.locator(".yr-figures caption").bounding_box()
        assert caption["width"] > 200, "the caption was squeezed into a one-character column"
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()
    assert errors == []
