"""Figures extracted at indexing (issue 30 point 1): the build stores each chunk's figures in the catalog, replaces
a changed report's, removes a deleted report's, carries the others across incremental runs, and fills a catalog
written before figures were stored."""
from __future__ import annotations

import sqlite3

from indexer.pipeline.figures import EXTRACTOR_VERSION, extract_figures
from indexer.search.figures import FiguresRequest
from indexer.search.searcher import Searcher
from indexer.storage.catalog import Catalog
from indexer.storage.generations import GenerationStore

A_2023 = "三都镇2023年法治政府建设年度报告\n今年以来,化解信访积案6起,调解矛盾纠纷156件,调解成功率98%。\n" \
         "开展法治宣传活动32场次,覆盖群众2万余人次。\n"
A_2024 = "三都镇2023年法治政府建设年度报告\n今年以来,化解信访积案9起,调解矛盾纠纷200件,调解成功率99%。\n" \
         "开展法治宣传活动32场次,覆盖群众2万余人次。\n"
B_2023 = "城关镇2023年法治政府建设年度报告\n全年投入法治建设经费26.2万余元,编印普法短句604条。\n"


def published(config) -> Catalog:
    return Catalog(GenerationStore(config.index_dir).current_path() / "catalog.sqlite")


def stored(config) -> dict[str, list[tuple]]:
    """path -> (sentence, as_written, value, qualifier, unit, measure) of every stored figure, in reading order."""
    cat = published(config)
    try:
        out: dict[str, list[tuple]] = {}
        for doc in cat.documents():
            chunks = cat.chunks_of(doc.doc_id)
            figures = cat.figures(c.chunk_id for c in chunks)
            out[doc.path] = [(c.text[f.sentence_start:f.sentence_end], c.text[f.start:f.end], f.value, f.qualifier,
                              f.unit, f.measure) for c in chunks for f in figures.get(c.chunk_id, [])]
        return out
    finally:
        cat.close()


def measure_vectors(config) -> tuple[set[str], set[str]]:
    """(the measures the published catalog holds vectors of, the distinct measures of its figures)."""
    cat = published(config)
    try:
        conn = cat.connect()
        return ({m for m, in conn.execute("SELECT measure FROM measure_vectors")},
                {m for m, in conn.execute("SELECT DISTINCT measure FROM figures WHERE measure <> ''")})
    finally:
        cat.close()


def expected(text: str) -> list[tuple]:
    return [(f.sentence, f.as_written, f.value, f.qualifier, f.unit, f.measure)
            for line in text.splitlines()[1:] for f in extract_figures(line)]


def test_build_stores_each_chunks_figures_and_keeps_them_in_step_with_the_reports(build_index) -> None:
    config, report = build_index({"a.txt": A_2023, "b.txt": B_2023})
    assert report.exit_code == 0 and report.figures_scanned == report.chunks
    figures = stored(config)
    assert figures == {"a.txt": expected(A_2023), "b.txt": expected(B_2023)}
    assert ("6", 6.0, "", "起", "化解信访积案") == figures["a.txt"][0][1:]
    assert ("2万余", 20000.0, "余", "人次") == figures["a.txt"][4][1:5]
    assert ("26.2万余", 262000.0, "余", "元") == figures["b.txt"][0][1:5]
    vectors, measures = measure_vectors(config)  # one vector per distinct measure, for the 数据 table's grouping
    assert vectors == measures and {"化解信访积案", "编印普法短句"} <= measures

    # a changed report's figures are replaced; only its changed chunk is scanned; the other report's carried over
    config, report = build_index({"a.txt": A_2024})
    assert report.figures_scanned == 1
    figures = stored(config)
    assert figures == {"a.txt": expected(A_2024), "b.txt": expected(B_2023)}
    assert [f[1] for f in figures["a.txt"][:3]] == ["9", "200", "99"]

    # a deleted report's figures are removed with it (no row of its chunks is left in the catalog)
    (build_index.corpus / "b.txt").unlink()
    config, report = build_index()
    assert stored(config) == {"a.txt": expected(A_2024)}
    vectors, measures = measure_vectors(config)  # the deleted report's measures are pruned with it
    assert vectors == measures and "编印普法短句" not in vectors
    cat = published(config)
    try:
        conn = cat.connect()
        orphans = conn.execute("SELECT COUNT(*) FROM figures WHERE chunk_id NOT IN (SELECT chunk_id FROM chunks)")
        assert orphans.fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM figure_scans").fetchone()[0] == cat.chunk_count()
    finally:
        cat.close()

    # a full rebuild gives the same rows
    config, report = build_index(full=True)
    assert stored(config) == {"a.txt": expected(A_2024)}


def test_a_catalog_from_before_figures_is_filled_by_the_next_run_and_read_meanwhile(build_index, encoder) -> None:
    config, _ = build_index({"a.txt": A_2023})
    path = GenerationStore(config.index_dir).current_path() / "catalog.sqlite"
    with sqlite3.connect(path) as conn:  # what a generation published before this feature looks like
        conn.execute("DROP TABLE figures")
        conn.execute("DROP TABLE figure_scans")
        conn.execute("DROP TABLE measure_vectors")
    cat = published(config)
    try:
        ids = [c.chunk_id for c in cat.chunks_of(cat.documents()[0].doc_id)]
        assert cat.figures(ids) is None  # the reader then derives them from the text (engines/local)
    finally:
        cat.close()
    searcher = Searcher.open(config, encoder)
    try:
        rows = searcher.figures(FiguresRequest("法治")).rows
    finally:
        searcher.close()
    lines = "\n".join(line for line in A_2023.splitlines() if "法治" in line)  # the first is the title
    assert [(r.sentence, r.as_written, r.value, r.qualifier, r.unit, r.measure) for r in rows] == expected(lines)
    assert len(rows) == 2
    # (the catalog was edited after publishing: its checksum no longer matches, which would force a rebuild)
    config, report = build_index({"b.txt": B_2023}, verify_index_checksums=False)
    assert not report.repairs and report.unchanged == 1, report.repairs  # an incremental run on the old catalog
    assert report.figures_scanned == report.chunks  # every chunk: the old catalog had no figures stored
    assert stored(config) == {"a.txt": expected(A_2023), "b.txt": expected(B_2023)}
    vectors, measures = measure_vectors(config)
    assert vectors == measures and measures


def test_a_new_extractor_version_extracts_every_chunk_again(build_index) -> None:
    config, _ = build_index({"a.txt": A_2023})
    path = GenerationStore(config.index_dir).current_path() / "catalog.sqlite"
    with sqlite3.connect(path) as conn:  # as if written by an older version of the rules
        conn.execute("UPDATE figure_scans SET extractor = ?", (EXTRACTOR_VERSION + "-old",))
        conn.execute("DELETE FROM figures")
    config, report = build_index({"b.txt": B_2023}, verify_index_checksums=False)
    assert not report.repairs and report.unchanged == 1, report.repairs
    assert report.figures_scanned == report.chunks
    assert stored(config) == {"a.txt": expected(A_2023), "b.txt": expected(B_2023)}


def test_one_searcher_answers_from_the_new_generation_after_a_reindex(build_index, encoder) -> None:
    """Searcher.figures keeps recent tables (search/figures.py FiguresCache): asked again, re-sorted, or after
    the report changed and was reindexed, the rows are those of the index as published now. As a server's
    searcher (prepare_figures), it readies the new generation's figures as soon as it switches to it, in the
    background, not in the first 数据 request after a reindex."""
    import time

    config, _ = build_index({"a.txt": A_2023})
    searcher = Searcher.open(config, encoder)
    searcher.prepare_figures()
    try:
        def values(sort: str = "place", desc: bool = False) -> list[float]:
            return [r.value for r in searcher.figures(FiguresRequest("调解", sort=sort, descending=desc)).rows]

        first = values()
        assert 156 in first and values() == first  # asked again: the same rows
        assert values("value", True) == sorted(first, reverse=True)
        build_index({"a.txt": A_2024})  # 156 -> 200 件, 98 -> 99 %
        new_generation = searcher.health()["generation"]  # any call switches to the published generation
        deadline = time.monotonic() + 30
        with searcher.snapshot() as snap:
            assert snap.name == new_generation
            while snap._figure_columns is None and time.monotonic() < deadline:  # loaded by a background thread
                time.sleep(0.05)
            assert snap._figure_columns is not None
        after = values()
        assert 200 in after and 156 not in after and len(after) == len(first)
    finally:
        searcher.close()
