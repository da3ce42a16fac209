"""The Milvus sync after any interruption, against one Milvus Lite server (its own process) for the module:
an indexing run killed (kill -9) at each sync stage, then one plain run, leaves Milvus holding exactly the
local generation's rows; a value too long for its field in UTF-8 bytes fails the run with one line; a no-op
run does not read Milvus row by row."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.build.index import Index  # noqa: E402
from indexer.core.config import Config, EmbeddingSettings  # noqa: E402
from indexer.operations.publish import publish_run  # noqa: E402
from indexer.engines.milvus.connection import connect  # noqa: E402
from indexer.engines.milvus.sync import sync  # noqa: E402
from indexer.storage.generations import GenerationStore  # noqa: E402
from tests.milvusfixtures import CountingClient, assert_equals_local, lite_server, milvus_config  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "corpora" / "fazhi-2023"
NAMES = sorted(p.name for p in SAMPLE.glob("*.txt"))
NEW_REPORT = "某某镇2023年法治政府建设年度报告\n一、主要做法\n开展“法润乡邻”调解试点，建立村级调解员名册，推进法治乡村建设。\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with lite_server(tmp_path_factory.mktemp("milvus-server")) as (uri, _):
        yield uri


def _run(build_index, encoder, config, full: bool = False):
    """One plain indexing run as `reportsearch index --engine milvus` makes it: local build, then the sync."""
    report = Index(config, encoder).build(full=full, progress=False)
    line = publish_run(config, report, full=full)
    return report, line


def _corpus(build_index, server, base):
    """The sample reports indexed locally; the config that syncs them to alias `base` on the server."""
    config, _ = build_index({n: (SAMPLE / n).read_text(encoding="utf-8") for n in NAMES})
    return milvus_config(config, server, base)


def _changed_files() -> dict[str, str]:
    """The sample with a sidecar renaming a report's place, a renamed file, an edited one, a deleted one and
    a new one."""
    files = {n: (SAMPLE / n).read_text(encoding="utf-8") for n in NAMES}
    files["meta.csv"] = f"file,title,place,region,level,year,date\n{NAMES[0]},,改名乡,,乡,2020,\n"
    files["sub/renamed-" + NAMES[1]] = files.pop(NAMES[1])
    files[NAMES[2]] = files[NAMES[2]].replace("。", "。新增一句测试文字，法治宣传继续推进。", 1)
    del files[NAMES[3]]
    files["zz-new.txt"] = NEW_REPORT
    return files


def _make_corpus(corpus: Path, files: dict[str, str]) -> None:
    """Turn the corpus folder into exactly `files` (unchanged files are left untouched)."""
    for path in sorted(corpus.rglob("*"), reverse=True):
        rel = path.relative_to(corpus).as_posix()
        if path.is_file() and rel not in files:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    for rel, text in files.items():
        path = corpus / rel
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def killed_runs(tmp_path_factory, encoder, embedding_cache, server):
    """change() -> (config, corpus): one local index of the sample synced to alias "kill", shared by the
    kill matrix. Each call switches the corpus between the sample and _changed_files() (renames, edits,
    deletions and additions either way) from a state where Milvus equals the local generation."""
    root = tmp_path_factory.mktemp("kill")
    corpus = root / "corpus"
    corpus.mkdir()
    originals = {n: (SAMPLE / n).read_text(encoding="utf-8") for n in NAMES}
    _make_corpus(corpus, originals)
    config = milvus_config(Config(corpus_dir=corpus, index_dir=root / "index",
                                  embedding=EmbeddingSettings(cache=embedding_cache)),
                           server, "kill")
    report, line = _run(None, encoder, config)
    assert report.exit_code == 0 and "full rebuild" in line
    assert_equals_local(config, server, "kill")
    changed = [False]

    def change():
        changed[0] = not changed[0]
        _make_corpus(corpus, _changed_files() if changed[0] else originals)
        return config, corpus

    return change


def _kill_at(stage: str, config, corpus: Path, full: bool) -> None:
    env = dict(os.environ, REPORTSEARCH_PAUSE_AT=stage, REPORTSEARCH_INDEX_DIR=str(config.index_dir),
               REPORTSEARCH_EMBEDDING_CACHE=str(config.embedding.cache),
               REPORTSEARCH_MILVUS_URI=config.engine.milvus.uri,
               REPORTSEARCH_MILVUS_COLLECTION=config.engine.milvus.collection, PYTHONPATH=str(REPO))
    args = [sys.executable, "-m", "indexer.cli", "index", str(corpus), "--engine", "milvus", "--no-progress"]
    proc = subprocess.Popen(args + (["--full"] if full else []), cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if f"pausing at stage {stage}" in line:
                break
            assert time.time() < deadline, "the run never reached the stage"
        else:
            pytest.fail(f"the run ended before stage {stage}:\n" + "".join(seen[-20:]))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.parametrize("stage,full", [("milvus-chunks", False), ("milvus-documents", False),
                                        ("milvus-drop", False), ("milvus-chunks", True), ("milvus-alias", True),
                                        ("milvus-drop", True)])
def test_a_sync_killed_at_any_stage_is_repaired_by_the_next_plain_run(killed_runs, encoder, server, stage, full):
    config, corpus = killed_runs()  # Milvus equals the local generation; the corpus has just changed
    _kill_at(stage, config, corpus, full)
    last = Index(config).status()["last_run"]
    assert last["status"] != "ok" and last["exit_code"] == 2 and "not brought up to date" in last["error"]

    report, line = _run(None, encoder, config)  # one plain run
    assert report.exit_code == 0 and report.status == "ok", report.summary()
    assert Index(config).status()["last_run"]["status"] == "ok"
    assert_equals_local(config, server, "kill")


def test_a_title_too_long_in_utf8_bytes_fails_the_run_in_one_line(build_index, encoder, server):
    """683 Chinese characters are 2,049 bytes: Lite (counting characters) would take them, a server not."""
    base = "bytes"
    config = _corpus(build_index, server, base)
    assert _run(build_index, encoder, config)[0].exit_code == 0
    title = "关于" + "法治" * 340 + "报告"  # 684 characters, 2,052 bytes > the title field's 2,048
    assert len(title) < 2048 < len(title.encode("utf-8"))
    (build_index.corpus / "meta.csv").write_text(f"file,title,place,region,level,year,date\n{NAMES[0]},{title},,,,,\n",
                                                 encoding="utf-8")
    report, line = _run(build_index, encoder, config)
    assert line is None and report.exit_code == 2 and report.status == "failed"
    assert NAMES[0] in report.error and "field title" in report.error and "\n" not in report.error
    assert "local generation" in report.error  # the local index was published; Milvus was not
    last = Index(config).status()["last_run"]
    assert last["status"] == "failed" and last["exit_code"] == 2

    (build_index.corpus / "meta.csv").write_text(f"file,title,place,region,level,year,date\n{NAMES[0]},短标题,,,,,\n",
                                                 encoding="utf-8")
    report, _ = _run(build_index, encoder, config)
    assert report.exit_code == 0
    assert_equals_local(config, server, base)


def test_a_no_op_run_does_not_read_milvus_row_by_row(build_index, server):
    base = "noop"
    config = _corpus(build_index, server, base)
    gen = GenerationStore(config.index_dir).current_path()
    client = CountingClient(connect(server))
    try:
        first = sync(client, gen, base)
        assert first.full
        client.calls.clear()
        again = sync(client, gen, base)
        assert again.unchanged and not again.full and again.chunks_upserted == 0
        assert "query_iterator" not in client.calls and "upsert" not in client.calls, client.calls
        assert client.total() <= 10, client.calls
    finally:
        client.close()
    assert_equals_local(config, server, base)
