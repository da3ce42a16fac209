"""The `reportsearch` command and scripts/tools/reindex.sh as an operator or researcher runs them (subprocesses)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "corpora" / "fazhi-2023"


def run(args: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer.cli", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory, embedding_cache, sample_index) -> dict:
    """An index of the sample corpus built by the CLI itself (embeddings come from the session cache)."""
    index_dir = tmp_path_factory.mktemp("cli-index")
    env = dict(os.environ, REPORTSEARCH_INDEX_DIR=str(index_dir), REPORTSEARCH_EMBEDDING_CACHE=str(embedding_cache))
    done = run(["index", str(SAMPLE), "--no-progress"], env)
    assert done.returncode == 0, done.stderr
    assert "status: ok" in done.stdout
    return env


def test_search_json_has_the_documented_fields(cli_env):
    done = run(["search", "信访积案化解做法", "--json", "-n", "3"], cli_env)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    hit = out["hits"][0]
    for key in ("path", "title", "place", "region", "level", "year", "heading_path", "section_kind", "text",
                "highlighted", "paragraph_index", "score", "keyword_rank", "semantic_rank"):
        assert key in hit, key
    assert not hit["path"].startswith("/")


def test_search_human_output_and_filters(cli_env):
    done = run(["search", "法治宣传", "--place", "大铭乡", "-n", "5"], cli_env)
    assert done.returncode == 0, done.stderr
    assert "共 " in done.stdout and "大铭乡" in done.stdout
    assert "张茅乡" not in done.stdout


def test_batch_answers_many_queries_with_one_model_load(cli_env, tmp_path):
    queries = tmp_path / "topics.tsv"
    queries.write_text("q1\t信访积案化解做法\nq2\t防养老诈骗宣传\n怎么调解邻里纠纷\n", encoding="utf-8")
    done = run(["search", "--batch", str(queries), "-n", "3", "--group"], cli_env)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(x["qid"], x["query"]) for x in lines] == [("q1", "信访积案化解做法"), ("q2", "防养老诈骗宣传"),
                                                      ("3", "怎么调解邻里纠纷")]
    assert all(len(x["hits"]) == 3 for x in lines)
    assert all(len({h["place"] for h in x["hits"]}) == 3 for x in lines), "--group: one hit per place"


def test_show_stats_and_status(cli_env):
    done = run(["show", "003_82ca6d383a15eea9.txt"], cli_env)
    assert done.returncode == 0, done.stderr
    assert "大铭乡" in done.stdout and "2024-02-27" in done.stdout and "# 一、主要工作完成情况" in done.stdout
    done = run(["stats"], cli_env)
    assert done.returncode == 0 and "documents 5" in done.stdout
    done = run(["status", "--json"], cli_env)
    status = json.loads(done.stdout)
    assert status["documents"] == 5 and status["last_run"]["exit_code"] == 0 and status["failing_files"] == []


def test_dry_run_lists_changes_and_changes_nothing(cli_env, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in SAMPLE.iterdir():
        (corpus / f.name).write_bytes(f.read_bytes())
    (corpus / "000_285c95f969a2e408.txt").unlink()
    (corpus / "new.txt").write_text("柳林乡2023年法治政府建设工作报告\n\n柳林乡开展法律明白人培训，覆盖全部行政村。\n", encoding="utf-8")
    before = run(["status", "--json"], cli_env).stdout
    done = run(["index", str(corpus), "--dry-run"], cli_env)
    assert done.returncode == 0, done.stderr
    assert "new: new.txt" in done.stdout and "deleted: 000_285c95f969a2e408.txt" in done.stdout
    assert run(["status", "--json"], cli_env).stdout == before


def test_reindex_script_logs_and_passes_the_exit_code_through(cli_env, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ok.txt").write_text("柳林乡2023年法治政府建设工作报告\n\n柳林乡开展法律明白人培训，覆盖全部行政村，全年培训三百余人次。\n",
                                   encoding="utf-8")
    (corpus / "bad.txt").write_bytes(b"\x00\x01\x02" * 50)
    env = dict(cli_env, REPORTSEARCH_INDEX_DIR=str(tmp_path / "index"), REPORTSEARCH_LOG_DIR=str(tmp_path / "log"),
               REPORTSEARCH_VENV=str(Path(sys.executable).parent.parent))
    done = subprocess.run(["bash", str(REPO / "scripts" / "tools" / "reindex.sh"), str(corpus)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr
    log = (tmp_path / "log" / "reindex.log").read_text(encoding="utf-8")
    assert "FAILED: bad.txt" in log and "=== exit 1" in log
    assert "bad.txt" in done.stderr  # cron mails this


def test_missing_corpus_and_bad_settings_exit_2(cli_env, tmp_path):
    assert run(["index", str(tmp_path / "nope")], cli_env).returncode == 2
    bad = dict(cli_env, REPORTSEARCH_MAX_CHUNK_CHARS="many")
    done = run(["status"], bad)
    assert done.returncode == 2 and "max_chunk_chars" in done.stderr
