"""Metadata in a real index of ../shared/eval-townships/corpus + corpora/ (issue 25): reproducible builds, facet
values that are real divisions, and 未知 as a facet value whose filter returns exactly those documents."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.pipeline import gazetteer
from indexer.core.facets import UNKNOWN
from indexer.core.filters import Filters
from indexer.storage.catalog import Catalog
from indexer.cli import main
from indexer.core.config import Config
from indexer.engines.local.engine import LocalEngine
from indexer.storage.generations import GenerationStore
from indexer.storage.layout import GenerationLayout
from indexer.search.searcher import Searcher
from indexer.search.types import SearchRequest

REPO = Path(__file__).resolve().parents[2]


def _catalog(index_dir: Path) -> Catalog:
    return Catalog(GenerationLayout(GenerationStore(index_dir).current_path()).catalog)


def test_two_fresh_builds_under_different_hash_seeds_give_identical_metadata(seeded_builds):
    a, b = (_catalog(d).documents() for d in seeded_builds)
    assert len(a) == len(b) == 118
    assert [(d.path, d.meta, d.meta.provenance) for d in a] == [(d.path, d.meta, d.meta.provenance) for d in b]


def test_every_place_and_region_facet_value_is_a_real_division(seeded_builds):
    gaz = gazetteer.get()
    facets = _catalog(seeded_builds[0]).facet_values()
    for field in ("place", "region"):
        values = [v for v, _ in facets[field] if v != UNKNOWN]
        assert values, field
        assert [v for v in values if not gaz.is_division(v)] == [], field
    levels = {v for v, _ in facets["level"]}
    assert levels <= {"乡", "镇", "街道", "县", "区", "市", "省", UNKNOWN}


def test_unknown_is_a_facet_value_and_its_filter_returns_exactly_those_documents(seeded_builds, encoder, capsys):
    index_dir = seeded_builds[0]
    docs = _catalog(index_dir).documents()
    no_place = {d.path for d in docs if not d.meta.place}
    no_year = {d.path for d in docs if d.meta.year is None}
    assert no_place and no_year
    config = Config(index_dir=index_dir)
    searcher = Searcher.open(config, encoder)
    try:
        facets = dict(searcher.facets().get("place", []))
        assert facets.get(UNKNOWN, 0) > 0
        for filters, expected in ((Filters(place=(UNKNOWN,)), no_place), (Filters(year=(UNKNOWN,)), no_year)):
            # keyword side (full-text filter fields) and the catalog's columns must agree with the truth
            response = searcher.search(SearchRequest(query="法治", mode="keyword", filters=filters, size=100))
            found = {h.path for h in response.hits}
            assert found and found <= expected
            assert searcher.facets(filters).get("place")  # facets under the filter answer too
            paths_under_filter = {d.path for d in docs if d.doc_id in _doc_ids_passing(config, filters)}
            assert paths_under_filter == expected
    finally:
        searcher.close()
    # the CLI lists them for the operator, who fills meta.csv
    assert main(["stats", "--json", "--index-dir", str(index_dir)]) == 0
    listed = {d["path"] for d in json.loads(capsys.readouterr().out)["unknown_metadata"]}
    assert listed == no_place | no_year


def _doc_ids_passing(config: Config, filters: Filters) -> set[str]:
    """The documents whose chunks the local engine's in-memory columns pass (engines/local/columns.py)."""
    engine = LocalEngine(config)
    snap = engine.open(engine.published())
    try:
        ids = snap.filter_ids(filters)
        return {f.doc_id for f in snap.facts([int(i) for i in ids]).values()}
    finally:
        snap.close()


def test_unknown_ties_with_a_year_in_search_facets(build_index):
    """A year count equal to the 未知 count: facets of a search order them as the catalog does (no int/str mix)."""
    config, report = build_index({
        "a.txt": "观音堂镇2023年法治政府建设工作报告\n\n观音堂镇开展法律明白人培训。\n",
        "b.txt": "观音堂镇法治建设简报\n\n观音堂镇开展法律明白人培训活动。\n",
    })
    assert report.exit_code == 0, report.summary()
    searcher = Searcher.open(config)
    try:
        response = searcher.search(SearchRequest(query="法律明白人", mode="keyword"))
        assert response.facets["year"] == [("2023", 1), (UNKNOWN, 1)]
        assert searcher.facets()["year"] == [("2023", 1), (UNKNOWN, 1)]
    finally:
        searcher.close()


def test_an_index_from_before_provenance_is_read_then_reparsed_on_upgrade(build_index, capsys):
    import sqlite3

    config, report = build_index({"a.txt": "观音堂镇2023年法治政府建设工作报告\n\n观音堂镇开展法律明白人培训。\n"})
    assert report.exit_code == 0, report.summary()
    # make the published catalog look like one written by pipeline 2: no provenance column, old signature
    path = GenerationLayout(GenerationStore(config.index_dir).current_path()).catalog
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE documents DROP COLUMN provenance")
        chunking = conn.execute("SELECT value FROM info WHERE key='chunking'").fetchone()[0]
        conn.execute("UPDATE info SET value=? WHERE key='chunking'",
                     (json.dumps({**json.loads(chunking), "pipeline": "2"}),))
    conn.close()
    assert main(["show", "a.txt", "--json", "--index-dir", str(config.index_dir)]) == 0  # old catalog still served
    old = json.loads(capsys.readouterr().out)
    assert old["place"] == "观音堂镇" and old["provenance"] == {}
    _, again = build_index()  # the next ordinary run re-parses every file once and records provenance
    assert again.exit_code == 0, again.summary()
    assert main(["show", "a.txt", "--json", "--index-dir", str(config.index_dir)]) == 0
    assert json.loads(capsys.readouterr().out)["provenance"]["place"] == "title/high"
