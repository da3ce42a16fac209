"""The 数据 page in a real Chromium (issue 30 point 2), at 1366 px and at 390 px: reached from the search page with
its query and filters, sorted by value, a value opening the document view at its paragraph with its sentence
marked, the table scrolling
inside its own box on a phone, and hostile input answered with a 4xx page."""
from __future__ import annotations

from urllib.parse import parse_qs, quote, urlparse

from tests.browser.test_web_browser_views import DESKTOP, PHONE, open_page

QUERY = "宣传"
PLACE = "大铭乡"  # has figures in paragraphs about 宣传 (tests/web/test_figures_api.py)


def values(pg) -> list[float]:
    return [float(v.split("-")[0]) for v in pg.locator("table.figures td.value").all_inner_texts()]


def page_width(pg) -> int:
    return pg.evaluate("document.documentElement.scrollWidth")


def test_figures_page_on_a_desktop(browser, server):
    context, pg = open_page(browser, server.url, DESKTOP)
    try:
        # the 数据 tab keeps the search's query and filters
        pg.goto(f"{server.url}/?q={quote(QUERY)}&place={quote(PLACE)}")
        with pg.expect_navigation():
            pg.locator(".topnav a", has_text="数据").first.click()
        args = parse_qs(urlparse(pg.url).query)
        assert urlparse(pg.url).path == "/figures" and args == {"q": [QUERY], "place": [PLACE]}
        assert pg.locator(".topnav a.on").inner_text() == "数据"
        places = pg.locator("table.figures td.place").all_inner_texts()
        assert places and {p.split()[0] for p in places} == {PLACE}
        assert page_width(pg) <= DESKTOP["width"]

        # every place again, then sort by value: largest first, then (clicked again) smallest first
        with pg.expect_navigation():
            pg.locator(".fig-filters .chip").first.click()
        assert "place" not in parse_qs(urlparse(pg.url).query)
        with pg.expect_navigation():
            pg.locator("table.figures th a.sort", has_text="数值").click()
        down = values(pg)
        assert len(down) > 1 and down == sorted(down, reverse=True) and down[0] > down[-1]
        assert pg.locator("th[aria-sort]").get_attribute("aria-sort") == "descending"
        with pg.expect_navigation():
            pg.locator("table.figures th a.sort", has_text="数值").click()
        up = values(pg)
        assert up == sorted(up) and up[0] < up[-1]

        # the groups are visible above the table
        assert pg.locator(".fig-groups summary").is_visible()
        assert "指标分组" in pg.locator(".fig-groups summary").inner_text()

        # a value opens the document view at the paragraph holding its sentence, the query marked
        row = pg.locator("table.figures tbody tr").nth(2)
        sentence = row.locator(".passage").inner_text()
        number = row.locator("mark").inner_text()
        with pg.expect_navigation():
            row.locator("td.value a").click()
        assert "/doc/" in pg.url and "#c-" in pg.url
        target = pg.locator(".para.is-target")
        assert target.count() == 1 and sentence in target.inner_text() and number in sentence
        box = target.bounding_box()
        assert box is not None and 0 <= box["y"] < DESKTOP["height"]
        assert target.locator("mark").count() > 0  # the query's words marked in the paragraph
        # ... and the figure's own sentence marked in it, in view
        marked = target.locator("mark.fig")
        assert marked.count() == 1 and marked.inner_text() == sentence and number in marked.inner_text()
        box = marked.bounding_box()
        assert box is not None and 0 <= box["y"] < DESKTOP["height"]
        assert pg.locator("mark.fig").count() == 1  # nowhere else
    finally:
        context.close()
    assert pg.errors == []


def test_figures_page_on_a_phone(browser, server):
    context, pg = open_page(browser, server.url, PHONE, mobile=True)
    try:
        pg.goto(f"{server.url}/figures?q={quote(QUERY)}")
        assert pg.locator("table.figures tbody tr").count() > 1
        assert page_width(pg) <= PHONE["width"]  # the page never scrolls sideways ...
        box = pg.locator(".table-scroll")
        assert box.evaluate("e => e.scrollWidth > e.clientWidth")  # ... the wide table scrolls in its own box
        assert box.evaluate("e => getComputedStyle(e).overflowX") == "auto"
        for name in ("导出 CSV", "导出 Excel"):
            link = pg.locator(".export a", has_text=name)
            assert link.is_visible() and "format=" in link.get_attribute("href")

        response = pg.goto(f"{server.url}/figures?q=%E5%AE%A3%00%01%08&place=%EF%BF%BE")
        assert response.status == 400
        assert "无法生成数据表" in pg.locator(".notice-error").inner_text()
        assert page_width(pg) <= PHONE["width"]
    finally:
        context.close()
    assert pg.errors == []
