"""What a researcher sees on the terminal (issue 11, point 14): `search` prints its answer and nothing else
unless asked with -v; `stats` and `show` read the catalog without loading the embedding model."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODEL_LOADING = "loading embedding model"


@pytest.fixture(scope="module")
def env(sample_index) -> dict:
    return dict(os.environ, REPORTSEARCH_INDEX_DIR=str(sample_index.index_dir))


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer.cli", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)


def test_search_prints_no_log_lines_by_default_and_logs_with_v(env):
    done = run(["search", "信访积案化解做法", "-n", "2"], env)
    assert done.returncode == 0, done.stderr
    assert "共 " in done.stdout
    assert done.stderr == ""  # no "INFO … loading embedding model", no jieba lines
    done = run(["search", "信访积案化解做法", "-n", "2", "-v"], env)
    assert done.returncode == 0 and MODEL_LOADING in done.stderr and " INFO " in done.stderr


def test_stats_and_show_do_not_load_the_embedding_model(env):
    done = run(["stats", "-v"], env)  # -v: the model's loading would be logged
    assert done.returncode == 0, done.stderr
    assert "documents 5" in done.stdout
    assert MODEL_LOADING not in done.stderr
    done = run(["show", "003_82ca6d383a15eea9.txt", "-v"], env)
    assert done.returncode == 0, done.stderr
    assert "大铭乡" in done.stdout and MODEL_LOADING not in done.stderr


def test_output_cut_short_by_a_pipe_ends_quietly(env):
    # `reportsearch show … | head -n 1`: the reader closes the pipe early; no BrokenPipeError traceback.
    doc = sorted(p.name for p in (REPO / "corpora" / "fazhi-2023").glob("*.txt"))[0]
    read_end, write_end = os.pipe()
    os.close(read_end)  # what `head` does once it has its lines: the next write gets EPIPE
    show = subprocess.Popen([sys.executable, "-m", "indexer.cli", "show", doc], stdout=write_end,
                            stderr=subprocess.PIPE, env=env, cwd=REPO)
    os.close(write_end)
    err = show.stderr.read().decode()
    assert show.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err
