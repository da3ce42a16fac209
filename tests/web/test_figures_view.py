"""The 数据 page and the Excel export (issue 30 point 2): the page is /api/figures's rows as a table (same order,
same values, same links), sorted and paged on the server, its measure groups listed; the xlsx holds every row
with numbers as number cells under a header block naming the query, filters and sort; hostile input is a 4xx."""
from __future__ import annotations

import io
import re
from urllib.parse import quote

import lxml.html
import pytest
from openpyxl import load_workbook

from indexer.core.filters import Filters
from indexer.search.figures import FigureHit, FiguresRequest, FiguresResponse, MeasureGroup
from search_web.export import FIGURES_XLSX_COLUMNS, figures_xlsx
from tests.web.test_figures_api import QUERY, csv_rows, get_json

SIZE = 10  # rows per page here: the sample's query has a few pages of them
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


_STEP = re.compile(r"^([a-z0-9]*)((?:\.[\w-]+)*)(?:\[([\w-]+)(?:=([\w-]+))?\])?$")


def css(node, selector: str) -> list:
    """The elements a simple CSS selector picks (tag.class[attr=value] steps, descendants), by XPath: lxml's
    cssselect needs a package the project does not otherwise use."""
    path = "."
    for step in selector.split():
        tag, classes, attr, value = _STEP.match(step).groups()
        test = "".join(f"[contains(concat(' ', normalize-space(@class), ' '), ' {c} ')]"
                       for c in classes.split(".") if c)
        if attr:
            test += f"[@{attr}='{value}']" if value else f"[@{attr}]"
        path += f"//{tag or '*'}{test}"
    return node.xpath(path)


def page_html(client, url: str, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.data[:300])
    return lxml.html.fromstring(response.get_data(as_text=True))


def table_rows(tree) -> list[dict]:
    """The 数据 table as the user reads it, one dict per row."""
    rows = []
    for tr in css(tree, "table.figures tbody tr"):
        cells = {td.get("class").split()[-1]: td for td in css(tr, "td")}
        rows.append({
            "place": _own_text(cells["place"]),
            "year": _own_text(cells["year"]),
            "measure": _own_text(cells["measure"]),
            "group": (css(cells["measure"], ".grp") or [None])[0],
            "value": cells["value"].text_content().strip(),
            "link": css(cells["value"], "a")[0].get("href"),
            "unit": cells["unit"].text_content(),
            "qualifier": cells["qual"].text_content(),
            "as_written": cells["written"].text_content(),
            "sentence": css(cells["sentence"], ".passage")[0].text_content(),
            "marked": [m.text_content() for m in css(cells["sentence"], "mark")],
            "chunk_id": int(tr.get("data-chunk-id")),
        })
    return rows


def _own_text(td) -> str:
    """A cell's own words: its link's text when it is a link, without the small print under it."""
    links = [a for a in td if a.tag == "a"]
    return (links[0].text_content() if links else td.text or "").strip()


def _blank(value):
    """An empty cell: openpyxl reads an empty string back as None."""
    return None if value in ("", None) else value


def xlsx_book(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.data[:300])
    assert response.headers["Content-Type"] == XLSX
    assert "attachment" in response.headers["Content-Disposition"] and ".xlsx" in response.headers["Content-Disposition"]
    return load_workbook(io.BytesIO(response.data))


def xlsx_table(book) -> tuple[dict[str, str], list[dict]]:
    """(header block label -> value, table rows as dicts keyed by column name)."""
    sheet = book["数据"]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    top = next(i for i, r in enumerate(values) if tuple(r[:len(FIGURES_XLSX_COLUMNS)]) == FIGURES_XLSX_COLUMNS)
    header = {r[0]: r[1] for r in values[1:top] if r[0]}
    return header, [dict(zip(FIGURES_XLSX_COLUMNS, r)) for r in values[top + 1:]]


def test_page_is_the_api_rows_with_links_groups_and_pages(client, searcher) -> None:
    full = searcher.figures(FiguresRequest(QUERY))
    assert full.total > SIZE, "the sample query fills more than one page"
    api = get_json(client, f"/api/figures?q={quote(QUERY)}&size={SIZE}")
    tree = page_html(client, f"/figures?q={quote(QUERY)}&size={SIZE}")
    rows = table_rows(tree)
    assert len(rows) == SIZE
    assert [(r["place"], r["year"], r["measure"], r["value"], r["unit"], r["qualifier"], r["as_written"], r["link"])
            for r in rows] == [
        (a["place"] or "（未识别）", f"{a['year']}年" if a["year"] else "—", a["measure"] or "（未识别）", _value(a),
         a["unit"], a["qualifier"], a["as_written"], a["link"])
        for a in api["rows"]]
    assert all(r["sentence"] == a["sentence"] and r["marked"] == [a["as_written"]] for r, a in zip(rows, api["rows"]))
    # grouping is shown: every row filed under another wording says so, every merged group is listed
    for r, a in zip(rows, api["rows"]):
        shown = r["group"].text_content() if r["group"] is not None else None
        assert shown == (f"归入：{a['group']}" if a["group"] and a["group"] != a["measure"] else None)
    listed = " ".join(li.text_content() for li in css(tree, ".group-list li"))
    for g in api["groups"]:
        if len(g["measures"]) > 1:
            assert all(m in listed for m in g["measures"]), g
    summary = css(tree, ".fig-groups summary")[0].text_content()
    assert f"共 {len(api['groups'])} 组" in summary
    # page 2 continues where page 1 stopped
    second = table_rows(page_html(client, f"/figures?q={quote(QUERY)}&size={SIZE}&page=2"))
    assert [r["chunk_id"] for r in rows + second] == [r.chunk_id for r in full.rows[:len(rows) + len(second)]]
    assert css(tree, ".pager a[rel=next]")[0].get("href").endswith(f"size={SIZE}&page=2")
    # the exports carry the page's query and order
    assert css(tree, ".export a")[1].get("href") == f"/api/figures?q={quote(QUERY)}&format=xlsx"
    # the value opens the document view at the figure's paragraph
    doc = client.get(rows[0]["link"])
    assert doc.status_code == 200 and f'id="c-{rows[0]["chunk_id"]}"' in doc.get_data(as_text=True)


def _value(row: dict) -> str:
    from indexer.search.figures import value_text

    return value_text(row["value"], row["value_high"])


def test_sorting_and_filters_are_links_that_keep_each_other(client) -> None:
    tree = page_html(client, f"/figures?q={quote(QUERY)}&sort=value&desc=1")
    values = [float(r["value"].split("-")[0]) for r in table_rows(tree)]
    assert values == sorted(values, reverse=True) and values[0] > values[-1]
    head = css(tree, "th[aria-sort]")[0]
    assert head.get("aria-sort") == "descending" and "数值" in head.text_content()
    flip = css(head, "a")[0].get("href")
    assert "sort=value" in flip and "desc" not in flip  # the same column again: ascending
    ascending = [float(r["value"].split("-")[0]) for r in table_rows(page_html(client, flip))]
    assert ascending == sorted(ascending)
    place = table_rows(tree)[0]["place"]
    only = page_html(client, f"/figures?q={quote(QUERY)}&sort=value&desc=1&place={quote(place)}")
    rows = table_rows(only)
    assert rows and {r["place"] for r in rows} == {place}
    chip = css(only, ".fig-filters .chip")[0]
    assert place in chip.text_content() and "place=" not in chip.get("href") and "sort=value" in chip.get("href")
    sort_link = css(only, "th a.sort")[0].get("href")  # re-sorting keeps the filter
    assert f"place={quote(place)}" in sort_link


def test_tab_keeps_the_search_query_and_filters(client) -> None:
    tree = page_html(client, f"/?q={quote(QUERY)}&place={quote('大铭乡')}&year=2023&mode=semantic")
    tab = [a for a in css(tree, ".topnav a") if a.text_content() == "数据"][0]
    assert tab.get("href") == f"/figures?q={quote(QUERY)}&place={quote('大铭乡')}&year=2023"
    for url, status in (("/", 200), ("/?q=%E5%AE%A3%00", 400), (f"/?q={'法' * 5000}", 400)):
        # nothing asked, or a rejected query: the tab opens the 数据 landing (the query is not echoed)
        tree = page_html(client, url, status=status)
        assert [a.get("href") for a in css(tree, ".topnav a") if a.text_content() == "数据"] == ["/figures"]


def test_empty_landing_and_error_states_in_chinese(client) -> None:
    landing = page_html(client, "/figures")
    assert css(landing, ".landing .examples a") and not css(landing, "table.figures")
    none = page_html(client, f"/figures?q={quote('量子纠缠')}")
    assert "没有段落含有“量子纠缠”" in css(none, ".empty h2")[0].text_content()
    bare = page_html(client, f"/figures?q={quote('没有这个词组合')}")  # found, in a paragraph without numbers
    assert "个段落中没有数字" in css(bare, ".empty h2")[0].text_content()
    past = page_html(client, f"/figures?q={quote(QUERY)}&page=50")  # past the last page
    assert "查看最后一页" in css(past, ".out-of-range")[0].text_content()


@pytest.mark.parametrize("query, param", [
    ("q=%E5%AE%A3%E4%BC%A0%00", "q"),
    ("q=%01", "q"),
    ("q=%E5%AE%A3%08%E4%BC%A0", "q"),
    ("q=%EF%BF%BE", "q"),
    (f"q={quote(QUERY)}&place=%00", "place"),
    (f"q={quote(QUERY)}&region=%EF%BF%BE", "region"),
    (f"q={quote(QUERY)}&sort=%3Cscript%3E", "sort"),
    (f"q={quote(QUERY)}&year=20x3", "year"),
    (f"q={quote(QUERY)}&page=0", "page"),
    (f"q={quote(QUERY)}&size=101", "size"),
    (f"q={quote(QUERY)}&desc=maybe", "desc"),
    (f"q={'法' * 501}", "q"),
])
def test_hostile_input_is_a_4xx_page_and_a_4xx_export(client, query, param) -> None:
    tree = page_html(client, f"/figures?{query}", status=400)
    assert css(tree, ".notice-error") and not css(tree, "table.figures")
    response = client.get(f"/api/figures?{query}&format=xlsx")
    assert response.status_code == 400 and response.get_json()["error"]["param"] == param


def test_xlsx_is_every_row_of_the_api_with_numbers_as_numbers(client, searcher) -> None:
    place = searcher.figures(FiguresRequest(QUERY)).rows[0].place
    base = f"/api/figures?q={quote(QUERY)}&sort=value&desc=1"
    api = get_json(client, base + "&size=100")
    assert SIZE < api["total"] <= 100, "the test reads the whole table in one API page"
    header, rows = xlsx_table(xlsx_book(client, base + "&format=xlsx"))
    assert header["检索词"] == QUERY and header["筛选条件"] == "（无）" and header["排序"] == "数值（降序）"
    assert f"数字 {api['total']} 个" in header["范围"]
    assert len(rows) == api["total"]  # every row, not one page
    columns = ("地点", "年份", "指标", "指标组", "数值", "数值上限", "单位", "限定", "原文数字", "句子", "段落编号")
    fields = ("place", "year", "measure", "group", "value", "value_high", "unit", "qualifier", "as_written",
              "sentence", "chunk_id")
    assert [tuple(_blank(r[c]) for c in columns) for r in rows] == [
        tuple(_blank(str(a[f]) if f == "chunk_id" else a[f]) for f in fields) for a in api["rows"]]
    assert all(isinstance(r["数值"], (int, float)) and isinstance(r["年份"], int) for r in rows)
    assert all(r["地点"] in r["引用"] and r["句子"] in r["引用"] and f"{r['年份']}年" in r["引用"] for r in rows)
    assert all(r["报告标题"] in r["引用"] for r in rows if r["报告标题"])
    # the CSV says the same
    table = csv_rows(client, base + "&format=csv")
    assert [(c["地点"], c["指标"], float(c["数值"].split("-")[0]), c["引用"]) for c in table] == [
        (r["地点"], r["指标"], float(r["数值"]), r["引用"]) for r in rows]
    # filters are named in the header block; the groups sheet lists every group
    book = xlsx_book(client, base + f"&format=xlsx&place={quote(place)}&year=2023")
    header, rows = xlsx_table(book)
    assert header["筛选条件"] == f"地点：{place}；年份：2023" and rows and {r["地点"] for r in rows} == {place}
    groups = list(book["指标分组"].iter_rows(min_row=2, values_only=True))
    assert sum(g[3] for g in groups) == sum(1 for r in rows if r["指标"])
    # nothing found: the header still says what was asked
    header, rows = xlsx_table(xlsx_book(client, f"/api/figures?q={quote('没有这个词组合')}&format=xlsx"))
    assert header["检索词"] == "没有这个词组合" and len(rows) == 1 and "没有数字" in rows[0]["地点"]


def test_xlsx_keeps_report_text_as_text() -> None:
    """A sentence starting with "=" stays text (openpyxl would store it as a formula Excel runs), and a
    report's stray control character (which a worksheet cannot hold) does not fail the export."""
    sentence = '=HYPERLINK("http://example.invalid","点击")共调解纠纷12件'
    hit = FigureHit(place="东城镇", year=2023, level="乡镇", region="某县", title="东城镇\x01报告", doc_id="d1",
                    path="a.txt", chunk_id=7, paragraph_index=3, heading_path=("一、主要做法",), measure="调解纠纷",
                    group="调解纠纷", value=12.0, value_high=None, unit="件", qualifier="", as_written="12件",
                    sentence=sentence, sentence_start=0, sentence_end=len(sentence), start=48, end=51)
    response = FiguresResponse(query="=1+1", filters={}, sort="value", descending=False, paragraphs=1, rows=[hit],
                               groups=[MeasureGroup("调解纠纷", ["调解纠纷"], 1)], generation="g")
    book = load_workbook(io.BytesIO(figures_xlsx(FiguresRequest("=1+1", Filters(), "value"), response)))
    sheet = book["数据"]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)
    header, rows = xlsx_table(book)
    assert header["检索词"] == "=1+1" and rows[0]["句子"] == sentence and rows[0]["报告标题"] == "东城镇 报告"
    assert rows[0]["数值"] == 12


def test_a_value_opens_its_sentence_marked_and_a_bad_sentence_parameter_is_named(client) -> None:
    api = get_json(client, f"/api/figures?q={quote(QUERY)}&size=40")
    row = next(r for r in api["rows"] if QUERY in r["sentence"] and r["sentence_start"] > 0)  # not the first
    tree = page_html(client, row["link"])
    marked = css(tree, "mark.fig")
    assert len(marked) == 1 and marked[0].text_content() == row["sentence"]
    assert css(marked[0], "mark")  # the query's words are marked inside it too
    target = css(tree, "div.para.is-target")[0]
    assert marked[0] in target.iter() and target.get("id") == f"p-{row['paragraph_index']}"
    base = row["link"].split("&s=")[0]
    # a link whose sentence no longer fits the chunk (the report changed) still opens the paragraph, unmarked
    stale = page_html(client, f"{base}&s=0-99999")
    assert not css(stale, "mark.fig") and css(stale, "div.para.is-target")
    for bad in ("abc", "9-3", "1-2-3", "-1-5", "%00"):
        response = client.get(f"{base}&s={bad}")
        assert response.status_code == 400 and "参数 s" in response.get_data(as_text=True), bad
