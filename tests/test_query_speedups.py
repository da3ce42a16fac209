"""Shortcuts taken for query speed give exactly the results of the straightforward code they replace."""
from __future__ import annotations

from pathlib import Path

import pytest

from indexer.search.highlight import query_spans
from indexer.search.query import parse_query
from indexer.search.searcher import fast_query_spans

CORPUS = Path(__file__).resolve().parent.parent / "corpora" / "fazhi-2023"
LINES = [l for f in sorted(CORPUS.glob("*.txt")) for l in f.read_text(encoding="utf-8").splitlines() if l.strip()]
EXTRA = ["２０２３年ＡＢＣ工作①要点：信访-积案 化解", "工作。工作，工作；法治工作", "a+b#c 100% 工作_1.5 x-y"]


@pytest.mark.parametrize("q", ["工作", "法治政府建设", "信访积案化解做法", "诈骗", '"小事不出村" 信访', "法律顾问 -律师",
                               "abc 2023 工作", "①", "村里的法律顾问平时都做些什么工作", '"法治 政府"'])
def test_fast_query_spans_equals_query_spans(q: str) -> None:
    parsed = parse_query(q)
    for text in LINES + EXTRA:
        assert fast_query_spans(text, parsed) == query_spans(text, parsed), (q, text)


def test_fast_normalisation_equals_the_analyzer_s() -> None:
    from indexer.fulltext.analysis import normalize
    from indexer.search.searcher import _normalize

    for text in LINES + EXTRA + ["ＡＢＣ　ｄｅｆ", "İstanbul ΣΟΦΙΑΣ", "Ǆ ǅ ǆ ß ﬁ"]:
        assert _normalize(text) == normalize(text), text


def test_facet_counts_equal_the_catalog_s(searcher) -> None:
    from indexer.search.searcher import facet_counts

    with searcher._use() as gen:
        all_ids = [c.chunk_id for c in gen.catalog.iter_chunks()]
        for ids in (all_ids, all_ids[::7], all_ids[:40] + all_ids[:10], []):
            rows = gen.catalog.chunks_by_id(ids)
            docs = gen.catalog.documents_by_id(r.doc_id for r in rows.values())
            assert facet_counts(ids, rows, docs) == gen.catalog.facet_values(ids=ids)


@pytest.mark.parametrize("fp16", [False, True])
@pytest.mark.parametrize("share", [0.02, 0.1, 0.5, 0.97, 1.0])
def test_broad_filters_give_the_same_vector_hits_as_the_id_selector(share: float, fp16: bool, monkeypatch) -> None:
    import numpy as np

    from indexer.vectors import faiss_index
    from indexer.vectors.faiss_index import VectorIndex

    rng = np.random.default_rng(3)
    vecs = rng.standard_normal((3000, 32)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = rng.choice(2**62, size=3000, replace=False).astype(np.int64)
    monkeypatch.setattr(faiss_index, "FP16_MIN", 1000 if fp16 else 10**9)
    index = VectorIndex.build(ids, vecs, 32, ann_threshold=10**9)
    monkeypatch.undo()
    assert ("Scalar" in type(faiss_index.faiss.downcast_index(index.index.index)).__name__) == fp16
    allowed = rng.choice(ids, size=int(3000 * share), replace=False)
    for q in vecs[:20]:
        fast = index.search(q, 50, allowed)
        monkeypatch.setattr(faiss_index, "BROAD_FILTER", 2.0)  # force the id-selector path
        exact = index.search(q, 50, allowed)
        monkeypatch.undo()
        assert [c for c, _ in fast] == [c for c, _ in exact]
        assert np.allclose([s for _, s in fast], [s for _, s in exact], atol=1e-5)
        assert set(c for c, _ in fast) <= set(allowed.tolist())


def test_half_precision_storage_keeps_the_exact_top_hits(tmp_path, monkeypatch) -> None:
    import numpy as np

    from indexer.vectors import faiss_index
    from indexer.vectors.faiss_index import VectorIndex

    rng = np.random.default_rng(5)
    vecs = rng.standard_normal((4000, 64)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = np.arange(10, 4010, dtype=np.int64)
    exact = VectorIndex.build(ids, vecs, 64, ann_threshold=10**9)
    monkeypatch.setattr(faiss_index, "FP16_MIN", 1000)
    half = VectorIndex.build(ids, vecs, 64, ann_threshold=10**9)
    half.save(tmp_path / "v.faiss")
    half = VectorIndex.load(tmp_path / "v.faiss")
    for q in vecs[:30]:
        assert [c for c, _ in half.search(q, 10)] == [c for c, _ in exact.search(q, 10)]
    assert np.allclose(half.vector(42), vecs[32], atol=1e-3)
