"""Incremental reindexing, generations, locking and bad input (issues 2 and 4), with real parts."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from indexer.build.index import Index
from indexer.storage.catalog import Catalog
from indexer.storage.generations import GenerationStore, IndexLock
from indexer.search.searcher import Searcher
from indexer.search.types import SearchRequest

REPO = Path(__file__).resolve().parents[2]


def report(place: str, practice: str, problem: str = "乡镇执法人员数量不足，专业化水平有待进一步提高，法治宣传形式还比较单一。") -> str:
    return (
        f"{place}2023年法治政府建设工作报告\n\n"
        f"2023年，{place}坚持以习近平法治思想为指导，认真落实法治政府建设各项任务，现将有关情况报告如下。\n\n"
        "一、主要做法和成效\n\n"
        f"{practice}\n\n"
        "二、存在问题\n\n"
        f"{problem}\n\n"
        f"{place}人民政府\n2024年1月15日\n"
    )


BENCH = "石门乡创新推行“板凳调解”工作法，组织老党员、老干部在村口板凳上调解邻里纠纷，全年化解矛盾五十余起。"
LAWYER = "青山镇为每个行政村聘请一名法律顾问，每月到村坐班一天，为群众提供免费法律咨询二百余人次。"
FRAUD = "柳林乡开展防范电信诈骗宣传进农户活动，发放宣传资料三千余份，群众识骗防骗能力明显提升。"


_ENCODER: list = [None]  # the session's model, so each short-lived Searcher does not reload it


@pytest.fixture(autouse=True)
def _share_encoder(encoder):
    _ENCODER[0] = encoder


def hits(config, query: str, mode: str = "hybrid", **kw):
    s = Searcher.open(config, _ENCODER[0])
    try:
        return s.search(SearchRequest(query=query, mode=mode, size=50, **kw)).hits
    finally:
        s.close()


def test_add_change_rename_delete_cycle(build_index):
    config, rep = build_index({"a.txt": report("石门乡", BENCH), "b.txt": report("青山镇", LAWYER)})
    assert rep.exit_code == 0 and sorted(rep.added) == ["a.txt", "b.txt"]
    assert any("板凳调解" in h.text for h in hits(config, "板凳调解", "keyword"))

    # add
    _, rep = build_index({"sub/c.txt": report("柳林乡", FRAUD)})
    assert rep.added == ["sub/c.txt"] and rep.unchanged == 2 and rep.embedded > 0
    assert {h.place for h in hits(config, "电信诈骗", "keyword")} == {"柳林乡"}

    # change: the old wording is gone from both retrievers, the new one is found
    new_practice = LAWYER.replace("法律顾问", "驻村律师").replace("免费法律咨询", "公益法律服务")
    _, rep = build_index({"b.txt": report("青山镇", new_practice)})
    assert rep.changed == ["b.txt"] and rep.unchanged == 2
    assert not [h for h in hits(config, "免费法律咨询", "keyword")]
    assert any("驻村律师" in h.text for h in hits(config, "驻村律师", "keyword"))
    assert not any("免费法律咨询" in h.text for h in hits(config, "为群众提供免费法律咨询", "semantic"))

    # rename: same content, new path; nothing is re-embedded and the document keeps its id
    before = {h.path: h.doc_id for h in hits(config, "板凳调解", "keyword")}
    os.rename(build_index.corpus / "a.txt", build_index.corpus / "a-renamed.txt")
    _, rep = build_index()
    assert rep.renamed == [["a.txt", "a-renamed.txt"]] and rep.embedded == 0
    after = {h.path: h.doc_id for h in hits(config, "板凳调解", "keyword")}
    assert list(after) == ["a-renamed.txt"] and list(after.values()) == list(before.values())

    # delete: gone from keyword and semantic results
    (build_index.corpus / "sub" / "c.txt").unlink()
    _, rep = build_index()
    assert rep.deleted == ["sub/c.txt"]
    assert not hits(config, "电信诈骗", "keyword")
    assert not any(h.place == "柳林乡" for h in hits(config, "防范电信诈骗宣传", "semantic"))


def test_no_change_run_embeds_nothing_and_full_rebuild_uses_the_cache(build_index):
    build_index({"a.txt": report("石门乡", BENCH), "b.txt": report("青山镇", LAWYER)})
    _, rep = build_index()
    assert rep.exit_code == 0 and rep.unchanged == 2 and rep.embedded == 0 and not rep.changed
    _, rep = build_index(full=True)
    assert rep.exit_code == 0 and rep.embedded == 0 and rep.embedding_cache_hits == rep.chunks


def test_bad_files_are_reported_by_name_and_the_rest_is_indexed(build_index):
    files = {
        "good.txt": report("石门乡", BENCH),
        "empty.txt": "",
        "binary.txt": bytes(range(256)) * 20,
        "undecodable.txt": bytes([0x80, 0xFF, 0x80, 0xFE]) * 300,
        "headings.txt": "一、工作开展情况\n\n（一）加强组织领导\n\n二、存在问题\n",
    }
    config, rep = build_index(files)
    assert rep.exit_code == 1 and rep.status == "partial"
    failed = {f["path"]: f["reason"] for f in rep.failures}
    assert set(failed) == {"empty.txt", "binary.txt", "undecodable.txt", "headings.txt"}
    assert "empty" in failed["empty.txt"]
    assert "heading" in failed["headings.txt"]
    assert any("板凳调解" in h.text for h in hits(config, "板凳调解", "keyword"))
    summary = (build_index.index_dir / "index-report.txt").read_text(encoding="utf-8")
    assert "FAILED: binary.txt" in summary
    saved = json.loads((build_index.index_dir / "index-report.json").read_text(encoding="utf-8"))
    assert saved["exit_code"] == 1


def test_a_file_that_breaks_keeps_its_previous_version_and_is_retried(build_index):
    config, _ = build_index({"a.txt": report("石门乡", BENCH), "b.txt": report("青山镇", LAWYER)})
    (build_index.corpus / "b.txt").write_bytes(b"\x00\x01binary garbage\x00" * 100)
    _, rep = build_index()
    assert rep.exit_code == 1
    assert rep.failures[0]["path"] == "b.txt" and rep.failures[0]["kept_previous"]
    assert any("法律顾问" in h.text for h in hits(config, "法律顾问", "keyword")), "previous version still served"
    # a full rebuild keeps it too
    _, rep = build_index(full=True)
    assert rep.exit_code == 1 and any("法律顾问" in h.text for h in hits(config, "法律顾问", "keyword"))
    # fixed: retried and updated
    (build_index.corpus / "b.txt").write_text(report("青山镇", LAWYER.replace("法律顾问", "驻村律师")), encoding="utf-8")
    _, rep = build_index()
    assert rep.exit_code == 0 and rep.changed == ["b.txt"]
    assert not hits(config, "法律顾问", "keyword")


def test_duplicate_files_are_indexed_once_with_both_paths(build_index):
    config, rep = build_index({"a.txt": report("石门乡", BENCH), "copy/a-copy.txt": report("石门乡", BENCH)})
    assert rep.duplicates == [["copy/a-copy.txt", "a.txt"]]
    found = [h for h in hits(config, "板凳调解", "keyword")]
    assert len(found) == 1
    s = Searcher.open(config, _ENCODER[0])
    try:
        assert s.document(found[0].doc_id).other_paths == ["copy/a-copy.txt"]
    finally:
        s.close()


def test_second_run_is_refused_while_the_lock_is_held_and_a_stale_lock_is_taken_over(build_index):
    config, _ = build_index({"a.txt": report("石门乡", BENCH)})
    lock = IndexLock(Path(config.index_dir) / "index.lock")
    lock.acquire()
    try:
        rep = Index(config, _ENCODER[0]).build(progress=False)
        assert rep.exit_code == 2
        assert f"PID {os.getpid()}" in rep.error and "started" in rep.error
    finally:
        lock.release()
    # a crashed holder: its PID is gone and the kernel dropped its flock
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (Path(config.index_dir) / "index.lock").write_text(json.dumps({"pid": int(dead.stdout), "started": "x"}))
    rep = Index(config, _ENCODER[0]).build(progress=False)
    assert rep.exit_code == 0


def test_old_generations_are_pruned_but_not_while_a_reader_uses_them(build_index):
    config, _ = build_index({"a.txt": report("石门乡", BENCH)}, keep_generations=1)
    store = GenerationStore(config.index_dir)
    first = store.current_name()
    reader = Searcher.open(config, _ENCODER[0])  # holds generation `first`
    try:
        build_index({"b.txt": report("青山镇", LAWYER)}, keep_generations=1)
        assert first in store.names(), "a generation in use is kept"
        assert any(h.place == "青山镇" for h in reader.search(SearchRequest("法律顾问")).hits), "reader switched"
    finally:
        reader.close()
    build_index({"c.txt": report("柳林乡", FRAUD)}, keep_generations=1)
    assert store.names() == [store.current_name()]


def test_concurrent_searches_during_three_publishes_never_fail_and_stay_consistent(build_index):
    config, _ = build_index({"a.txt": report("石门乡", BENCH)}, keep_generations=10)
    searcher = Searcher.open(config, _ENCODER[0])
    answers, errors = [], []
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            try:
                r = searcher.search(SearchRequest("调解纠纷 法律顾问 诈骗", size=20))
                answers.append((r.generation, [h.chunk_id for h in r.hits]))
            except Exception as exc:  # any failure is a test failure
                errors.append(repr(exc))

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        for name, practice in (("b.txt", LAWYER), ("c.txt", FRAUD), ("a.txt", BENCH.replace("五十", "六十"))):
            _, rep = build_index({name: report({"a": "石门乡", "b": "青山镇", "c": "柳林乡"}[name[0]], practice)}, keep_generations=10)
            assert rep.exit_code == 0
            time.sleep(0.3)
    finally:
        stop.set()
        thread.join()
        searcher.close()
    assert not errors
    gens = {g for g, _ in answers}
    assert len(gens) >= 3, gens
    store = GenerationStore(config.index_dir)
    for gen in gens:
        cat = Catalog(store.gen_root / gen / "catalog.sqlite")
        ids = set(cat.chunk_ids().tolist())
        cat.close()
        for g, chunk_ids in answers:
            if g == gen:
                assert set(chunk_ids) <= ids, f"an answer labelled {gen} holds chunks of another generation"


@pytest.mark.parametrize("stage", ["parse", "fulltext", "figures", "embed", "faiss", "publish"])
def test_a_run_killed_at_any_stage_leaves_the_published_index_serving(build_index, stage):
    config, _ = build_index({"a.txt": report("石门乡", BENCH), "b.txt": report("青山镇", LAWYER)})
    store = GenerationStore(config.index_dir)
    published = store.current_name()
    (build_index.corpus / "c.txt").write_text(report("柳林乡", FRAUD), encoding="utf-8")
    (build_index.corpus / "a.txt").write_text(report("石门乡", BENCH.replace("板凳", "长凳")), encoding="utf-8")
    env = dict(os.environ, REPORTSEARCH_PAUSE_AT=stage, REPORTSEARCH_EMBEDDING_CACHE=str(config.embedding.cache))
    proc = subprocess.Popen(
        [sys.executable, "-m", "indexer.cli", "index", str(build_index.corpus), "--index-dir", str(config.index_dir),
         "--no-progress"],
        cwd=REPO, env=env, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.time() + 120
    for line in proc.stderr:
        if f"pausing at stage {stage}" in line:
            break
        assert time.time() < deadline, "the run never reached the stage"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert store.current_name() == published
    assert any("板凳调解" in h.text for h in hits(config, "板凳调解", "keyword")), "old generation still answers"
    assert not hits(config, "电信诈骗", "keyword")
    _, rep = build_index()
    assert rep.exit_code == 0 and store.current_name() != published
    assert not [p for p in store.gen_root.iterdir() if ".build-" in p.name], "debris cleaned up"
    assert any("长凳调解" in h.text for h in hits(config, "长凳调解", "keyword"))
    assert {h.place for h in hits(config, "电信诈骗", "keyword")} == {"柳林乡"}


def _offsets_state(config) -> tuple[set[int], set[int]]:
    """(ids of all chunks, ids of chunks with stored word offsets) of the published generation."""
    cat = Catalog(GenerationStore(config.index_dir).current_path() / "catalog.sqlite")
    try:
        ids = {c.chunk_id for c in cat.iter_chunks()}
        return ids, set(cat.word_offsets(ids))
    finally:
        cat.close()


def test_every_chunk_keeps_stored_word_offsets_across_incremental_runs(build_index):
    """Highlighting reads the words the index saw from the catalog; new, changed and carried-over chunks
    all have them, and a catalog written before they were stored gets them on the next run."""
    config, _ = build_index({"a.txt": report("石门乡", BENCH), "b.txt": report("青山镇", LAWYER)})
    ids, stored = _offsets_state(config)
    assert ids and stored == ids
    _, rep = build_index({"c.txt": report("柳林乡", FRAUD), "b.txt": report("青山镇", LAWYER + "另有新增内容一段。")})
    assert rep.changed == ["b.txt"]
    ids, stored = _offsets_state(config)
    assert stored == ids

    # An index from before the table existed: drop it from the published catalog (as such a file looks).
    path = GenerationStore(config.index_dir).current_path() / "catalog.sqlite"
    import sqlite3
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE word_offsets")
    assert [h.highlighted for h in hits(config, "板凳调解", "keyword")][0].count("<mark>") >= 1  # still served
    _, rep = build_index({"d.txt": report("桃源镇", BENCH.replace("石门乡", "桃源镇"))})
    assert rep.exit_code == 0
    ids, stored = _offsets_state(config)
    assert stored == ids


def test_a_changed_dictionary_makes_the_next_run_reread_every_file(build_index, tmp_path):
    """Words cut with another dictionary would not match the query side's: a new user dictionary (or a
    changed lexicon) re-reads every file instead of mixing two segmentations in one index."""
    from indexer.core import analysis

    config, _ = build_index({"a.txt": report("石门乡", BENCH), "b.txt": report("青山镇", LAWYER)})
    assert [h.place for h in hits(config, "板凳上调解", "keyword")] == ["石门乡"]
    user_dict = tmp_path / "user.txt"
    user_dict.write_text("板凳上调解 100000 n\n", encoding="utf-8")
    try:
        with_dict, rep = build_index(user_dict=str(user_dict))
        assert sorted(rep.changed) == ["a.txt", "b.txt"] and rep.unchanged == 0
        found = hits(with_dict, "板凳上调解", "keyword")
        # The query is now one word; an index still holding the old words (板凳/上/调解) would not find it.
        assert [h.place for h in found] == ["石门乡"]
        assert "<mark>板凳上调解</mark>" in found[0].highlighted
    finally:
        analysis.configure(None)  # the process-wide query analyzer: back to the other tests' dictionary


def test_incremental_runs_extend_the_approximate_vector_index_and_never_show_removed_chunks(build_index):
    """With HNSW (forced here by a threshold of 1 vector), an incremental run adds its new chunks to the
    previous graph; the vectors of a deleted report stay in the graph as stale entries, but no search
    returns them."""
    config, rep = build_index({"a.txt": report("石门乡", BENCH), "b.txt": report("青山镇", LAWYER)}, ann_threshold=1)
    assert rep.vector_index == "built"
    _, rep = build_index({"c.txt": report("柳林乡", FRAUD)}, ann_threshold=1)
    assert rep.vector_index == "extended"
    assert hits(config, "怎样防止老年人被电信诈骗", "semantic")[0].place == "柳林乡"

    os.remove(build_index.corpus / "c.txt")
    _, rep = build_index(ann_threshold=1)
    assert rep.deleted == ["c.txt"]  # many stale entries in so small an index: rebuilt
    assert rep.vector_index == "built"
    (build_index.corpus / "c.txt").write_text(report("柳林乡", FRAUD), encoding="utf-8")
    _, rep = build_index(ann_threshold=1)
    assert rep.vector_index == "extended"
    os.remove(build_index.corpus / "b.txt")
    _, rep = build_index(ann_threshold=1, hnsw_max_stale=1.0)  # keep b.txt's vectors as stale entries
    assert rep.vector_index == "extended" and rep.deleted == ["b.txt"]
    for mode in ("semantic", "hybrid"):
        assert all(h.place != "青山镇" for h in hits(config, "为每个行政村聘请一名法律顾问", mode))
