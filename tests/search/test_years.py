"""A place's years side by side (issue 30 point 3): what `Searcher.years` / `reportsearch years` answer over
corpora/years (the alignment's accuracy: tests/index/test_years_alignment.py)."""
from __future__ import annotations

import json

import pytest

from indexer.cli.commands import main
from indexer.search.align import CONTINUED, DROPPED, NEW
from indexer.search.types import QueryError
from indexer.search.years import YearsRequest


def test_continued_paragraphs_show_both_texts_the_changed_words_and_the_figures(years_searcher):
    r = years_searcher.years(YearsRequest("西丽街道", (2024, 2025)))
    assert r.years == [2024, 2025]
    (c,) = r.comparisons
    assert (c.earlier.year, c.later.year) == (2024, 2025)
    assert c.counts[CONTINUED] >= 4 and sum(c.counts.values()) == len(c.rows)
    study = next(row for row in c.rows if row.later and "第一议题" in row.later.text)
    assert study.label == CONTINUED and "第一议题" in study.earlier.text
    for side in (study.earlier, study.later):  # the segments are the text, some of it marked as changed
        assert "".join(t for t, _ in side.segments) == side.text
        assert any(changed for _, changed in side.segments) and any(not changed for _, changed in side.segments)
    figures = {(f.earlier + f.unit, f.later + f.unit) for f in c.figures}
    assert ("45次", "46次") in figures  # 理论中心组学习 45次 → 46次 (tests/data/alignment/figure_pairs.tsv)
    assert ("44次", "44次") in figures
    labels = [row.label for row in c.rows]
    assert NEW in labels and DROPPED in labels  # 西丽 2025 ¶6 "(一)多维" is new; 2024 ¶6 is not continued


def test_a_query_scopes_the_rows_after_aligning_the_whole_reports(years_searcher):
    every = years_searcher.years(YearsRequest("新市街道", (2023, 2024)))
    scoped = years_searcher.years(YearsRequest("新市街道", (2023, 2024), "法律顾问"))
    rows = scoped.comparisons[0].rows
    assert rows and len(rows) < len(every.comparisons[0].rows)
    assert all("法律顾问" in ((r.earlier.text if r.earlier else "") + (r.later.text if r.later else "")) for r in rows)
    full = {(r.earlier and r.earlier.paragraph_index, r.later and r.later.paragraph_index, r.label)
            for r in every.comparisons[0].rows}
    assert {(r.earlier and r.earlier.paragraph_index, r.later and r.later.paragraph_index, r.label)
            for r in rows} <= full  # the same pairs as without the query


def test_three_years_give_two_comparisons_and_bad_requests_name_their_parameter(years_searcher):
    r = years_searcher.years(YearsRequest("鹤龙街道", (2024, 2022, 2023)))
    assert r.years == [2022, 2023, 2024] and len(r.comparisons) == 2
    assert [(c.earlier.year, c.later.year) for c in r.comparisons] == [(2022, 2023), (2023, 2024)]
    default = years_searcher.years(YearsRequest("鹤龙街道"))
    assert default.years == [2023, 2024]  # the place's last two years
    with pytest.raises(QueryError) as exc:
        years_searcher.years(YearsRequest("鹤龙街道", (2019, 2024)))
    assert exc.value.param == "from" and "2019" in exc.value.message
    with pytest.raises(QueryError) as exc:
        years_searcher.years(YearsRequest("鹤龙街道", (2024,)))
    assert exc.value.param == "years"
    with pytest.raises(KeyError):
        years_searcher.years(YearsRequest("没有这个镇", (2023, 2024)))
    assert years_searcher.place("白云区").years == [2021, 2022, 2023, 2024]


def test_cli_json_gives_the_facade_answer_and_the_text_marks_changes(years_searcher, years_index, capsys):
    args = ["years", "西丽街道", "--from", "2024", "--to", "2025", "--index-dir", str(years_index.index_dir)]
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    facade = years_searcher.years(YearsRequest("西丽街道", (2024, 2025))).to_dict()
    for key in ("place", "years", "threshold"):
        assert data[key] == facade[key]
    assert data["comparisons"][0]["counts"] == facade["comparisons"][0]["counts"]
    assert data["comparisons"][0]["figures"] == facade["comparisons"][0]["figures"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "[延续]" in text and "【" in text and "理论中心组学习：45次 → 46次" in text
    assert main(["years", "没有这个镇", "--index-dir", str(years_index.index_dir)]) == 2
    assert "没有这个镇" in capsys.readouterr().err
