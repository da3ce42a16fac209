"""The Milvus storage layout on Milvus Lite: sentence vectors stored in the chunk rows (a searcher without the
indexer's embedding cache encodes no candidate sentence), the compact token form, and the layout options
(`vector_index`, `partition_key`): what Lite can run of them, equal to the local engine, and a change of
layout rebuilding the collections."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from indexer.core.analysis import get_analyzer
from indexer.core.filters import Filters
from indexer.engines.local.engine import LocalEngine
from indexer.engines.milvus import MilvusEngine, schema
from indexer.engines.milvus.connection import connect
from indexer.engines.milvus.sync import iterate, sync
from indexer.engines.milvus.tokens import words_of
from indexer.search.query import parse_query
from indexer.search.searcher import Searcher
from indexer.search.types import SearchRequest
from indexer.storage.catalog import Catalog
from indexer.storage.generations import GenerationStore
from tests.milvusfixtures import milvus_config

QUANTISED = schema.Layout(vector_index="hnsw_sq8", partition_key="region")


@pytest.fixture(scope="module")
def stored(sample_index, tmp_path_factory):
    """(db path, config on it) with the sample generation synced under the non-default layout."""
    db = str(tmp_path_factory.mktemp("milvus-storage") / "s.db")
    client = connect(db)
    report = sync(client, GenerationStore(sample_index.index_dir).current_path(), base="st", layout=QUANTISED)
    assert report.full
    client.close()
    return db, milvus_config(sample_index, db, "st")


@pytest.fixture(scope="module")
def pair(stored, sample_index):
    """(Milvus snapshot, local snapshot, engine, every chunk id) of the same generation."""
    engine = MilvusEngine(stored[0], collection="st")
    local_engine = LocalEngine(sample_index)
    local = local_engine.open(local_engine.published())
    cat = Catalog(GenerationStore(sample_index.index_dir).current_path() / "catalog.sqlite")
    ids = sorted(int(i) for i in cat.chunk_ids())
    cat.close()
    yield engine.open(), local, engine, ids
    local.close()
    engine.close()


def test_sentence_vectors_are_the_local_generations(pair):
    snap, local, _, ids = pair
    got = snap.sentence_vectors(ids)
    # a chunk of one sentence has none: no entry from Milvus, an empty array locally (both: its own cosine)
    want = {cid: rows for cid, rows in local.sentence_vectors(ids).items() if len(rows)}
    assert want and got.keys() == want.keys()
    for cid in want:
        assert np.array_equal(got[cid], want[cid]), cid  # the same float16 values, not re-encoded


def test_a_searcher_without_the_embedding_cache_encodes_no_sentences(stored, sample_index, searcher, encoder,
                                                                      tmp_path):
    """A serving machine has no cache of the indexer's: the sentence re-scoring reads Milvus, and ranks as
    the local engine does. (Before, every candidate's sentences were encoded here: ~5.6 s a first query.)"""
    cache = tmp_path / "fresh-embeddings.sqlite"
    config = stored[1].with_overrides({"embedding.cache": str(cache)})
    s = Searcher.open(config, encoder)
    try:
        for query in ("如何化解基层矛盾纠纷？", "推行板凳调解化解矛盾纠纷", "法治政府建设年度报告"):
            req = SearchRequest(query=query, mode="semantic")
            got = {h.chunk_id: h.score for h in s.search(req).hits}
            want = {h.chunk_id: h.score for h in searcher.search(req).hits}
            # Milvus's cosines differ from FAISS's by ~5e-5, which may swap two near-equal hits
            assert len(got.keys() & want.keys()) >= 9, query
            assert all(abs(got[c] - want[c]) < 1e-3 for c in got.keys() & want.keys()), query
    finally:
        s.close()
    if cache.exists():
        with sqlite3.connect(cache) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            assert all(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] == 0 for t in tables), tables


def test_tokens_are_compact_and_hold_the_analyzers_words(pair, sample_index):
    snap, _, engine, _ = pair
    gen = GenerationStore(sample_index.index_dir).current_path()
    cat = Catalog(gen / "catalog.sqlite")
    analyzer = get_analyzer(sample_index.analysis.user_dict)
    try:
        rows = list(iterate(engine.client, snap.chunks_collection, "id >= 0", ["id", "tokens"]))
        texts = {cid: row.text for cid, row in cat.chunks_by_id([r["id"] for r in rows]).items()}
        stored_bytes = hex_bytes = 0
        for r in rows:
            assert r["tokens"].isascii() and r["tokens"].replace(" ", "").isalnum(), r["id"]
            body = {t.text for t in analyzer.tokenize(texts[r["id"]])}
            assert body <= words_of(r["tokens"]), r["id"]
            stored_bytes += len(r["tokens"])
            hex_bytes += sum(1 + len(words_of(t).pop().encode("utf-8")) * 2 for t in r["tokens"].split())
        assert stored_bytes < 0.62 * hex_bytes, (stored_bytes, hex_bytes)  # schema 2's w+hex form
    finally:
        cat.close()


def test_quantised_index_and_region_partitions_answer_as_local(pair):
    snap, local, engine, ids = pair
    described = engine.client.describe_collection(snap.chunks_collection)
    assert [f["name"] for f in described["fields"] if f.get("is_partition_key")] == ["region"]
    indexes = {n: engine.client.describe_index(snap.chunks_collection, n) for n in engine.client.list_indexes(
        snap.chunks_collection)}
    assert any(i.get("index_type") == "HNSW_SQ" for i in indexes.values()), indexes
    assert {"place", "region", "year", "level", "kind", "doc_id", "dup_group"} <= {
        i.get("field_name") for i in indexes.values()}
    vec = local.vector(ids[3])
    assert [c for c, _ in snap.semantic(vec, 10, Filters())] == [c for c, _ in local.semantic(vec, 10, Filters())]
    for region, _ in local.facet_values(Filters())["region"]:
        f = Filters(region=(region,))
        assert [c for c, _ in snap.semantic(vec, 20, f)] == [c for c, _ in local.semantic(vec, 20, f)], region
        assert sorted(c for c, _ in snap.keyword(parse_query("法治"), 1000, f)) == \
            sorted(c for c, _ in local.keyword(parse_query("法治"), 1000, f)), region


def test_a_change_of_layout_rebuilds_the_collections(sample_index, tmp_path):
    db = str(tmp_path / "l.db")
    gen = GenerationStore(sample_index.index_dir).current_path()
    client = connect(db)
    try:
        assert sync(client, gen, base="lay").full
        assert not sync(client, gen, base="lay").full  # same layout: incremental (a no-op)
        again = sync(client, gen, base="lay", layout=schema.Layout(partition_key="year"))
        assert again.full
        name = client.describe_alias("lay")["collection_name"]
        assert [f["name"] for f in client.describe_collection(name)["fields"] if f.get("is_partition_key")] == ["year"]
    finally:
        client.close()
    with pytest.raises(ValueError, match="partition_key"):
        schema.Layout(partition_key="place")


def test_a_rebuild_holds_at_most_two_copies_and_the_replaced_one_goes_after_its_grace(sample_index, tmp_path,
                                                                                       monkeypatch):
    """At 10M chunks a copy is tens of GB: a rebuild writes its pair beside the published one only (the pair
    before that is dropped first), and the replaced pair is dropped by the first run after the grace."""
    from indexer.engines.milvus import sync as sync_module

    db = str(tmp_path / "g.db")
    gen = GenerationStore(sample_index.index_dir).current_path()
    client = connect(db)
    seen: dict[str, int] = {}
    real = sync_module.checkpoint

    def pairs_at(stage: str) -> None:
        seen[stage] = len([n for n in client.list_collections() if n.startswith("gr_chunks_")])
        real(stage)

    monkeypatch.setattr(sync_module, "checkpoint", pairs_at)
    try:
        for _ in range(3):
            assert sync(client, gen, base="gr", full=True).full
            assert seen["milvus-alias"] <= 2, seen  # the new pair and the published one
        assert len([n for n in client.list_collections() if n.startswith("gr_")]) == 4  # + the replaced pair
        assert not sync(client, gen, base="gr").dropped  # within the grace: kept for its readers
        monkeypatch.setattr(sync_module, "PREVIOUS_GRACE_S", 0.0)
        assert len(sync(client, gen, base="gr").dropped) == 2
        published = client.describe_alias("gr")["collection_name"]
        assert sorted(n for n in client.list_collections() if n.startswith("gr_")) == sorted(
            [published, schema.docs_of(published)])
    finally:
        client.close()
