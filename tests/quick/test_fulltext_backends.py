"""What holds across the full-text backends: the factory's copies and choice of backend, and that the backends
rank alike. (The behavioural checks of one index run on each backend in tests/quick/test_fulltext.py.)"""
from __future__ import annotations

from pathlib import Path

import pytest

import test_fulltext as base
from indexer.core.config import Config
from indexer.storage.fulltext.base import FullTextRecord
from indexer.storage.fulltext.factory import BACKENDS, backend_class, clone_fulltext, create_fulltext, detect_backend, open_fulltext
from indexer.search.query import parse_query

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.parametrize("backend", BACKENDS)
def test_hard_linked_copy_can_be_modified_without_touching_the_original(tmp_path: Path, backend: str) -> None:
    old_dir, new_dir = tmp_path / "gen1", tmp_path / "gen2"
    base.build(old_dir, backend=backend).close()
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
        ix = create_fulltext(tmp_path / name, Config().with_overrides({"index.fulltext": name}))
        ix.add([base.record(7, "002", "化解信访积案")])
        ix.commit()
        ix.close()
    for name in BACKENDS:
        other = next(b for b in BACKENDS if b != name)
        assert detect_backend(tmp_path / name) == name
        ix = open_fulltext(tmp_path / name, Config().with_overrides({"index.fulltext": other}))
        try:
            assert isinstance(ix, backend_class(name))
            assert [c for c, _ in ix.search(parse_query("信访"), 5)] == [7]
        finally:
            ix.close()
    with pytest.raises(ValueError):
        create_fulltext(tmp_path / "x", Config().with_overrides({"index.fulltext": "lucene"}))


def test_backends_agree_on_the_best_hits(tmp_path: Path) -> None:
    # Same fields, same BM25 family: the two backends must not rank differently enough for a user to notice.
    built = {name: base.build(tmp_path / name, backend=name) for name in BACKENDS}
    try:
        for q in ["信访积案化解做法", "法律顾问", "行政执法 公示", "人民调解 矛盾纠纷 排查", '"小事不出村" 信访']:
            tops = {n: [c for c, _ in ix.search(parse_query(q), 5)] for n, ix in built.items()}
            assert tops["whoosh"][0] in tops["tantivy"][:3] and tops["tantivy"][0] in tops["whoosh"][:3], (q, tops)
    finally:
        for ix in built.values():
            ix.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_ranking_settings_reach_the_backend(tmp_path: Path, backend: str) -> None:
    """[ranking] is configuration, not a module to patch: a word only in the heading scores by context_boost,
    and all_terms_bonus lifts the chunk holding every word -- on each backend, through open_fulltext."""
    ix = backend_class(backend).create(tmp_path / "ix")
    ix.add([FullTextRecord(chunk_id=1, doc_id="a", text="组织调解员上门调解邻里纠纷", title="",
                           heading_path="人民调解", place="张茅乡", year=2023),
            FullTextRecord(chunk_id=2, doc_id="b", text="化解信访积案十二件", title="", heading_path="",
                           place="大铭乡", year=2023),
            FullTextRecord(chunk_id=3, doc_id="c", text="信访事项按期办结", title="", heading_path="",
                           place="青原镇", year=2023)])
    ix.commit()
    ix.close()

    def scores(query: str, **ranking: float) -> dict[int, float]:
        ix = open_fulltext(tmp_path / "ix", Config().with_overrides({f"ranking.{k}": v for k, v in ranking.items()}))
        try:
            return dict(ix.search(parse_query(query), 50))
        finally:
            ix.close()

    heading = scores("人民", context_boost=0.1), scores("人民", context_boost=0.9)  # 人民 only in chunk 1's heading
    assert 0 < heading[0][1] < heading[1][1]
    plain, bonus = scores("化解 信访", all_terms_bonus=0.0), scores("化解 信访", all_terms_bonus=1.0)
    assert bonus[2] > plain[2] and bonus[3] == pytest.approx(plain[3])  # only chunk 2 holds both words
