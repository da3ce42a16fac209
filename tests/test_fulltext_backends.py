"""Every full-text backend passes the same behavioural checks (those of tests/test_fulltext.py, which were
written against Whoosh), and the factory opens an index with the backend that wrote it."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterator

import pytest

import test_fulltext as base
from indexer.config import Config
from indexer.fulltext.factory import BACKENDS, backend_class, clone_fulltext, create_fulltext, detect_backend, open_fulltext
from indexer.search.query import parse_query

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> Iterator[str]:
    """Point test_fulltext's index class at one backend while its checks run."""
    original = base.WhooshIndex
    base.WhooshIndex = backend_class(request.param)
    yield request.param
    base.WhooshIndex = original


@pytest.fixture(scope="module")
def index(backend: str, tmp_path_factory):
    ix = base.build(tmp_path_factory.mktemp(f"ft-{backend}") / "fulltext")
    yield ix
    ix.close()


# The checks of tests/test_fulltext.py, run against each backend.
def test_phrase_is_found_and_highlighted(index) -> None:
    base.test_phrase_finds_guanyintang_and_is_highlighted_as_one_span(index)


def test_phrase_returns_exactly_the_lines_that_contain_it(index) -> None:
    base.test_phrase_returns_exactly_the_lines_that_contain_it(index)


def test_phrases_match_substrings_regardless_of_word_boundaries(index) -> None:
    base.test_phrases_match_substrings_regardless_of_word_boundaries(index)


def test_natural_query_ranks_the_xinqiao_paragraph_first(index) -> None:
    base.test_natural_query_ranks_the_xinqiao_paragraph_first(index)


def test_subwords_let_a_short_word_find_longer_compounds(tmp_path: Path, index) -> None:
    base.test_subwords_let_a_short_word_find_longer_compounds(tmp_path, index)


def test_a_split_place_name_matches_as_a_name(tmp_path: Path, index) -> None:
    base.test_a_split_place_name_matches_as_a_name_never_by_its_lone_character(tmp_path, index)


def test_and_or_not_and_parentheses(index) -> None:
    base.test_and_or_not_and_parentheses(index)


def test_phrase_with_plain_word_requires_the_phrase(index) -> None:
    base.test_phrase_with_plain_word_requires_the_phrase(index)


def test_only_exclusions_lists_the_other_chunks(index) -> None:
    base.test_only_exclusions_lists_the_other_chunks(index)


@pytest.mark.parametrize("q, needle", [('"小事不出村', "引号"), ("(信访 OR 枫桥经验", "括号"), ("信访 AND", "AND"),
                                       ("信访 NOT", "NOT")])
def test_malformed_queries_still_answer(index, q: str, needle: str) -> None:
    base.test_malformed_queries_are_repaired_with_a_warning(index, q, needle)


def test_filters_restrict_results(index) -> None:
    base.test_filters_restrict_results(index)


def test_delete_and_replace(tmp_path: Path, backend: str) -> None:
    base.test_delete_and_replace(tmp_path)


def test_concurrent_searches_agree_with_sequential_ones(index) -> None:
    base.test_concurrent_searches_agree_with_sequential_ones(index)


def test_create_refuses_an_existing_index_and_open_requires_one(tmp_path: Path, backend: str) -> None:
    base.test_create_refuses_an_existing_index_and_open_requires_one(tmp_path)


def test_common_word_returns_the_best_matches_first(index) -> None:
    # 工作 is in a large share of all lines: the top hits must be lines that really contain it, and
    # a small limit must give the head of the full ranking (no pruning changes the top results).
    full = base.ids(index, "工作", limit=10_000)
    assert set(full) == base.containing("工作")
    assert base.ids(index, "工作", limit=10) == full[:10]


def test_hard_linked_copy_can_be_modified_without_touching_the_original(tmp_path: Path, backend: str) -> None:
    old_dir, new_dir = tmp_path / "gen1", tmp_path / "gen2"
    base.build(old_dir).close()
    cls = backend_class(backend)
    old = cls.open(old_dir)
    queries = ['"化解信访积案"', "小事不出村", "法律顾问 -律师", "信访积案化解做法"]
    before = {q: old.search(parse_query(q), 50) for q in queries}
    old_files = {p.name: (p.stat().st_ino, p.read_bytes()) for p in old_dir.iterdir() if p.is_file()}

    clone_fulltext(old_dir, new_dir)
    big = max(old_files, key=lambda n: len(old_files[n][1]))
    assert (new_dir / big).stat().st_ino == old_files[big][0]  # really hard links, not copies

    new = open_fulltext(new_dir, Config())
    new.delete(base.containing("化解信访积案"))
    new.add([base.record(1, "000", "化解信访积案的新办法")])
    new.commit()
    new.add([base.record(2, "001", "第二次提交也只写新文件")])
    new.commit()
    assert [c for c, _ in new.search(parse_query('"化解信访积案"'), 50)] == [1]
    new.close()

    for name, (ino, data) in old_files.items():
        path = old_dir / name
        if name.endswith(".lock"):
            continue
        assert path.stat().st_ino == ino and path.read_bytes() == data, name
    assert {q: old.search(parse_query(q), 50) for q in queries} == before
    old.close()
    reopened = cls.open(old_dir)
    assert {q: reopened.search(parse_query(q), 50) for q in queries} == before
    reopened.close()


def test_factory_opens_an_index_with_the_backend_that_wrote_it(tmp_path: Path) -> None:
    for name in BACKENDS:
        ix = create_fulltext(tmp_path / name, dataclasses.replace(Config(), fulltext_backend=name))
        ix.add([base.record(7, "002", "化解信访积案")])
        ix.commit()
        ix.close()
    for name in BACKENDS:
        other = next(b for b in BACKENDS if b != name)
        assert detect_backend(tmp_path / name) == name
        ix = open_fulltext(tmp_path / name, dataclasses.replace(Config(), fulltext_backend=other))
        try:
            assert isinstance(ix, backend_class(name))
            assert [c for c, _ in ix.search(parse_query("信访"), 5)] == [7]
        finally:
            ix.close()
    with pytest.raises(ValueError):
        create_fulltext(tmp_path / "x", dataclasses.replace(Config(), fulltext_backend="lucene"))


def test_backends_agree_on_the_best_hits(tmp_path: Path) -> None:
    # Same fields, same BM25 family: the two backends must not rank differently enough for a user to notice.
    built = {}
    for name in BACKENDS:
        base.WhooshIndex, saved = backend_class(name), base.WhooshIndex
        try:
            built[name] = base.build(tmp_path / name)
        finally:
            base.WhooshIndex = saved
    try:
        for q in ["信访积案化解做法", "法律顾问", "行政执法 公示", "人民调解 矛盾纠纷 排查", '"小事不出村" 信访']:
            tops = {n: [c for c, _ in ix.search(parse_query(q), 5)] for n, ix in built.items()}
            assert tops["whoosh"][0] in tops["tantivy"][:3] and tops["tantivy"][0] in tops["whoosh"][:3], (q, tops)
    finally:
        for ix in built.values():
            ix.close()
