"""Shortcuts taken for query speed give exactly the results of the straightforward code they replace."""
from __future__ import annotations

from pathlib import Path

import pytest

from indexer.core.analysis import default_analyzer, pack_word_offsets, unpack_word_offsets
from indexer.search.highlight import query_spans, tokenized_spans
from indexer.search.query import parse_query

CORPUS = Path(__file__).resolve().parents[2] / "corpora" / "fazhi-2023"
LINES = [l for f in sorted(CORPUS.glob("*.txt")) for l in f.read_text(encoding="utf-8").splitlines() if l.strip()]
EXTRA = ["２０２３年ＡＢＣ工作①要点：信访-积案 化解", "工作。工作，工作；法治工作", "a+b#c 100% 工作_1.5 x-y"]


@pytest.mark.parametrize("q", ["工作", "法治政府建设", "信访积案化解做法", "诈骗", '"小事不出村" 信访', "法律顾问 -律师",
                               "abc 2023 工作", "①", "村里的法律顾问平时都做些什么工作", '"法治 政府"'])
def test_query_spans_equal_tokenized_spans(q: str) -> None:
    """Both shortcuts -- stored word offsets and tokenizing only the blocks with a query word -- give
    exactly the spans of tokenizing the whole text."""
    parsed = parse_query(q)
    analyzer = default_analyzer()
    for text in LINES + EXTRA:
        expected = tokenized_spans(text, parsed)
        assert query_spans(text, parsed) == expected, (q, text)
        offsets = unpack_word_offsets(pack_word_offsets(analyzer.tokenize(text)))
        assert query_spans(text, parsed, offsets) == expected, (q, text)


def test_fast_normalisation_equals_per_character_normalisation() -> None:
    from indexer.core.analysis import normalize, normalize_char

    for text in LINES + EXTRA + ["ＡＢＣ　ｄｅｆ", "İstanbul ΣΟΦΙΑΣ", "Ǆ ǅ ǆ ß ﬁ"]:
        assert normalize(text) == "".join(normalize_char(c) for c in text), text


def test_word_offsets_of_a_text_too_long_for_16_bits_are_not_stored() -> None:
    long_text = "信访工作" * 20000
    assert pack_word_offsets(default_analyzer().tokenize(long_text)) is None


@pytest.mark.search
def test_in_memory_columns_give_the_catalog_s_facets_and_filters(sample_index) -> None:
    import numpy as np

    from indexer.storage.catalog import Catalog, _filter_sql
    from indexer.core.filters import Filters
    from indexer.engines.local.columns import ChunkColumns
    from indexer.storage.generations import GenerationStore
    from indexer.storage.layout import GenerationLayout

    cat = Catalog(GenerationLayout(GenerationStore(sample_index.index_dir).current_path()).catalog, readonly=True)
    cols = ChunkColumns(cat)
    try:
        all_ids = [c.chunk_id for c in cat.iter_chunks()]
        for ids in (all_ids, all_ids[::7], all_ids[:40] + all_ids[:10], [], [123, *all_ids[:3]]):
            assert cols.facet_counts(cols.positions(ids)) == cat.facet_values(ids=ids)
        values = cat.facet_values()
        some_place, some_year = values["place"][0][0], int(values["year"][0][0])
        for filters in (Filters(), Filters(place=(some_place,)), Filters(year=(some_year, 1999)),
                        Filters(kind=("存在问题",)), Filters(place=(some_place, "无此地"), kind=("做法与成效", "下一步计划")),
                        Filters(place=("无此地",))):
            where, params = _filter_sql(filters)  # the catalog's own SQL for a filter: the definition
            rows = cat.connect().execute(
                f"SELECT c.chunk_id FROM chunks c JOIN documents d ON d.doc_id=c.doc_id WHERE {where}", params)
            assert np.array_equal(cols.filter_ids(filters), np.sort([r[0] for r in rows])), filters
    finally:
        cat.close()


def _unit_vectors(rng, n: int, dim: int):
    import numpy as np

    vecs = rng.standard_normal((n, dim)).astype(np.float32)
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def _exact(vecs, ids, q, k, allowed=None):
    import numpy as np

    keep = np.ones(len(ids), bool) if allowed is None else np.isin(ids, allowed)
    scores = vecs[keep] @ q
    order = np.argsort(-scores, kind="stable")[:k]
    return ids[keep][order].tolist()


@pytest.mark.parametrize("approximate", [False, True])
@pytest.mark.parametrize("share", [0.02, 0.1, 0.5, 0.97, 1.0])
def test_filtered_vector_search_returns_the_filter_s_best_hits(share: float, approximate: bool) -> None:
    """Every filter -- narrow (exact over the allowed vectors) or broad (searched, then filtered) -- gives
    the filter's own best hits, never fewer than there are, and nothing outside it."""
    import numpy as np

    from indexer.storage.vectors.faiss_index import VectorIndex

    rng = np.random.default_rng(3)
    vecs = _unit_vectors(rng, 3000, 32)
    ids = rng.choice(2**62, size=3000, replace=False).astype(np.int64)
    index = VectorIndex.build(ids, vecs, 32, ann_threshold=1000 if approximate else 10**9)
    assert index.approximate == approximate
    allowed = rng.choice(ids, size=int(3000 * share), replace=False)
    overlap = []
    for q in vecs[:20]:
        got = [c for c, _ in index.search(q, 50, allowed)]
        want = _exact(vecs, ids, q, 50, allowed)
        assert len(got) == len(want) and set(got) <= set(allowed.tolist())
        if approximate:  # float16 vectors; a broad filter is searched in the graph like an unfiltered query
            overlap.append(len(set(got) & set(want)) / len(want))
        else:
            assert got == want
    assert not overlap or np.mean(overlap) >= (0.9 if share >= 0.3 else 0.98)


def test_a_filter_naming_ids_not_in_the_index_only_gets_those_that_are() -> None:
    import numpy as np

    from indexer.storage.vectors.faiss_index import VectorIndex

    rng = np.random.default_rng(4)
    vecs = _unit_vectors(rng, 500, 16)
    ids = np.arange(1000, 1500, dtype=np.int64)
    index = VectorIndex.build(ids, vecs, 16, ann_threshold=10**9)
    got = index.search(vecs[0], 10, np.array([1000, 1001, 7, 8, 1001]))
    assert [c for c, _ in got] == [1000, 1001]


def test_approximate_index_finds_the_exact_top_hits_of_clustered_vectors(tmp_path) -> None:
    """HNSW over float16 vectors, saved and loaded: on clustered vectors (like real embeddings, unlike
    uniform noise) the top 10 match the exact ranking and a stored vector comes back."""
    import numpy as np

    from indexer.storage.vectors.faiss_index import VectorIndex

    rng = np.random.default_rng(5)
    centres = _unit_vectors(rng, 40, 64)
    vecs = centres[rng.integers(0, 40, 6000)] + 0.35 * _unit_vectors(rng, 6000, 64)
    vecs = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
    ids = np.arange(10, 6010, dtype=np.int64)
    VectorIndex.build(ids, vecs, 64, ann_threshold=5000).save(tmp_path / "v.faiss")
    ann = VectorIndex.load(tmp_path / "v.faiss")
    assert ann.approximate and ann.size == 6000
    recall = [len(set(c for c, _ in ann.search(q, 10)) & set(_exact(vecs, ids, q, 10))) / 10 for q in vecs[:50]]
    assert np.mean(recall) >= 0.97
    assert len(ann.search(vecs[0], 600)) == 600  # more hits than efSearch when asked for
    assert np.allclose(ann.vector(42), vecs[32], atol=1e-3)


def _as_json(response):
    """dataclasses.asdict with ids as strings, and each hit's marks as the JSON carries them: the HTML
    made from its spans ("highlighted"), not the spans."""
    from dataclasses import asdict

    from indexer.search.types import json_ids

    data = json_ids(asdict(response))
    for hit, out in zip(response.hits, data["hits"]):
        del out["spans"], out["span_kind"]
        out["highlighted"] = hit.highlighted
    return data


@pytest.mark.search
def test_response_to_dict_equals_the_generic_dataclass_conversion(searcher) -> None:
    """The hand-written to_dict gives what dataclasses.asdict (with ids as strings) would."""
    from indexer.search.types import SearchRequest

    for q in ("信访积案化解做法", "法治政府建设"):
        response = searcher.search(SearchRequest(query=q, size=20))
        expected = _as_json(response)
        expected["facets"] = {k: [{"value": v, "count": c} for v, c in vals] for k, vals in response.facets.items()}
        assert response.to_dict() == expected
    from dataclasses import replace

    from indexer.search.types import SharedWith

    hit = replace(response.hits[0], shared_with=[SharedWith("d1", "a/b.txt", "石门乡", 2**62 + 1)])
    with_copies = replace(response, hits=[hit])
    assert with_copies.to_dict()["hits"] == _as_json(with_copies)["hits"]
    assert with_copies.to_dict()["hits"][0]["shared_with"][0]["chunk_id"] == str(2**62 + 1)


def _reference_segment(text, spans):
    """The straightforward definition of dedup.matched_sentence's segment: look at every segment of the text."""
    import re

    from indexer.storage.dedup import SEGMENT_MIN_CHARS, normalize

    if not spans:
        return None
    found = None
    for m in re.finditer(r"[^。！？；!?;“”「」『』\"\n]+", text):
        inside = [s for s in spans if s[0] < m.end() and s[1] > m.start()]
        if not inside:
            continue
        if found is not None or any(s[0] < m.start() or s[1] > m.end() for s in inside):
            return None
        found = normalize(m.group(0))
    return found if found and len(found) >= SEGMENT_MIN_CHARS else None


def _reference_contains(text, sentence):
    """... and of dedup.contains_sentence / SentencePool.contains: compare every segment of the text."""
    import re

    from indexer.storage.dedup import SEGMENT_MIN_CHARS, normalize, same_sentence

    return any(sentence.anchor in raw and len(normalize(raw)) >= SEGMENT_MIN_CHARS
               and same_sentence(normalize(raw), sentence.norm)
               for raw in (m.group(0) for m in re.finditer(r"[^。！？；!?;“”「」『』\"\n]+", text)))


@pytest.mark.parametrize("q", ["工作", "法治政府建设", "小事不出村", '"小事不出村" 调处', "信访 矛盾纠纷", "宪法 宣传",
                               "习近平法治思想", "依法行政"])
def test_stock_sentences_found_around_the_matches_equal_the_reference(q: str) -> None:
    """The segment found around the matches, and a copy found through the anchor pre-check, are exactly
    what checking every segment gives -- over every line of the sample reports (some lines repeated, as
    copies in other reports)."""
    from indexer.storage.dedup import SentencePool, contains_sentence, matched_sentence

    parsed = parse_query(q)
    texts = [t for t in LINES + EXTRA if tokenized_spans(t, parsed)]
    assert texts  # the query matches the sample
    texts += texts[::3]
    pool = SentencePool(dict(enumerate(texts)))
    marked = 0
    for i, t in enumerate(texts):
        spans = tuple(tokenized_spans(t, parsed))
        sentence = matched_sentence(t, spans)
        assert (sentence.norm if sentence else None) == _reference_segment(t, spans), t
        if sentence is None:
            continue
        others = [j for j in range(len(texts)) if j != i]
        found = [contains_sentence(texts[j], sentence) for j in others]
        assert found == [_reference_contains(texts[j], sentence) for j in others]
        assert found == [pool.contains(j, sentence) for j in others]
        marked += any(found)
    if q in ("小事不出村", "习近平法治思想"):
        assert marked  # stock sentences the sample reports share


def test_an_incremental_run_extends_the_previous_hnsw_graph_only_when_that_is_safe(tmp_path) -> None:
    """Publishing a generation adds the new chunks' vectors to the previous graph (no 25 s rebuild per 100k);
    removed chunks stay as stale entries until they pass MAX_STALE; a kept chunk whose vector changed, or
    other settings, force a fresh build."""
    import numpy as np

    from indexer.storage.vectors.faiss_index import MAX_STALE, VectorIndex

    rng = np.random.default_rng(7)
    vecs = _unit_vectors(rng, 3000, 32)
    ids = np.arange(100, 3100, dtype=np.int64)
    first, how = VectorIndex.build_from(None, ids, vecs, 32, ann_threshold=1000)
    assert how == "built" and first.approximate
    first.save(tmp_path / "g1.faiss")

    # 2% removed, 5% new: extended; the new vectors are found, the removed ones are stale entries.
    new_vecs = _unit_vectors(rng, 150, 32)
    ids2 = np.concatenate([ids[60:], np.arange(9000, 9150)])
    vecs2 = np.vstack([vecs[60:], new_vecs])
    second, how = VectorIndex.build_from(tmp_path / "g1.faiss", ids2, vecs2, 32, ann_threshold=1000)
    assert how == "extended" and second.size == 3000 + 150
    for k, q in enumerate(new_vecs[:20]):
        assert second.search(q, 1)[0][0] == 9000 + k
    second.save(tmp_path / "g2.faiss")
    assert VectorIndex.load(tmp_path / "g2.faiss").search(new_vecs[3], 1)[0][0] == 9003

    # The same chunk id with another vector (its embedding input changed): rebuilt, so the new vector counts.
    vecs3 = vecs2.copy()
    vecs3[0] = new_vecs[0]
    third, how = VectorIndex.build_from(tmp_path / "g2.faiss", ids2, vecs3, 32, ann_threshold=1000)
    assert how == "built" and third.size == len(ids2)

    # Too many removed chunks: rebuilt without the stale entries.
    keep = int(len(ids2) * (1 - MAX_STALE)) - 50
    fourth, how = VectorIndex.build_from(tmp_path / "g2.faiss", ids2[:keep], vecs2[:keep], 32, ann_threshold=1000)
    assert how == "built" and fourth.size == keep

    # Other graph settings, or a corpus that fell below the threshold: built.
    assert VectorIndex.build_from(tmp_path / "g2.faiss", ids2, vecs2, 32, 1000, hnsw_m=16)[1] == "built"
    small, how = VectorIndex.build_from(tmp_path / "g2.faiss", ids2[:500], vecs2[:500], 32, ann_threshold=1000)
    assert how == "built" and not small.approximate


@pytest.mark.search
def test_array_folds_and_counts_equal_the_per_hit_ones(townships_index) -> None:
    """ResultSet's one-hit-per-place and one-copy-per-group folds over fold_keys arrays, and the columns'
    facet counts with boilerplate copies once, give what the per-hit definitions over `facts` give -- for the
    local columns and for the generic `fold_keys_of` other engines use (123 reports: places, boilerplate)."""
    import random

    import numpy as np

    from indexer.core.facets import FACET_FIELDS
    from indexer.engines.base import count_facets, fold_keys_of
    from indexer.engines.local.columns import ChunkColumns
    from indexer.search.resultset import ResultSet
    from indexer.storage.catalog import Catalog
    from indexer.storage.generations import GenerationStore
    from indexer.storage.layout import GenerationLayout

    cat = Catalog(GenerationLayout(GenerationStore(townships_index).current_path()).catalog, readonly=True)
    cols = ChunkColumns(cat)
    rng = random.Random(5)
    try:
        all_ids = [c.chunk_id for c in cat.iter_chunks()]
        every = cols.facts(all_ids).values()
        assert any(f.dup_group is not None for f in every) and len({f.place for f in every}) > 2, "a fold to test"
        for _ in range(20):
            ids = rng.sample(all_ids, rng.randint(0, len(all_ids)))
            facts = cols.facts(ids)
            literal = {c for c in ids if rng.random() < 0.6}
            place = lambda c: facts[c].place or f"doc:{facts[c].doc_id}"  # noqa: E731
            literal_places = {place(c) for c in ids if c in literal}
            by_place, seen = [], set()
            for c in ids:  # the per-hit definition (searcher.py before the arrays)
                if place(c) not in seen and (c in literal or place(c) not in literal_places):
                    seen.add(place(c))
                    by_place.append(c)
            by_group, groups = [], set()
            for c in ids:
                if facts[c].dup_group is None or facts[c].dup_group not in groups:
                    groups.add(facts[c].dup_group)
                    by_group.append(c)
            arr = np.array(ids, dtype=np.int64)
            for keys in (cols.fold_keys(arr), fold_keys_of(arr, facts)):
                results = ResultSet(ids=arr, literal=np.isin(arr, list(literal)), official=np.zeros(len(arr), bool),
                                    near=np.zeros(len(arr), bool), group=keys.group, place=keys.place)
                assert arr[results.fold(True, True)(results.everything())].tolist() == by_place
                assert arr[results.fold(False, True)(results.everything())].tolist() == by_group
            assert cols.facet_counts(cols.positions(ids), FACET_FIELDS, copies_once=True) == \
                count_facets(facts.items(), FACET_FIELDS, copies_once=True)
    finally:
        cat.close()
