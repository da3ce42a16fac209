"""The results past the fused top k (every other exact match, by keyword score) are ranked only as deep as a
page needs; paging through them must still give the one ranked list: every page the matching slice of one
large page, in the same order, with the same totals, in each view (all copies, one per boilerplate group, one
per place) and mode. Over the sample index with a small top k (`candidates`), so most matches are in that
lazily ranked tail."""
from __future__ import annotations


import pytest

from indexer.core.filters import Filters
from indexer.search.limits import MAX_PAGE_SIZE
from indexer.search.searcher import Searcher
from indexer.search.types import SearchRequest

TOP_K = 8  # far fewer than the paragraphs holding 法治 or 工作 in the sample reports


@pytest.fixture(scope="module")
def small_top_k(sample_index, encoder):
    searcher = Searcher.open(sample_index.with_overrides({"retrieval.candidates": TOP_K}), encoder)
    yield searcher
    searcher.close()


def _key(hit) -> tuple:
    return hit.chunk_id, hit.match, hit.keyword_rank, hit.semantic_rank, tuple(hit.official_terms)


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
@pytest.mark.parametrize("view", [{}, {"group_by_place": True}, {"collapse_duplicates": False},
                                  {"filters": Filters(kind=("做法与成效",))}])
@pytest.mark.parametrize("query", ["法治", "工作", "上访"])
def test_small_pages_are_slices_of_one_large_page(small_top_k, query, mode, view):
    whole = small_top_k.search(SearchRequest(query, mode=mode, size=MAX_PAGE_SIZE, **view))
    assert whole.total <= MAX_PAGE_SIZE, "the sample's results fit one large page"
    if query != "上访" and not view.get("group_by_place"):
        assert whole.literal_total > TOP_K, "most literal matches lie past the top k"
    size, pages = 3, []
    for page in range(1, -(-whole.total // 3) + 1):
        response = small_top_k.search(SearchRequest(query, mode=mode, size=size, page=page, **view))
        assert (response.total, response.literal_total, response.official_total, response.total_estimated) == \
            (whole.total, whole.literal_total, whole.official_total, whole.total_estimated)
        assert response.facets == whole.facets
        pages += response.hits
    assert [_key(h) for h in pages] == [_key(h) for h in whole.hits]
    assert len({h.chunk_id for h in pages}) == whole.total
