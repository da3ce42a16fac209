"""The Milvus engine against Milvus Lite (a local file, and a Lite server in another process), compared with
the local generation it was synced from. No network: Lite runs in-process or on 127.0.0.1."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.core.filters import Filters  # noqa: E402
from indexer.storage.catalog import Catalog  # noqa: E402
from indexer.engines.milvus import MilvusEngine, MilvusUnavailable  # noqa: E402
from indexer.engines.milvus.connection import connect  # noqa: E402
from indexer.engines.milvus.sync import iterate, sync  # noqa: E402
from indexer.storage.fulltext.factory import open_fulltext  # noqa: E402
from indexer.storage.generations import GenerationStore  # noqa: E402
from indexer.search.query import parse_query  # noqa: E402
from tests.milvusfixtures import lite_server  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _gen(config) -> Path:
    return GenerationStore(config.index_dir).current_path()


@pytest.fixture(scope="module")
def lite(sample_index, tmp_path_factory):
    """The sample generation synced into a fresh Lite file; (engine, config, generation path, db path)."""
    db = tmp_path_factory.mktemp("milvus") / "x.db"
    client = connect(str(db))
    report = sync(client, _gen(sample_index), base="rs")
    assert report.full and report.chunks_upserted > 0
    client.close()
    engine = MilvusEngine(str(db), collection="rs")
    yield engine, sample_index, _gen(sample_index), db
    engine.close()


def _local_keyword(config, gen: Path, text: str, limit: int = 100, filters: Filters = Filters()) -> list[int]:
    ft = open_fulltext(gen / "fulltext", config)
    try:
        return [cid for cid, _ in ft.search(parse_query(text), limit, filters)]
    finally:
        ft.close()


def _chunk_texts(gen: Path, ids) -> dict[int, str]:
    cat = Catalog(gen / "catalog.sqlite")
    try:
        return {c: r.text for c, r in cat.chunks_by_id(ids).items()}
    finally:
        cat.close()


def test_counts_and_rows_equal_the_generation(lite):
    engine, _, gen, _ = lite
    snap = engine.open()
    cat = Catalog(gen / "catalog.sqlite")
    assert snap.counts() == (cat.document_count(), cat.chunk_count())
    ids = [int(i) for i in cat.chunk_ids()]
    assert snap.chunks(ids) == cat.chunks_by_id(ids)
    doc = cat.documents()[0]
    assert snap.documents([doc.doc_id]) == {doc.doc_id: doc}
    assert snap.paragraphs(doc.doc_id) == cat.paragraphs(doc.doc_id)
    assert snap.document_chunks(doc.doc_id) == cat.chunks_of(doc.doc_id)
    assert snap.facet_values(Filters()) == cat.facet_values(filters=Filters())
    assert snap.word_offsets(ids[:5]) == cat.word_offsets(ids[:5])
    cat.close()


def test_keyword_finds_xinqiao_for_petition_backlog(lite):
    engine, _, gen, _ = lite
    hits = engine.open().keyword(parse_query("信访积案化解做法"), 10, Filters())
    texts = _chunk_texts(gen, [c for c, _ in hits])
    assert any("心桥工程" in texts[c] for c, _ in hits[:5])
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0  # higher is better, whatever Lite's sign


def test_exact_phrase_gives_the_local_engines_chunks(lite):
    engine, config, gen, _ = lite
    local = _local_keyword(config, gen, '"小事不出村"')
    milvus = [c for c, _ in engine.open().keyword(parse_query('"小事不出村"'), 100, Filters())]
    assert len(local) == 3 and sorted(milvus) == sorted(local)


def test_not_and_and_are_rechecked(lite):
    engine, config, gen, _ = lite
    snap = engine.open()
    for q in ("信访 -心桥", "信访 AND 矛盾", "调解 OR 信访 -村"):
        local = _local_keyword(config, gen, q, 1000)
        milvus = [c for c, _ in snap.keyword(parse_query(q), 1000, Filters())]
        assert sorted(milvus) == sorted(local), q


def test_semantic_finds_anti_fraud_for_elderly(lite, encoder):
    engine, _, gen, _ = lite
    vec = encoder.encode(["老年人被骗了怎么办"])[0]
    snap = engine.open()
    hits = snap.semantic(vec, 3, Filters())
    rows = snap.chunks([c for c, _ in hits])
    docs = snap.documents({r.doc_id for r in rows.values()})
    assert any(docs[r.doc_id].meta.place == "张茅乡" and "防养老诈骗" in r.text for r in rows.values())
    within = [c for c, _ in hits[1:]]
    assert [c for c, _ in snap.semantic(vec, 3, Filters(), within=within)] == within


def test_filters_restrict(lite, encoder):
    engine, _, gen, _ = lite
    snap = engine.open()
    place = snap.facet_values(Filters())["place"][0][0]
    f = Filters(place=(place,))
    kw = snap.keyword(parse_query("法治"), 200, f)
    sem = snap.semantic(encoder.encode(["法治政府建设"])[0], 50, f)
    facts = snap.facts([c for c, _ in kw + sem])
    assert kw and sem and {x.place for x in facts.values()} == {place}
    kind = snap.facet_values(Filters())["kind"][0][0]
    facts = snap.facts([c for c, _ in snap.keyword(parse_query("法治"), 200, Filters(kind=(kind,)))])
    assert facts and {x.kind for x in facts.values()} == {kind}


HOSTILE = ['"]) or (', 'a"b', 'x\\', '\\"', "a\nb", '" or id >= 0 or place == "', "张茅乡\" or \"1\"==\"1", "'",
           "\x01"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_filter_values_match_only_literally(lite, encoder, value):
    engine, _, _, _ = lite
    snap = engine.open()
    for f in (Filters(place=(value,)), Filters(kind=(value,)), Filters(region=(value,), level=(value,))):
        assert snap.keyword(parse_query("法治"), 50, f) == []
        assert snap.semantic(encoder.encode(["法治"])[0], 50, f) == []
        assert all(v == [] for v in snap.facet_values(f).values())


def test_hostile_value_that_exists_matches_itself_only(tmp_path, sample_index, encoder):
    """A stored place spelled like an injection matches exactly its own rows."""
    import shutil as sh
    gen = _gen(sample_index)
    copy = tmp_path / "gen"
    sh.copytree(gen, copy)
    cat = Catalog(copy / "catalog.sqlite", readonly=False)
    doc = cat.documents()[0]
    evil = '张茅乡"] or (place != "\\x'
    with cat.connect() as conn:
        conn.execute("UPDATE documents SET place=? WHERE doc_id=?", (evil, doc.doc_id))
    n_evil = len(cat.chunks_of(doc.doc_id))
    cat.close()
    client = connect(str(tmp_path / "x.db"))
    sync(client, copy, base="rs")
    client.close()
    engine = MilvusEngine(str(tmp_path / "x.db"), collection="rs")
    snap = engine.open()
    hits = snap.semantic(encoder.encode(["法治"])[0], 500, Filters(place=(evil,)))
    assert len(hits) == n_evil and {f.doc_id for f in snap.facts([c for c, _ in hits]).values()} == {doc.doc_id}
    engine.close()


def test_incremental_sync_and_alias_swap(build_index, tmp_path):
    files = {f.name: f.read_text(encoding="utf-8") for f in sorted((REPO / "corpora" / "fazhi-2023").iterdir())
             if f.suffix == ".txt"}
    assert len(files) >= 3
    config, report = build_index(files)
    db = str(tmp_path / "x.db")
    client = connect(db)
    sync(client, _gen(config), base="rs")
    engine = MilvusEngine(db, collection="rs", alias_ttl=0)  # see a swap at once
    first = engine.stamp()

    names = sorted(files)
    (build_index.corpus / names[0]).unlink()
    changed = files[names[1]].replace("。", "。新增一句测试文字，心桥工程继续推进。", 1)
    config, report = build_index({names[1]: changed})
    rep = sync(client, _gen(config), base="rs")
    assert not rep.full and rep.chunks_deleted > 0 and rep.chunks_upserted > 0 and rep.docs_deleted == 1
    assert engine.stamp() == first  # incremental: same collection, in place
    cat = Catalog(_gen(config) / "catalog.sqlite")
    snap = engine.open()
    want = sorted(int(i) for i in cat.chunk_ids())
    assert sorted(int(r["id"]) for r in iterate(client, snap.chunks_collection, "id != -1", ["id"])) == want
    assert snap.counts() == (cat.document_count(), cat.chunk_count())
    assert any("新增一句测试文字" in r.text for r in snap.chunks(want).values())

    # rename one report and add a new one: paths follow, the new report is searchable on Milvus
    (build_index.corpus / names[2]).rename(build_index.corpus / ("renamed-" + names[2]))
    added = "某某镇2023年法治政府建设年度报告\n一、主要做法\n开展“法润乡邻”调解试点，建立村级调解员名册。\n"
    config, report = build_index({"zz-new.txt": added})
    rep = sync(client, _gen(config), base="rs")
    assert not rep.full and rep.docs_upserted >= 2
    cat.close()
    cat = Catalog(_gen(config) / "catalog.sqlite")
    snap = engine.open()
    local_paths = {d.doc_id: d.path for d in cat.documents()}
    assert {d: row.path for d, row in snap.documents(local_paths).items()} == local_paths
    ids = sorted(int(i) for i in cat.chunk_ids())
    assert {c: r.doc_id for c, r in snap.chunks(ids).items()} == {c: r.doc_id for c, r in cat.chunks_by_id(ids).items()}
    hits = snap.keyword(parse_query('"法润乡邻"'), 10, Filters())
    assert [snap.chunks([c])[c].doc_id for c, _ in hits] == [d for d, p in local_paths.items() if p == "zz-new.txt"]

    old = engine.open()
    rep = sync(client, _gen(config), base="rs", full=True)
    assert rep.full and engine.stamp() != first
    assert engine.open().counts() == (cat.document_count(), cat.chunk_count())
    assert old.counts() == (cat.document_count(), cat.chunk_count())  # the previous pair stays readable
    cat.close()
    client.close()
    engine.close()


def test_unreachable_uri_is_one_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    uri = f"http://127.0.0.1:{port}"
    with pytest.raises(MilvusUnavailable) as info:
        MilvusEngine(uri, collection="rs")
    msg = str(info.value)
    assert uri in msg and "\n" not in msg and len(msg) < 300


READER = r"""
import json, sys
from indexer.engines.milvus import MilvusEngine
from indexer.search.query import parse_query
from indexer.core.filters import Filters
engine = MilvusEngine(sys.argv[1], collection="rs")
snap = engine.open()
hits = snap.keyword(parse_query('"小事不出村"'), 100, Filters())
print(json.dumps({"stamp": engine.stamp(), "counts": snap.counts(), "ids": sorted(c for c, _ in hits)}))
"""


def test_lite_server_written_by_one_process_read_by_another(sample_index, tmp_path):
    with lite_server(tmp_path / "srv") as (uri, proc):
        client = connect(uri)
        gen = _gen(sample_index)
        sync(client, gen, base="rs")
        local = _local_keyword(sample_index, gen, '"小事不出村"')
        out = subprocess.run([sys.executable, "-c", READER, uri], capture_output=True, text=True, timeout=120,
                             cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert out.returncode == 0, out.stderr[-2000:]
        seen = json.loads(out.stdout.strip().splitlines()[-1])
        cat = Catalog(gen / "catalog.sqlite")
        assert seen["counts"] == [cat.document_count(), cat.chunk_count()]
        assert seen["ids"] == sorted(local) and len(local) == 3
        cat.close()

        engine = MilvusEngine(uri, collection="rs")
        snap = engine.open()
        os.kill(proc.pid, signal.SIGTERM)  # the server goes away under a reader and a writer
        proc.wait(timeout=20)
        for call in (snap.counts, engine.open, lambda: snap.keyword(parse_query("信访"), 10, Filters()),
                     lambda: sync(client, gen, base="rs", full=True, uri=uri)):
            with pytest.raises(MilvusUnavailable) as info:
                call()
            assert uri in str(info.value) and "\n" not in str(info.value)
        client.close()


def test_config_selects_the_milvus_engine(lite):
    from indexer.core.config import Config
    from indexer.engines.factory import open_engine

    _, _, gen, db = lite
    engine = open_engine(Config().with_overrides({"engine": "milvus", "milvus_uri": str(db),
                                                  "milvus_collection": "rs"}))
    cat = Catalog(gen / "catalog.sqlite")
    assert engine.open().counts() == (cat.document_count(), cat.chunk_count())
    cat.close()
    with pytest.raises(ValueError, match="engine"):
        open_engine(Config().with_overrides({"engine": "elastic"}))
