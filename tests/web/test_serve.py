"""The production server (`python -m search_web.serve`) as an operator runs it: several worker processes
forked from one loaded index, following reindexing, replacing a dead worker, stopping cleanly."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[2]

REPORT = ("{place}2023年法治政府建设工作报告\n\n一、主要做法和成效\n\n{text}\n\n二、存在问题\n\n"
          "{place}执法人员数量不足，专业化水平有待进一步提高，法治宣传形式还比较单一。\n")
BENCH = "石门乡创新推行“板凳调解”工作法，组织老党员、老干部在村口板凳上调解邻里纠纷，全年化解矛盾五十余起。"
LAWYER = "青山镇为每个行政村聘请一名法律顾问，每月到村坐班一天，为群众提供免费法律咨询二百余人次。"
FRAUD = "柳林乡开展防范电信诈骗宣传进农户活动，发放宣传资料三千余份，群众识骗防骗能力明显提升。"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.load(r)


def _children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _workers_seen(base: str, want: int, generation: str | None = None, requests: int = 400) -> set[int]:
    """Worker pids that answered concurrent health checks (optionally: on this generation)."""
    def ask(_):
        data = _get(f"{base}/api/health")
        return data["worker_pid"], data["generation"]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(requests)))
    return {pid for pid, gen in answers if generation is None or gen == generation}


def test_worker_processes_share_one_index_follow_reindexing_and_stop_cleanly(build_index, tmp_path):
    config, _ = build_index({"a.txt": REPORT.format(place="石门乡", text=BENCH),
                             "b.txt": REPORT.format(place="青山镇", text=LAWYER)})
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # The server's log goes to a file, not to a pipe nobody reads: waitress logs "Task queue depth is N" for
    # every queued request, and once a pipe's 64 KiB were full a worker blocked on that write, holding its
    # task queue's lock, and stopped answering (seen in CI on a loaded machine as a 60 s health timeout).
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log_file:  # the server keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "search_web.serve", "--port", str(port), "--workers", "2", "--threads", "1",
             "--index-dir", str(config.index_dir)],
            cwd=REPO, stdout=log_file, stderr=subprocess.STDOUT,
        )
    replaced: set[int] = set()
    try:
        def ready():
            try:
                return _get(f"{base}/api/health")
            except (urllib.error.URLError, OSError):
                assert proc.poll() is None, log_path.read_text(errors="replace")
                return None

        first = _until(ready, 120, "the server")
        workers = _until(lambda: len(_children(proc.pid)) == 2 and _children(proc.pid), 30, "two workers")
        assert _until(lambda: _workers_seen(base, 2) == workers or None, 60, "both workers answering")

        hits = _get(f"{base}/api/search?q={quote('板凳调解')}&mode=keyword")["hits"]
        assert [h["place"] for h in hits] == ["石门乡"] and "<mark>" in hits[0]["highlighted"]

        # A reindex publishes a new generation: every worker switches to it by itself.
        _, rep = build_index({"c.txt": REPORT.format(place="柳林乡", text=FRAUD)})
        assert rep.exit_code == 0 and rep.generation != first["generation"]
        assert _until(lambda: _workers_seen(base, 2, rep.generation) == workers or None, 60, "the new generation")
        assert {h["place"] for h in _get(f"{base}/api/search?q={quote('电信诈骗')}&mode=keyword")["hits"]} == {"柳林乡"}

        # A worker that dies is replaced; requests keep being answered.
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        replaced = _until(lambda: (c := _children(proc.pid)) and len(c) == 2 and victim not in c and c, 30,
                          "a replacement worker")
        assert _until(lambda: _workers_seen(base, 2) == replaced or None, 60, "the replacement answering")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0
    assert _until(lambda: not any(_alive(p) for p in replaced), 10, "the workers to exit")
    # Thousands of concurrent health checks queued for the single thread of each worker: the log summarises
    # that once a minute per worker instead of one warning per queued request (782 lines before).
    queue_lines = log_path.read_text(errors="replace").count("Task queue depth")
    assert 1 <= queue_lines <= 10, queue_lines


def test_a_background_server_stops_and_frees_its_port_even_if_its_wake_up_pipe_was_closed():
    # Seen once in CI: the waitress trigger's pipe was already closed when a test's server was stopped, and
    # the stop raised EBADF instead of shutting the server down.
    from flask import Flask

    from search_web.serve import start_background

    app = Flask("probe")
    app.add_url_rule("/", "probe", lambda: "ok")
    server = start_background(app)
    with urllib.request.urlopen(server.url, timeout=30) as r:
        assert r.read() == b"ok"
    # As if the write end the stop wakes the loop with had been closed under it. (Closing the real fd here would
    # race with other threads of the test process, which may be handed that number again at once.)
    server._server.trigger.trigger = -1
    server.stop()
    assert not server._thread.is_alive()
    try:
        urllib.request.urlopen(server.url, timeout=5)
    except urllib.error.URLError as exc:
        assert isinstance(exc.reason, ConnectionRefusedError), exc
    else:
        raise AssertionError("the stopped server still answers")
