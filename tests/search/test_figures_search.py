"""Searcher.figures (issue 30 point 2): every figure in every paragraph that contains the query, with the search's
filters, checked against a scan of every chunk of the index; sorting; measures grouped and the grouping shown."""
from __future__ import annotations

from collections import Counter

import pytest

from indexer.core.filters import Filters
from indexer.pipeline.figures import extract_figures
from indexer.search.figures import FiguresRequest
from indexer.search.types import QueryError

QUERIES = ("信访", "调解", "宣传", "培训", "法律顾问")


def scanned(searcher, term: str, place: str | None = None) -> Counter:
    """What the table must hold: the figures extract_figures finds in every paragraph whose text contains the term."""
    places = {d.doc_id: d.meta.place for d in searcher.documents()}
    return Counter(
        (c.chunk_id, places[c.doc_id], f.as_written, f.value, f.qualifier, f.unit, f.measure, f.sentence)
        for c in searcher.all_chunks() if term in c.text and (place is None or places[c.doc_id] == place)
        for f in extract_figures(c.text))


def shown(response) -> Counter:
    return Counter((r.chunk_id, r.place, r.as_written, r.value, r.qualifier, r.unit, r.measure, r.sentence)
                   for r in response.rows)


@pytest.mark.parametrize("term", QUERIES)
def test_every_figure_of_every_matching_paragraph_is_a_row(searcher, term) -> None:
    expected = scanned(searcher, term)
    assert expected, f"the sample has figures in paragraphs with {term}"
    response = searcher.figures(FiguresRequest(term))
    assert shown(response) == expected
    assert response.total == sum(expected.values())
    assert response.paragraphs == sum(1 for c in searcher.all_chunks() if term in c.text)
    chunks = {c.chunk_id: c for c in searcher.all_chunks()}
    for r in response.rows:  # the sentence and the number are where the offsets say, in the chunk named
        text = chunks[r.chunk_id].text
        assert text[r.sentence_start:r.sentence_end] == r.sentence and text[r.start:r.end] == r.as_written
        assert r.sentence_start <= r.start < r.end <= r.sentence_end
        assert chunks[r.chunk_id].doc_id == r.doc_id


def test_filters_as_in_search(searcher) -> None:
    everything = searcher.figures(FiguresRequest("调解"))
    place = Counter(r.place for r in everything.rows).most_common(1)[0][0]
    response = searcher.figures(FiguresRequest("调解", Filters(place=(place,))))
    assert shown(response) == scanned(searcher, "调解", place) and response.rows
    assert response.filters == {"place": [place]}
    year = everything.rows[0].year
    by_year = searcher.figures(FiguresRequest("调解", Filters(year=(year,))))
    assert by_year.rows and all(r.year == year for r in by_year.rows)
    assert Counter(r.chunk_id for r in by_year.rows) == Counter(r.chunk_id for r in everything.rows if r.year == year)


def test_sorted_by_value_place_or_year(searcher) -> None:
    rows = searcher.figures(FiguresRequest("宣传", sort="value", descending=True)).rows
    assert [r.value for r in rows] == sorted((r.value for r in rows), reverse=True)
    rows = searcher.figures(FiguresRequest("宣传", sort="value")).rows
    assert [r.value for r in rows] == sorted(r.value for r in rows)
    rows = searcher.figures(FiguresRequest("宣传", sort="place")).rows
    assert [r.place for r in rows] == sorted(r.place for r in rows)
    # within a place: year, then reading order (document, paragraph, position)
    first = [r for r in rows if r.place == rows[0].place]
    assert [(r.paragraph_index, r.start) for r in first if r.doc_id == first[0].doc_id] == sorted(
        (r.paragraph_index, r.start) for r in first if r.doc_id == first[0].doc_id)
    rows = searcher.figures(FiguresRequest("宣传", sort="year", descending=True)).rows
    assert [r.year for r in rows] == sorted((r.year for r in rows), reverse=True)


def test_measures_are_grouped_and_the_grouping_is_shown(searcher) -> None:
    response = searcher.figures(FiguresRequest("调解"))
    groups = {g.label: g for g in response.groups}
    for r in response.rows:
        if r.measure:
            assert r.measure in groups[r.group].measures
    assert sum(g.rows for g in response.groups) == sum(1 for r in response.rows if r.measure)
    members = [m for g in response.groups for m in g.measures]
    assert len(members) == len(set(members)) == len({r.measure for r in response.rows if r.measure})
    # two wordings of one measure that the judged groups put together land in one group here too
    from indexer.pipeline.figures import group_measures
    assert group_measures(["调解矛盾纠纷", "化解矛盾纠纷"], searcher.encoder) == [["调解矛盾纠纷", "化解矛盾纠纷"]]


def test_a_bad_request_names_its_parameter(searcher) -> None:
    with pytest.raises(QueryError) as err:
        searcher.figures(FiguresRequest("调解", sort="price"))
    assert err.value.param == "sort"
    with pytest.raises(QueryError) as err:
        searcher.figures(FiguresRequest("   "))
    assert err.value.param == "q"
    with pytest.raises(QueryError) as err:
        searcher.figures(FiguresRequest("调" * 10000))
    assert err.value.param == "q"


def test_every_order_is_a_stable_sort_of_the_reading_order(searcher) -> None:
    """The rows are made lazily from columns sorted with numpy; each order must be what Python's stable sort of
    the reading-order rows gives (ties, descending too, keep place, year, document, paragraph, position)."""
    reading = list(searcher.figures(FiguresRequest("工作")).rows)
    assert len(reading) > 20
    assert reading == sorted(reading, key=lambda r: (r.place, r.year is None, r.year or 0, r.path,
                                                     r.paragraph_index, r.start))
    keys = {"place": lambda r: r.place, "year": lambda r: (r.year is None, r.year or 0),
            "value": lambda r: r.value, "measure": lambda r: (r.group, r.measure)}
    for sort, key in keys.items():
        for descending in (False, True):
            rows = searcher.figures(FiguresRequest("工作", sort=sort, descending=descending)).rows
            assert list(rows) == sorted(reading, key=key, reverse=descending), (sort, descending)
            assert rows[3:7] == list(rows)[3:7] and rows[-1] == list(rows)[-1]


def test_the_table_cache_follows_its_settings(sample_index, encoder) -> None:
    from indexer.search.searcher import Searcher

    config = sample_index.with_overrides({"figures.table_cache_entries": 1, "figures.table_cache_rows": 100000})
    fresh = Searcher.open(config, encoder)
    try:
        first = fresh.figures(FiguresRequest("宣传"))
        again = fresh.figures(FiguresRequest("宣传", sort="value"))
        assert again.total == first.total and sorted(r.value for r in first.rows) == [r.value for r in again.rows]
        cache = fresh._figure_tables
        assert (cache.entries, cache.max_rows, len(cache._items)) == (1, 100000, 1)
        fresh.figures(FiguresRequest("调解"))
        assert len(cache._items) == 1 and cache._rows == fresh.figures(FiguresRequest("调解")).total
    finally:
        fresh.close()
    none = Searcher.open(sample_index.with_overrides({"figures.table_cache_entries": 0}), encoder)
    try:
        assert none.figures(FiguresRequest("宣传")).total == first.total and not none._figure_tables._items
    finally:
        none.close()
