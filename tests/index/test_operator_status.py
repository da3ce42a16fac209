"""What the operator sees between runs (issue 29, point 8): a killed run shows in `status`, a deleted CURRENT
is damage (exit 2), an embedding cache a search moved aside is reported by the next run, and waitress's own
error replies carry the app's security headers."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from indexer.build.index import Index
from indexer.search.searcher import Searcher
from indexer.search.types import SearchRequest
from tests.index.test_repair import FILES, REPO, cli, env_for, gen_dir, state


def _paused_run(config, corpus: Path, stage: str) -> subprocess.Popen:
    env = dict(env_for(config), REPORTSEARCH_PAUSE_AT=stage)
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "index", str(corpus), "--no-progress", "--full"],
                            cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    for line in proc.stderr:
        if f"pausing at stage {stage}" in line:
            return proc
        assert time.time() < deadline, f"the run never reached stage {stage}"
    raise AssertionError(f"the run ended before stage {stage}")


def test_status_shows_a_run_in_progress_and_a_killed_one(build_index):
    config, _ = build_index(FILES)
    proc = _paused_run(config, build_index.corpus, "fulltext")
    try:
        done = cli(["status"], env_for(config))
        assert "last run: running" in done.stdout, done.stdout
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    done = cli(["status"], env_for(config))
    assert done.returncode == 0, done.stdout + done.stderr  # the published index is fine
    assert "last run: interrupted" in done.stdout and "last run: ok" not in done.stdout, done.stdout
    assert "the run never finished (killed, or the machine stopped)" in done.stdout
    _, rep = build_index()
    assert rep.exit_code == 0
    assert "last run: ok (exit 0)" in cli(["status"], env_for(config)).stdout


def test_a_deleted_current_is_damage_that_the_next_run_repairs(build_index):
    config, _ = build_index(FILES)
    published, before = gen_dir(config).name, state(config)
    current = Path(config.index_dir) / "CURRENT"
    current.unlink()
    done = cli(["status"], env_for(config))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == (f"index damaged: {current} is missing (the last run published "
                                           f"{published}), run `reportsearch index --full`")
    _, rep = build_index()
    assert rep.exit_code == 0 and any("CURRENT" in r and "missing" in r for r in rep.repairs), rep.summary()
    assert state(config)[0] == before[0] and cli(["status"], env_for(config)).returncode == 0


def test_an_embedding_cache_a_search_moved_aside_is_reported_by_the_next_run(build_index, encoder, tmp_path):
    cache = tmp_path / "own-cache" / "embeddings.sqlite"
    # Without stored sentence vectors a statement query encodes sentences through the cache.
    config, rep = build_index(FILES, embedding_cache=str(cache), sentence_rerank="off")
    assert rep.exit_code == 0
    cache.write_bytes(b"not a database " * 100)
    searcher = Searcher(config.with_overrides({"sentence_rerank": "semantic"}), encoder)
    try:
        searcher.search(SearchRequest("组织老党员在村口调解邻里纠纷", mode="hybrid"))
    finally:
        searcher.close()
    assert Path(f"{cache}.damaged").exists(), "the search moved the damaged cache aside"
    _, rep = build_index(embedding_cache=str(cache), sentence_rerank="off")
    assert rep.exit_code == 0, rep.summary()
    found = [r for r in rep.repairs if "was found damaged on" in r]
    assert len(found) == 1 and str(cache) in found[0] and f"moved aside to {cache}.damaged" in found[0], rep.repairs
    _, rep = build_index(embedding_cache=str(cache), sentence_rerank="off")
    assert not rep.repairs, "reported once"


def _raw_request(url: str, payload: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    return out


def test_waitress_error_replies_carry_the_security_headers(build_index, encoder):
    from search_web import SECURITY_HEADERS, create_app
    from search_web.serve import start_background

    config, _ = build_index(FILES)
    server = start_background(create_app(config, Searcher(config, encoder)))
    try:
        for payload, status in ((b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n", b"400"),
                                (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * ((1 << 20) + 100) + b"\r\n\r\n", b"431")):
            reply = _raw_request(server.url, payload)
            head = reply.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            assert head.split()[1] == status.decode(), head
            for name, value in SECURITY_HEADERS:
                assert f"{name}: {value}" in head, head
    finally:
        server.stop()
