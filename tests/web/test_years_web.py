"""The place page and 历年对比 over HTTP (issue 30 point 3): pages, JSON, exports that agree with each other, and
hostile input answered with a 4xx naming the parameter."""
from __future__ import annotations

import csv
import io
import re
from html import unescape
from urllib.parse import quote

import pytest
from docx import Document

from search_web import create_app

PLACE = "西丽街道"
YEARS = f"/place/{quote(PLACE)}/years?from=2024&to=2025"


@pytest.fixture(scope="module")
def years_client(years_index, years_searcher):
    return create_app(years_index, years_searcher).test_client()


def test_place_page_lists_the_reports_by_year_with_links(years_client, years_searcher):
    r = years_client.get(f"/place/{quote('白云区')}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    view = years_searcher.place("白云区")
    years = [int(y) for y in re.findall(r'<td class="year">(\d{4})年</td>', html)]
    assert years == [2021, 2022, 2023, 2024] == [rep.year for rep in view.reports]
    for rep in view.reports:
        assert f'href="/doc/{rep.doc_id}"' in html and rep.title in html
    assert 'name="from"' in html and 'name="to"' in html  # the form that opens 历年对比


def test_years_page_api_csv_and_word_agree(years_client):
    api = years_client.get(f"/api/place/{quote(PLACE)}/years?from=2024&to=2025").get_json()
    (c,) = api["comparisons"]
    html = years_client.get(YEARS).get_data(as_text=True)
    shown = dict(re.findall(r'data-label="([^"]+)" data-count="(\d+)"', html))
    assert {k: int(v) for k, v in shown.items()} == c["counts"]
    assert html.count('class="yr-row"') == len(c["rows"])
    assert html.count('<mark class="chg">') >= 4  # the changed words are marked
    # each value of the figures table opens the document view with its sentence marked
    cells = re.findall(r'<td class="num"><a href="([^"]+)"[^>]*>([^<]+)</a></td>', html)
    values = [(f["earlier"] + f["unit"], f["later"] + f["unit"]) for f in c["figures"]]
    assert [v for _, v in cells] == [v for pair in values for v in pair] and ("45次", "46次") in values
    f = c["figures"][values.index(("45次", "46次"))]
    for (link, _), sentence in zip(cells[2 * values.index(("45次", "46次")):], (f["earlier_sentence"], f["later_sentence"])):
        page = years_client.get(unescape(link)).get_data(as_text=True)
        marked = re.findall(r'<mark class="fig" id="fig-sentence">(.*?)</mark>', page, re.S)  # no query: no inner marks
        assert len(marked) == 1 and unescape(marked[0]) == sentence

    data = years_client.get(f"/place/{quote(PLACE)}/years/export.csv?from=2024&to=2025")
    assert data.status_code == 200 and "attachment" in data.headers["Content-Disposition"]
    text = data.get_data().decode("utf-8-sig")
    paragraphs, _, figures = text.partition("\r\n\r\n")
    rows = list(csv.DictReader(io.StringIO(paragraphs)))
    assert len(rows) == len(c["rows"])
    assert [r["标注"] for r in rows] == [row["label"] for row in c["rows"]]
    cited = [r for r in rows if r["后一年段落"]]
    assert all("来源：" in r["后一年引用"] and "2025年" in r["后一年引用"] for r in cited)
    fig_rows = list(csv.DictReader(io.StringIO(figures)))
    assert [(f["前一年原文"], f["后一年原文"]) for f in fig_rows] == [(f["earlier"] + f["unit"], f["later"] + f["unit"])
                                                                  for f in c["figures"]]

    word = years_client.get(f"/place/{quote(PLACE)}/years/export.docx?from=2024&to=2025")
    assert word.status_code == 200
    doc = Document(io.BytesIO(word.get_data()))
    table = doc.tables[0]
    assert len(table.rows) == len(c["rows"]) + 1
    assert sum("【延续】" in row.cells[1].text for row in table.rows) == c["counts"]["延续"]
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "45次 → 46次" in body


@pytest.mark.parametrize("url, status, param, words", [
    (f"/api/place/{quote('没有这个镇')}/years", 404, "name", "没有这个镇"),
    (f"/api/place/{quote('西丽街道')}/years?from=abc&to=2025", 400, "from", "整数"),
    (f"/api/place/{quote('西丽街道')}/years?from=2019&to=2025", 400, "from", "2019"),
    (f"/api/place/{quote('西丽街道')}/years?from=2025&to=2019", 400, "to", "2019"),  # reversed: still `to`
    (f"/api/place/{quote('西丽街道')}/years?from=2024", 400, "to", "两个年份"),
    (f"/api/place/{quote('西丽街道')}/years?from=2024&to=99999999999999999999999", 400, "to", "2100"),
    (f"/api/place/{quote('西丽街道')}/years?from=2024&to=2025&q=%01%00", 400, "q", "U+0001"),
    (f"/api/place/{quote('西丽街道')}/years?from=2024&to=2025&q=" + "法" * 5000, 400, "q", "过长"),
    ("/api/place/%00/years", 400, "name", ""),
])
def test_hostile_input_is_refused_naming_the_parameter(years_client, url, status, param, words):
    r = years_client.get(url)
    assert r.status_code == status
    error = r.get_json()["error"]
    assert error["param"] == param and words in error["message"]


def test_pages_and_exports_answer_bad_input_with_chinese_4xx(years_client):
    odd = years_client.get(f"/place/{quote(PLACE)}/years?from=2024&to=2025&name=x&q=")  # unknown keys are ignored
    assert odd.status_code == 200 and f'href="/place/{quote(PLACE)}/years/export.csv?from=2024&amp;to=2025"' in \
        odd.get_data(as_text=True)
    missing = years_client.get(f"/place/{quote('没有这个镇')}")
    assert missing.status_code == 404 and "没有这个镇" in missing.get_data(as_text=True)
    bad = years_client.get(f"/place/{quote(PLACE)}/years?from=2024&to=2024")
    assert bad.status_code == 400 and "两个不同的年份" in bad.get_data(as_text=True)
    for path in ("export.csv", "export.docx"):
        r = years_client.get(f"/place/{quote(PLACE)}/years/{path}?from=2024&to=2025&q=%07")
        assert r.status_code == 400 and "U+0007" in r.get_data(as_text=True)


def test_a_place_with_one_year_says_so(years_client, years_searcher, build_index):
    # every place of corpora/years has two years or more: the message is checked on a one-report index
    from indexer.search.searcher import Searcher

    config, report = build_index({"a.txt": "海城镇2024年法治政府建设年度报告\n\n2024年，海城镇坚持依法行政，化解信访积案6起。\n"})
    assert report.exit_code == 0
    s = Searcher.open(config, years_searcher.encoder)
    try:
        client = create_app(config, s).test_client()
        place = s.documents()[0].meta.place
        page = client.get(f"/place/{quote(place)}")
        assert page.status_code == 200 and "只有一个年份的报告" in page.get_data(as_text=True)
        r = client.get(f"/api/place/{quote(place)}/years")
        assert r.status_code == 400 and "无法进行历年对比" in r.get_json()["error"]["message"]
    finally:
        s.close()
