"""Issue 24 points 5-7, as a user meets them: three truthful match kinds (literal / official term / near
meaning) in the JSON API, the result and document pages, the comparison and its exports and the CLI; no
near-meaning answer to a query the reports know nothing about; 相同表述 only for the same wording; hostile
characters refused, never a 500.
Over the sample reports plus real reports of ../shared/eval-townships (tests/mixedcorpus.py)."""
from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import quote

import pytest
from docx import Document

from indexer.core.config import Config
from indexer.search.searcher import Searcher
from indexer.search.types import SearchRequest
from tests.mixedcorpus import build_mixed

EVERYDAY, OFFICIAL = "上访", "信访"  # indexer/lexicon/colloquial.txt: 上访 => 信访 …


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, encoder, embedding_cache) -> tuple[Config, Searcher]:
    config, searcher = build_mixed(tmp_path_factory, encoder, embedding_cache)
    yield config, searcher
    searcher.close()


@pytest.fixture(scope="module")
def web(mixed):
    from search_web import create_app

    return create_app(*mixed).test_client()


def paragraphs_with(config: Config, word: str) -> set[str]:
    """The truth: every paragraph line of the corpus holding `word`."""
    return {line.strip() for p in config.corpus_dir.glob("*.txt")
            for line in p.read_text(encoding="utf-8").splitlines() if word in line}


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def api(web, url: str, status: int = 200) -> dict:
    response = web.get(url)
    assert response.status_code == status, (url, response.status_code, response.data[:300])
    return response.get_json()


# -- point 5: match kinds ------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_an_everyday_word_finds_the_official_term_and_says_so(web, mixed, mode):
    config, _ = mixed
    data = api(web, f"/api/search?q={EVERYDAY}&mode={mode}&size=100")
    assert not paragraphs_with(config, EVERYDAY)  # no report says 上访: nothing can be literal
    assert data["literal_total"] == 0
    holders = [h for h in data["hits"] if OFFICIAL in h["text"]]
    # every paragraph with 信访 is found (its chunk holding the term: cleaning drops spaces, a long paragraph
    # is cut into chunks), as an official-term match naming the term, with it marked
    found = [squeeze(h["text"]) for h in holders]
    for line in paragraphs_with(config, OFFICIAL):
        assert any(chunk in squeeze(line) for chunk in found), line[:40]
    for hit in holders:
        assert hit["match"] == "official", hit["text"][:40]
        assert any(t.startswith(OFFICIAL) for t in hit["official_terms"])
        assert f'<mark class="official">{OFFICIAL}' in hit["highlighted"]
    assert data["official_total"] == len(holders)
    assert all(h["match"] == "semantic" and not h["official_terms"] for h in data["hits"] if OFFICIAL not in h["text"])
    assert "意思相近的段落" not in (data["message"] or "") or data["total"] > len(holders)
    assert OFFICIAL in data["message"]


def test_the_results_page_labels_official_matches_and_explains_their_colour(web):
    html = web.get(f"/?q={EVERYDAY}&mode=keyword").get_data(as_text=True)
    cards = html.split('<article class="hit"')[1:]
    assert cards
    for card in cards:
        assert "按公文用语匹配：信访" in card and "意思相近" not in card
    legend = re.search(r'<span class="legend">(.*?)</span>\s', html).group(1)
    assert "公文用语" in legend and "按意思" not in legend  # keyword mode: nothing is matched by meaning
    assert "按公文用语匹配 <b>" in html


def test_keyword_mode_never_speaks_of_meaning(web):
    for q in (EVERYDAY, "信访积案化解做法", "法律顾问"):
        html = web.get(f"/?q={quote(q)}&mode=keyword").get_data(as_text=True)
        assert "按意思匹配" not in html and 'class="sem"' not in html, q


def test_the_document_view_does_not_call_an_official_match_a_literal_hit(web):
    data = api(web, f"/api/search?q={EVERYDAY}&mode=keyword")
    hit = data["hits"][0]
    html = web.get(f"/doc/{hit['doc_id']}?q={EVERYDAY}").get_data(as_text=True)
    panel = html.split('class="panel hits-panel"', 1)[1].split("</section>", 1)[0]
    assert "按公文用语匹配的段落" in panel and "检索命中" not in panel
    assert "以下为意思相近的段落" not in panel
    assert '<mark class="official">信访' in html


def test_the_document_view_says_hits_only_for_literal_matches(web):
    data = api(web, f"/api/search?q={quote('法律顾问')}&mode=keyword")
    html = web.get(f"/doc/{data['hits'][0]['doc_id']}?q={quote('法律顾问')}").get_data(as_text=True)
    panel = html.split('class="panel hits-panel"', 1)[1].split("</section>", 1)[0]
    assert "本文中的检索命中" in panel and "没有字面匹配" not in panel


def test_the_cli_names_the_match_kind(mixed, monkeypatch, capsys):
    from indexer.cli import commands as cli

    config, _ = mixed
    monkeypatch.setenv("REPORTSEARCH_INDEX_DIR", str(config.index_dir))
    monkeypatch.setenv("REPORTSEARCH_EMBEDDING_CACHE", str(config.embedding.cache))
    assert cli.main(["search", EVERYDAY, "--mode", "keyword"]) == 0
    out = capsys.readouterr().out
    assert "按公文用语匹配" in out and "〔按公文用语匹配：信访" in out and "意思相近" not in out
    assert cli.main(["search", EVERYDAY, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {h["match"] for h in data["hits"] if OFFICIAL in h["text"]} == {"official"}


def test_shared_sentence_joins_only_the_same_wording(mixed):
    _, searcher = mixed
    r = searcher.search(SearchRequest('"小事不出村"', mode="keyword", size=50))
    by_place = {h.place: h for h in r.hits}
    assert {"李桥乡", "大铭乡", "张茅乡", "观音堂镇"} <= set(by_place)  # every paragraph is still a result
    others = {p: {s.place for s in (h.shared_sentence.reports if h.shared_sentence else [])} for p, h in by_place.items()}
    assert others["大铭乡"] == {"张茅乡"} and others["张茅乡"] == {"大铭乡"}  # 小事不出村，大事不出乡，矛盾不上交
    assert not others["李桥乡"]  # 微事不出格、小事不出村…: another wording
    assert not others["观音堂镇"]  # 小事不出村、大事不出镇、矛盾不上交、就地解决好: another wording


# -- point 6: the floor holds for short fragments ------------------------------------------------------
@pytest.mark.parametrize("q", ["量子计算机", "asdfgh"])
@pytest.mark.parametrize("mode", ["hybrid", "semantic"])
def test_an_off_topic_query_gets_no_near_meaning_answers(web, q, mode):
    data = api(web, f"/api/search?q={quote(q)}&mode={mode}")
    assert data["total"] == 0 and data["hits"] == [], [h["text"][:20] for h in data["hits"]]
    html = web.get(f"/?q={quote(q)}&mode={mode}").get_data(as_text=True)
    assert "各位代表" not in html and "没有找到" in html


@pytest.mark.parametrize("q", ["防养老诈骗宣传", "怎么调解邻里纠纷", "老人上当受骗"])
def test_real_queries_keep_their_near_meaning_answers(web, q):
    data = api(web, f"/api/search?q={quote(q)}&mode=semantic&size=50")
    near = [h for h in data["hits"] if h["match"] == "semantic"]
    assert len(near) >= 5
    assert all(len(re.sub(r"\W", "", h["text"])) >= 20 or h["semantic_score"] >= 0.8 for h in near)


# -- point 7: hostile characters, the match column, the CSV names the query -----------------------------
HOSTILE = ["%00", "%01", "%08", "%EF%BF%BE"]
ENDPOINTS = ["/", "/compare", "/compare/export.csv", "/compare/export.docx", "/api/search"]


@pytest.mark.parametrize("char", HOSTILE)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_control_character_in_the_query_or_a_filter_is_a_400_naming_it(web, endpoint, char):
    for args, param in ((f"q=信访{char}", "q"), (f"q=信访&place=大铭乡{char}", "place")):
        response = web.get(f"{endpoint}?{args}")
        assert response.status_code == 400, (endpoint, args, response.status_code)
        body = response.get_data(as_text=True)
        if endpoint.startswith("/api/"):
            assert response.get_json()["error"]["param"] == param
        assert f"参数 {param}" in body and "U+" in body


def test_the_document_view_with_a_hostile_query_still_opens(web):
    hit = api(web, "/api/search?q=信访")["hits"][0]
    response = web.get(f"/doc/{hit['doc_id']}?q=信访%00")
    assert response.status_code == 200 and "参数 q" in response.get_data(as_text=True)


def test_the_comparison_and_its_exports_carry_a_truthful_match_column(web):
    args = f"q={quote('法律顾问')}&place={quote('大铭乡')}&place={quote('张茅乡')}&place={quote('观音堂镇')}"
    html = web.get(f"/compare?{args}").get_data(as_text=True)
    assert "<th scope=\"col\">匹配方式</th>" in html
    data = api(web, f"/api/search?{args}&group=1&size=100")
    expected = {h["place"]: ("字面匹配" if "法律顾问" in h["text"] else "意思相近") for h in data["hits"]}
    assert expected

    rows = list(csv.reader(io.StringIO(web.get(f"/compare/export.csv?{args}").data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[0] == "地点" and {"匹配方式", "检索词", "检索模式", "筛选条件"} <= set(header)
    records = [dict(zip(header, row)) for row in body]
    assert {r["地点"]: r["匹配方式"] for r in records} == expected
    assert all(r["检索词"] == "法律顾问" and r["检索模式"] == "混合" for r in records)
    assert all("大铭乡" in r["筛选条件"] and "观音堂镇" in r["筛选条件"] for r in records)

    doc = Document(io.BytesIO(web.get(f"/compare/export.docx?{args}").data))
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells][3] == "匹配方式"
    assert {r.cells[0].text: r.cells[3].text for r in table.rows[1:]} == expected


def test_an_official_match_is_named_in_both_exports(web):
    rows = list(csv.DictReader(io.StringIO(web.get(f"/compare/export.csv?q={EVERYDAY}&mode=keyword").data.decode("utf-8-sig"))))
    assert rows and all(r["匹配方式"].startswith("按公文用语匹配：信访") for r in rows)
    doc = Document(io.BytesIO(web.get(f"/compare/export.docx?q={EVERYDAY}&mode=keyword").data))
    assert all(r.cells[3].text.startswith("按公文用语匹配：信访") for r in doc.tables[0].rows[1:])


def test_an_export_without_hits_still_names_the_query(web):
    rows = list(csv.DictReader(io.StringIO(web.get(f"/compare/export.csv?q={quote('量子计算机')}").data.decode("utf-8-sig"))))
    assert len(rows) == 1 and rows[0]["检索词"] == "量子计算机" and "没有" in rows[0]["段落"]
