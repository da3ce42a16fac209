"""Highlighting: escaped HTML, <mark> spans that agree with what the index matches."""
from __future__ import annotations

from pathlib import Path

from indexer.search.highlight import highlight, mark_spans
from indexer.search.query import parse_query

CORPUS = Path(__file__).resolve().parents[2] / "corpora" / "fazhi-2023"


def guanyintang_line(needle: str) -> str:
    text = next(CORPUS.glob("002_*.txt")).read_text(encoding="utf-8")
    return next(line for line in text.splitlines() if needle in line)


def test_phrase_is_one_mark() -> None:
    line = guanyintang_line("化解信访积案")
    html = highlight(line, parse_query('"化解信访积案"'))
    assert html.count("<mark>") == 1 and "<mark>化解信访积案</mark>" in html


def test_phrase_across_punctuation_is_one_mark_like_in_the_index() -> None:
    html = highlight("实现“小事不出村、大事不出镇”", parse_query('"不出村大事"'))
    assert "<mark>不出村、大事</mark>" in html


def test_words_are_marked_where_the_index_matches_them() -> None:
    line = guanyintang_line("7起历时多年的信访积案")
    html = highlight(line, parse_query("信访"))
    assert "<mark>信访</mark>积案" in html  # a sub-word inside a longer word, as the index finds it
    assert "信<mark>" not in html


def test_adjacent_words_merge_into_one_mark() -> None:
    html = highlight("着力化解信访积案。", parse_query("信访积案 化解"))
    assert html == "着力<mark>化解信访积案</mark>。"


def test_excluded_words_and_function_words_are_not_marked() -> None:
    html = highlight("法律顾问的意见和律师的意见", parse_query("法律顾问 的 -律师"))
    assert html == "<mark>法律顾问</mark>的意见和律师的意见"


def test_full_width_query_marks_half_width_text() -> None:
    assert highlight("上传PDF文件", parse_query("ｐｄｆ")) == "上传<mark>PDF</mark>文件"


def test_text_is_escaped_and_only_our_tags_appear() -> None:
    text = '<script>alert("信访")</script> & 信访积案'
    html = highlight(text, parse_query("信访"))
    assert "<script>" not in html
    assert html == '&lt;script&gt;alert("<mark>信访</mark>")&lt;/script&gt; &amp; <mark>信访</mark>积案'


def test_max_marks_limits_the_number_of_marks() -> None:
    text = "信访，" * 10
    assert highlight(text, parse_query("信访"), max_marks=3).count("<mark>") == 3


def test_mark_spans_merges_clamps_and_escapes() -> None:
    text = "a<b>c 第一句。第二句。"
    html = mark_spans(text, [(6, 10), (8, 11), (50, 60), (3, 2)], css_class='best"x')
    assert html == 'a&lt;b&gt;c <mark class="best&quot;x">第一句。第</mark>二句。'
    assert mark_spans("x<y", []) == "x&lt;y"
