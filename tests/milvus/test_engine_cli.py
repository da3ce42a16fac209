"""The CLI on the Milvus engine as an operator runs it (subprocesses, a Milvus Lite file), and the
one-line advice when a Whoosh index outgrows itself."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.storage.fulltext.factory import WHOOSH_ADVICE_CHUNKS, scale_advice

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "corpora" / "fazhi-2023"


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer.cli", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def milvus_env(tmp_path_factory, embedding_cache) -> dict:
    root = tmp_path_factory.mktemp("engine-cli")
    return dict(os.environ, REPORTSEARCH_INDEX_DIR=str(root / "index"), REPORTSEARCH_EMBEDDING_CACHE=str(embedding_cache),
                REPORTSEARCH_MILVUS_URI=str(root / "rs.db"), REPORTSEARCH_MILVUS_COLLECTION="cli")


def test_index_then_search_on_milvus_from_separate_processes(milvus_env):
    done = run(["index", str(SAMPLE), "--engine", "milvus", "--no-progress"], milvus_env)
    assert done.returncode == 0, done.stderr
    assert "full rebuild, alias swapped" in done.stdout and "chunks +" in done.stdout
    assert "Traceback" not in done.stderr
    found = run(["search", '"小事不出村"', "--engine", "milvus", "--mode", "keyword", "--json", "-n", "20"], milvus_env)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)["hits"]
    assert len(hits) == 3 and all("小事不出村" in h["text"] for h in hits)
    again = run(["index", str(SAMPLE), "--engine", "milvus", "--no-progress"], milvus_env)
    assert again.returncode == 0, again.stderr
    assert "incremental" in again.stdout and "chunks +0 -0" in again.stdout
    status = run(["status", "--engine", "milvus", "--json"], milvus_env)
    assert status.returncode == 0, status.stderr
    remote = json.loads(status.stdout)["milvus"]
    assert remote["alias"] == "cli" and remote["collection"].startswith("cli_") and remote["documents"] == 5


def test_show_by_path_and_by_id_on_milvus(milvus_env):
    name = sorted(p.name for p in SAMPLE.glob("*.txt"))[3]
    by_path = run(["show", name, "--engine", "milvus", "--json"], milvus_env)
    assert by_path.returncode == 0 and "Traceback" not in by_path.stderr, by_path.stderr
    view = json.loads(by_path.stdout)
    assert view["path"] == name and view["paragraphs"]
    by_id = run(["show", view["doc_id"], "--engine", "milvus", "--json"], milvus_env)
    assert by_id.returncode == 0, by_id.stderr
    assert json.loads(by_id.stdout) == view
    missing = run(["show", "no-such-report.txt", "--engine", "milvus"], milvus_env)
    assert missing.returncode == 2 and "no-such-report.txt" in missing.stderr and "Traceback" not in missing.stderr


def test_stats_and_status_on_milvus(milvus_env):
    stats = run(["stats", "--engine", "milvus", "--json"], milvus_env)
    assert stats.returncode == 0 and "Traceback" not in stats.stderr, stats.stderr
    figures = json.loads(stats.stdout)
    assert figures["health"]["status"] == "ok" and figures["health"]["generation"].startswith("cli_")
    assert figures["health"]["documents"] == 5 and figures["health"]["chunks"] > 0
    assert sum(n for _, n in figures["facets"]["year"].items()) == figures["health"]["chunks"]
    text = run(["stats", "--engine", "milvus"], milvus_env)
    assert text.returncode == 0 and "documents 5, chunks" in text.stdout, text.stderr
    status = run(["status", "--engine", "milvus"], milvus_env)
    assert status.returncode == 0, status.stderr
    assert "milvus " in status.stdout and "alias cli → cli_" in status.stdout and "documents 5" in status.stdout


def test_unreachable_milvus_is_one_line_and_exit_2(milvus_env):
    uri = f"http://127.0.0.1:{_free_port()}"
    env = dict(milvus_env, REPORTSEARCH_MILVUS_URI=uri)
    for args in (["search", "信访", "--engine", "milvus"], ["status", "--engine", "milvus"],
                 ["index", str(SAMPLE), "--engine", "milvus", "--no-progress"]):
        done = run(args, env)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
        assert len(errors) == 1 and uri in errors[0], done.stderr
        assert "Traceback" not in done.stderr
    # the index run published its local generation, Milvus was not brought up to date: said everywhere alike
    assert "状态 status: failed (exit 2)" in done.stdout and "local generation" in done.stdout
    status = run(["status", "--json"], env)
    last = json.loads(status.stdout)["last_run"]
    assert last["status"] == "failed" and last["exit_code"] == 2 and uri in last["error"]
    index_dir = Path(milvus_env["REPORTSEARCH_INDEX_DIR"])
    assert "状态 status: failed (exit 2)" in (index_dir / "index-report.txt").read_text(encoding="utf-8")


def test_whoosh_past_the_threshold_is_advised_to_move():
    assert scale_advice("whoosh", WHOOSH_ADVICE_CHUNKS) is None
    assert scale_advice("tantivy", 10 * WHOOSH_ADVICE_CHUNKS) is None
    line = scale_advice("whoosh", WHOOSH_ADVICE_CHUNKS + 1)
    assert 'fulltext_backend = "tantivy"' in line and "milvus" in line and "\n" not in line


def test_status_names_the_full_text_backend(milvus_env):
    done = run(["status", "--json"], milvus_env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["fulltext_backend"] == "whoosh"
