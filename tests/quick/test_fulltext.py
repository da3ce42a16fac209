"""The full-text index and query parsing, on the sample corpus split into lines. Every check that touches an
index runs on each backend (the `backend` fixture): ranking parity between Whoosh and tantivy is a contract."""
from __future__ import annotations

import os
import random
import re
import threading
from pathlib import Path

import pytest

from indexer.storage.fulltext.base import AnalyzerConfig, FullTextIndex, FullTextRecord
from indexer.storage.fulltext.factory import BACKENDS, backend_class
from indexer.storage.fulltext.whoosh_index import WhooshIndex
from indexer.core.filters import Filters
from indexer.search.highlight import highlight
from indexer.search.query import parse_query
from indexer.search.types import QueryError

CORPUS = Path(__file__).resolve().parents[2] / "corpora" / "fazhi-2023"
PLACES = {"000": "张茅乡", "001": "前营乡", "002": "观音堂镇", "003": "大铭乡", "004": "硖石乡"}
XINQIAO = "7起历时多年的信访积案有6起得到化解"


def load_lines() -> dict[int, tuple[str, str]]:
    """chunk_id -> (file number, line text) for every non-empty line of the corpus."""
    lines = {}
    for f in sorted(CORPUS.glob("*.txt")):
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines()):
            if line.strip():
                lines[int(f.name[:3]) * 1000 + i + 1] = (f.name[:3], line)
    return lines


LINES = load_lines()


def record(cid: int, fileno: str, text: str) -> FullTextRecord:
    return FullTextRecord(
        chunk_id=cid, doc_id=fileno, text=text, title=f"{PLACES[fileno]}2023年法治政府建设报告",
        heading_path="", place=PLACES[fileno], level=PLACES[fileno][-1], region="", year=2023,
        kind="存在问题" if "存在" in text else "做法与成效",
    )


def build(directory: Path, config: AnalyzerConfig = AnalyzerConfig(), backend: str = "whoosh") -> FullTextIndex:
    ix = backend_class(backend).create(directory, config)
    ix.add(record(cid, f, t) for cid, (f, t) in LINES.items())
    ix.commit()
    return ix


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    """Each full-text backend by name ("whoosh", "tantivy"): the tests using it are listed once per backend."""
    return request.param


@pytest.fixture(scope="module")
def index(backend: str, tmp_path_factory) -> FullTextIndex:
    ix = build(tmp_path_factory.mktemp(f"ft-{backend}") / "fulltext", backend=backend)
    yield ix
    ix.close()


def ids(ix: FullTextIndex, q: str, filters: Filters = Filters(), limit: int = 1000) -> list[int]:
    return [cid for cid, _ in ix.search(parse_query(q), limit, filters)]


def containing(*needles: str) -> set[int]:
    return {cid for cid, (_, t) in LINES.items() if all(n in t for n in needles)}


def squeeze(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


# ------------------------------------------------------------------ phrases and ranking


def test_phrase_finds_guanyintang_and_is_highlighted_as_one_span(index: FullTextIndex) -> None:
    hits = ids(index, '"化解信访积案"')
    assert set(hits) == containing("化解信访积案")
    assert LINES[hits[0]][0] == "002"
    html = highlight(LINES[hits[0]][1], parse_query('"化解信访积案"'))
    assert "<mark>化解信访积案</mark>" in html


def test_phrase_returns_exactly_the_lines_that_contain_it(index: FullTextIndex) -> None:
    for q in ["“小事不出村”", '"小事不出村"', "「小事不出村」"]:
        hits = ids(index, q)
        assert set(hits) == containing("小事不出村"), q
        assert {LINES[c][0] for c in hits} == {"000", "002", "003"}


def test_phrases_match_substrings_regardless_of_word_boundaries(index: FullTextIndex) -> None:
    # Word-level phrase matching got 82 of these 279 right; the character grams get all of them.
    rng = random.Random(7)
    texts = [t for _, t in LINES.values() if len(squeeze(t)) >= 10]
    for _ in range(80):
        s = squeeze(rng.choice(texts))
        n = rng.randint(2, 8)
        start = rng.randrange(len(s) - n)
        phrase = s[start : start + n]
        want = {cid for cid, (_, t) in LINES.items() if phrase in squeeze(t)}
        assert set(ids(index, f'"{phrase}"')) == want, phrase


def test_natural_query_ranks_the_xinqiao_paragraph_first(index: FullTextIndex) -> None:
    hits = ids(index, "信访积案化解做法", limit=100)
    target = containing(XINQIAO).pop()
    assert target in hits[:3]
    # ranked OR: a line with only some of the words is still found, below those with more
    assert containing("化解") <= set(hits)
    assert hits.index(target) < min(hits.index(c) for c in containing("化解") - containing("信访积案"))


def test_subwords_let_a_short_word_find_longer_compounds(tmp_path: Path, backend: str, index: FullTextIndex) -> None:
    # 诈骗 only occurs inside 电信诈骗 / 养老诈骗 in the corpus.
    assert set(ids(index, "诈骗")) == containing("诈骗")
    plain = build(tmp_path / "plain", AnalyzerConfig(subwords=False), backend)
    try:
        assert set(ids(plain, "诈骗")) < containing("诈骗")
        assert set(ids(plain, '"诈骗"')) == containing("诈骗")  # phrases do not depend on it
    finally:
        plain.close()


def test_a_split_place_name_matches_as_a_name_never_by_its_lone_character(tmp_path: Path, backend: str,
                                                                          index: FullTextIndex) -> None:
    # jieba cuts 城关乡 into 城关 + 乡 and 张茅 into 张 + 茅; 乡 alone is in half the sample's lines.
    assert ids(index, "城关乡") == []  # no line mentions 城关: nothing, rather than every line with 乡
    assert set(ids(index, "张茅")) == containing("张茅")
    assert set(ids(index, "张茅 法律顾问")) == containing("张茅") | containing("法律顾问")
    ix = backend_class(backend).create(tmp_path / "places")
    texts = {1: "城关镇开展法治宣传进村入户活动。", 2: "城关乡开展法治宣传进村入户活动。", 3: "全乡开展法治宣传。",
             4: "乡司法所开展法治宣传。"}
    ix.add(FullTextRecord(cid, "d", t, "", "") for cid, t in texts.items())
    ix.commit()
    try:
        assert ids(ix, "城关乡") == [2, 1]  # the whole name first, its sub-word next, never 乡 alone
        assert ids(ix, "城关乡 法治宣传")[:2] == [2, 1]
        assert ids(ix, "+城关乡 法治宣传") == [2]
        assert set(ids(ix, "乡")) >= {4}  # a lone character typed alone is still a term
    finally:
        ix.close()


def test_a_lone_character_is_glued_to_its_neighbour_word_not_across_punctuation() -> None:
    # 票 belongs to 当日票; a string running on over the comma (当日票，但是) is in no text and boosts nothing.
    assert parse_query("买了地铁当日票，但是当日没有使用").root.glued == ("当日票",)
    assert parse_query("夫妻一方所欠债务，谁偿还？").root.glued == ("谁偿还",)


# ------------------------------------------------------------------ operators


def test_and_or_not_and_parentheses(index: FullTextIndex) -> None:
    assert set(ids(index, "信访 AND 矛盾纠纷")) == containing("信访", "矛盾纠纷")
    assert set(ids(index, "枫桥经验 OR 以案释法")) == containing("枫桥经验") | containing("以案释法")
    assert set(ids(index, "法律顾问 NOT 律师")) == containing("法律顾问") - containing("律师")
    assert set(ids(index, "法律顾问 -律师")) == containing("法律顾问") - containing("律师")
    assert set(ids(index, "法律顾问 非 律师")) == containing("法律顾问") - containing("律师")
    expected = (containing("信访") | containing("枫桥经验")) & containing("矛盾纠纷")
    assert set(ids(index, "(信访 OR 枫桥经验) AND 矛盾纠纷")) == expected
    assert set(ids(index, "（信访 或 枫桥经验） 与 矛盾纠纷")) == expected
    assert set(ids(index, '"小事不出村" -"大事不出乡"')) == containing("小事不出村") - containing("大事不出乡")


def test_phrase_with_plain_word_requires_the_phrase(index: FullTextIndex) -> None:
    hits = ids(index, '"小事不出村" 信访')
    assert set(hits) == containing("小事不出村")
    assert hits[0] in containing("小事不出村", "信访")


def test_quotes_in_a_question_rank_the_term_first_without_requiring_it(index: FullTextIndex) -> None:
    # Chinese prose quotes a term (怎么落实“小事不出村”): in a question that is emphasis, not a filter.
    question = "怎么落实“小事不出村”的信访工作？"
    parsed = parse_query(question)
    assert parsed.phrases == () and parsed.warning and "引号" in parsed.warning
    hits = ids(index, question)
    assert hits[0] in containing("小事不出村")
    assert set(hits) - containing("小事不出村"), "a question's quotes must not drop the other passages"
    # A + before the quote, or a statement rather than a question, keeps the quotes strict.
    assert set(ids(index, "怎么落实 +“小事不出村”的信访工作？")) == containing("小事不出村")
    assert set(ids(index, "落实“小事不出村”的信访工作")) == containing("小事不出村")
    assert parse_query('"小事不出村" 信访').warning is None


def test_only_exclusions_lists_the_other_chunks(index: FullTextIndex) -> None:
    parsed = parse_query("-信访")
    assert parsed.warning
    assert set(ids(index, "-信访")) == set(LINES) - containing("信访")


@pytest.mark.parametrize(
    "q, needle",
    [('"小事不出村', "引号"), ("小事不出村”", "引号"), ("(信访 OR 枫桥经验", "括号"), ("信访) 枫桥经验", "括号"),
     ("信访 AND", "AND"), ("AND 信访", "AND"), ("信访 OR", "OR"), ("信访 NOT", "NOT"), ("((信访", "括号")],
)
def test_malformed_queries_are_repaired_with_a_warning(index: FullTextIndex, q: str, needle: str) -> None:
    parsed = parse_query(q)
    assert parsed.warning and needle in parsed.warning
    assert ids(index, q)  # still answers


def test_empty_query_is_a_query_error() -> None:
    for q in ["", "   ", "\u3000"]:
        with pytest.raises(QueryError) as err:
            parse_query(q)
        assert err.value.param == "q" and err.value.message == "请输入检索词"


@pytest.mark.parametrize("q", ['"', "“”", "AND", "OR NOT", "()", "+", "？", '"" （）', "-"])
def test_query_with_nothing_to_look_for_is_a_query_error(q: str) -> None:
    # Not "every paragraph, as if it matched": the user is told the query has no words.
    with pytest.raises(QueryError) as err:
        parse_query(q)
    assert err.value.param == "q" and "没有可检索的词语" in err.value.message


def test_parsed_query_lists_terms_phrases_and_semantic_text() -> None:
    parsed = parse_query('怎么防止老年人被骗钱 "以案释法" -诈骗 AND (宣传 OR 教育)')
    assert parsed.phrases == ("以案释法",)
    assert "老年人" in parsed.terms and "怎么" not in parsed.terms and "诈骗" not in parsed.terms
    assert parsed.semantic_text == "怎么防止老年人被骗钱 以案释法 宣传 教育"
    assert parsed.warning is None


# ------------------------------------------------------------------ filters, updates, copies


def test_filters_restrict_results(index: FullTextIndex) -> None:
    everywhere = set(ids(index, "法律顾问"))
    only = set(ids(index, "法律顾问", Filters(place=("观音堂镇",))))
    assert only and only < everywhere and {LINES[c][0] for c in only} == {"002"}
    two = set(ids(index, "法律顾问", Filters(place=("观音堂镇", "大铭乡"))))
    assert {LINES[c][0] for c in two} == {"002", "003"}
    problems = set(ids(index, "法治", Filters(kind=("存在问题",))))
    assert problems and all("存在" in LINES[c][1] for c in problems)
    assert ids(index, "法律顾问", Filters(year=(2022,))) == []
    assert set(ids(index, "法律顾问", Filters(year=(2023,), level=("镇",)))) == only


def test_delete_and_replace(tmp_path: Path, backend: str) -> None:
    ix = build(tmp_path / "ft", backend=backend)
    try:
        target = containing(XINQIAO).pop()
        n = ix.count()
        ix.delete([target, 999_999_999])
        ix.commit()
        assert ix.count() == n - 1
        assert target not in ids(ix, '"化解信访积案"')
        ix.add([record(target, "002", "调解员上门化解邻里纠纷")])
        ix.commit()
        assert ix.count() == n
        assert ids(ix, '"邻里纠纷"') == [target]
        ix.add([record(target, "002", "完全不同的新文本")])
        ix.commit()
        assert ix.count() == n and ids(ix, '"邻里纠纷"') == []
    finally:
        ix.close()
    reopened = backend_class(backend).open(tmp_path / "ft")
    try:
        assert ids(reopened, '"完全不同的新文本"') == [target]
        assert reopened.analyzer_config == AnalyzerConfig()
    finally:
        reopened.close()


def test_common_word_returns_the_best_matches_first(index: FullTextIndex) -> None:
    # 工作 is in a large share of all lines: the top hits must be lines that really contain it, and
    # a small limit must give the head of the full ranking (no pruning changes the top results).
    full = ids(index, "工作", limit=10_000)
    assert set(full) == containing("工作")
    assert ids(index, "工作", limit=10) == full[:10]


def test_concurrent_searches_agree_with_sequential_ones(index: FullTextIndex) -> None:
    queries = ["信访积案化解做法", '"小事不出村"', "法律顾问 NOT 律师", "工作", "法治 AND 政府"]
    expected = {q: index.search(parse_query(q), 20) for q in queries}
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(20):
                for q in queries:
                    assert index.search(parse_query(q), 20) == expected[q]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_create_refuses_an_existing_index_and_open_requires_one(tmp_path: Path, backend: str) -> None:
    cls = backend_class(backend)
    cls.create(tmp_path / "ft").close()
    with pytest.raises(FileExistsError):
        cls.create(tmp_path / "ft")
    with pytest.raises(FileNotFoundError):
        cls.open(tmp_path / "nothing")
    assert not os.path.exists(tmp_path / "nothing") or not os.listdir(tmp_path / "nothing")
