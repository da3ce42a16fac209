"""/api/figures and `reportsearch figures` (issue 30 point 3): the same filters and validation as /api/search,
hostile input a 4xx naming the parameter, a CSV of every row that names its query and filters, and the same
numbers in the API, the CSV and the CLI."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest

from indexer.search.figures import FiguresRequest
from search_web.export import FIGURES_CSV_COLUMNS

REPO = Path(__file__).resolve().parents[2]
QUERY = "宣传"


def get_json(client, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.data[:300])
    assert response.is_json
    return response.get_json()


def csv_rows(client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8-sig")  # with a BOM, so Excel reads the Chinese
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames) == FIGURES_CSV_COLUMNS
    return list(reader)


def cli(args: list[str], index_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, REPORTSEARCH_INDEX_DIR=str(index_dir))
    return subprocess.run([sys.executable, "-m", "indexer.cli", "figures", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)


def test_api_pages_every_row_and_names_each_rows_sentence_and_link(client, searcher) -> None:
    full = searcher.figures(FiguresRequest(QUERY))
    assert full.total > 10
    first = get_json(client, f"/api/figures?q={quote(QUERY)}&size=10")
    second = get_json(client, f"/api/figures?q={quote(QUERY)}&size=10&page=2")
    assert first["total"] == second["total"] == full.total and first["paragraphs"] == full.paragraphs
    assert [r["chunk_id"] for r in first["rows"] + second["rows"]] == [r.chunk_id for r in full.rows[:20]]
    assert {g["label"] for g in first["groups"]} == {g.label for g in full.groups}
    row = first["rows"][0]
    assert row["sentence"] in row["citation"] and row["place"] in row["citation"]
    page = client.get(row["link"])
    assert page.status_code == 200 and f'id="c-{row["chunk_id"]}"' in page.get_data(as_text=True)


def test_api_filters_like_search(client) -> None:
    everything = get_json(client, f"/api/figures?q={quote(QUERY)}&size=100")
    place = Counter(r["place"] for r in everything["rows"]).most_common(1)[0][0]
    only = get_json(client, f"/api/figures?q={quote(QUERY)}&size=100&place={quote(place)}")
    assert only["rows"] and {r["place"] for r in only["rows"]} == {place}
    assert only["filters"] == {"place": [place]}
    assert only["total"] == sum(1 for r in everything["rows"] if r["place"] == place)


@pytest.mark.parametrize("query, param", [
    ("q=", "q"),
    (f"q={'法' * 501}", "q"),
    ("q=%E5%AE%A3%E4%BC%A0%00", "q"),
    ("q=x&sort=price", "sort"),
    ("q=x&sort=%3Cscript%3E", "sort"),
    ("q=x&desc=maybe", "desc"),
    ("q=x&format=xlsx%27", "format"),
    ("q=x&year=20x3", "year"),
    ("q=x&year=99999999999999999999999", "year"),
    ("q=x&kind=nope", "kind"),
    (f"q=x&place={'a' * 101}", "place"),
    ("q=x&" + "&".join(f"place=p{i}" for i in range(51)), "place"),
    ("q=x&page=0", "page"),
    ("q=x&page=51", "page"),
    ("q=x&size=101", "size"),
    ("q=x&size=1e9", "size"),
    ("q=((((((((((((((((((((((((((((((((((((((((x", None),
])
def test_hostile_input_is_a_4xx_naming_the_parameter(client, query, param) -> None:
    response = client.get(f"/api/figures?{query}")
    if param is None:  # a malformed query is read as well as it can be (as on /api/search), never a 500
        assert response.status_code in (200, 400)
        return
    assert response.status_code == 400, (query, response.status_code, response.data[:200])
    assert response.get_json()["error"]["param"] == param


def test_csv_holds_every_row_with_its_query_and_filters(client, searcher) -> None:
    full = searcher.figures(FiguresRequest(QUERY, sort="value", descending=True))
    rows = csv_rows(client, f"/api/figures?q={quote(QUERY)}&format=csv&sort=value&desc=1")
    assert len(rows) == full.total > 10  # every row, not one page
    assert [float(r["数值"]) for r in rows] == [f.value for f in full.rows]
    assert {r["检索词"] for r in rows} == {QUERY} and {r["筛选条件"] for r in rows} == {"（无）"}
    assert {r["排序"] for r in rows} == {"数值（降序）"}
    place = full.rows[0].place
    filtered = csv_rows(client, f"/api/figures?q={quote(QUERY)}&format=csv&place={quote(place)}&year=2023")
    assert {r["筛选条件"] for r in filtered} == {f"地点：{place}；年份：2023"}
    none = csv_rows(client, f"/api/figures?q={quote('没有这个词组合')}&format=csv")
    assert len(none) == 1 and none[0]["检索词"] == "没有这个词组合" and "没有数字" in none[0]["句子"]


def test_numbers_agree_across_api_csv_xlsx_page_and_cli(client, sample_index) -> None:
    api = get_json(client, f"/api/figures?q={quote(QUERY)}&size=100&sort=value")
    assert api["total"] <= 100, "the test reads the whole table in one page"
    table = csv_rows(client, f"/api/figures?q={quote(QUERY)}&format=csv&sort=value")
    done = cli([QUERY, "--sort", "value", "--json"], sample_index.index_dir)
    assert done.returncode == 0, done.stderr
    from_cli = json.loads(done.stdout)
    text = cli([QUERY, "--sort", "value"], sample_index.index_dir)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    header = lines.index("\t".join(("地点", "年份", "指标组", "指标", "数值", "单位", "限定", "原文", "句子")))
    printed = [line.split("\t") for line in lines[header + 1:]]

    def key(place, year, measure, value, unit, qualifier, written):
        return (place, str(year), measure, float(value), unit, qualifier, written)

    want = [key(r["place"], r["year"], r["measure"], r["value"], r["unit"], r["qualifier"], r["as_written"])
            for r in api["rows"]]
    assert want and len(want) == api["total"]
    assert [key(r["place"], r["year"], r["measure"], r["value"], r["unit"], r["qualifier"], r["as_written"])
            for r in from_cli["rows"]] == want
    assert [key(r["地点"], r["年份"], r["指标"], r["数值"], r["单位"], r["限定"], r["原文数字"]) for r in table] == want
    assert [key(p[0], p[1], p[3], p[4], p[5], p[6], p[7]) for p in printed] == want
    assert [p[4] for p in printed] == [r["数值"] for r in table]  # written the same way, not only equal
    assert [r["指标组"] for r in table] == [p[2] for p in printed] == [r["group"] for r in api["rows"]]
    # the Excel export and the 数据 page (every page of it) say the same
    from tests.web.test_figures_view import table_rows, page_html, xlsx_book, xlsx_table

    _, sheet = xlsx_table(xlsx_book(client, f"/api/figures?q={quote(QUERY)}&format=xlsx&sort=value"))
    assert [key(r["地点"], r["年份"], r["指标"], r["数值"], r["单位"] or "", r["限定"] or "", r["原文数字"])
            for r in sheet] == want
    shown = []
    for page in range(1, api["total"] // 10 + 2):
        shown += table_rows(page_html(client, f"/figures?q={quote(QUERY)}&sort=value&size=10&page={page}"))
    assert [(r["place"], r["year"], r["measure"], r["value"], r["unit"], r["qualifier"], r["as_written"])
            for r in shown] == [(p[0], f"{p[1]}年", p[3], p[4], p[5], p[6], p[7]) for p in printed]


def test_cli_filters_and_refuses_a_bad_request(sample_index) -> None:
    done = cli([QUERY, "--place", "大铭乡", "--json"], sample_index.index_dir)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["rows"] and {r["place"] for r in out["rows"]} == {"大铭乡"} and out["filters"] == {"place": ["大铭乡"]}
    bad = cli(["   "], sample_index.index_dir)
    assert bad.returncode == 2 and "(q)" in bad.stderr
    bad = cli([QUERY, "--year", "20x3"], sample_index.index_dir)
    assert bad.returncode == 2 and "year" in bad.stderr


# -- fuzzing, with the strategies of tests/web/test_web_fuzz.py: never a 5xx nor a logged traceback ----------------
from hypothesis import given, strategies as st  # noqa: E402

from tests.web.test_web_fuzz import FUZZ, check, encode, numbers, params, queries, raw_bytes  # noqa: E402

FIGURE_PARAMS = ["q", "place", "level", "region", "year", "kind", "sort", "desc", "format", "page", "size"]


@FUZZ
@given(q=queries, extra=params, raw=raw_bytes, name=st.sampled_from(FIGURE_PARAMS), number=numbers,
       int_param=st.sampled_from(["page", "size", "year"]), fmt=st.sampled_from(["json", "csv", "xlsx"]))
def test_api_figures_takes_any_parameters(client, caplog, q, extra, raw, name, number, int_param, fmt) -> None:
    caplog.set_level("ERROR")
    check(client, "/api/figures?" + encode([("q", q), ("format", fmt), *extra]))
    check(client, f"/api/figures?q=x&{name}={raw}")
    check(client, f"/api/figures?q=x&{int_param}={quote(number, safe='')}")
    check(client, f"/api/figures?q={quote(QUERY)}&sort={raw}&desc={raw}&format={raw}")
    check(client, "/figures?" + encode([("q", q), *extra]))  # the 数据 page takes the same parameters
    check(client, f"/figures?q=x&{name}={raw}")
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.records[:3]
