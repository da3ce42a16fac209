"""Production entry point: the app under waitress, in one or more worker processes.

    python -m search_web.serve --host 127.0.0.1 --port 5000 [--workers 2] [--config reportsearch.toml]

Why several processes: a search is mostly Python, and one process runs Python on one core at a time (the
GIL), so on this 2-core machine one process served 49 requests/s and two served 90 (docs/benchmarks.md).
The parent loads the model and the index once, then forks the workers, which share that memory
copy-on-write and accept connections from one listening socket; a worker that dies is replaced. Each
worker follows newly published generations on its own, as a single process does.

`start_background` runs the app in a thread of the calling process (browser tests).
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass

from flask import Flask
import waitress
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, create_server as _create_server
from waitress.task import ErrorTask

from indexer.core.config import Config, load_config

log = logging.getLogger(__name__)

DEFAULT_THREADS = 2  # per worker: more threads in one process only queue for the GIL (measured: 8 were slower)
DEFAULT_WORKERS = min(os.cpu_count() or 1, 4)  # each worker adds the memory it writes (~100-400 MB)
RESTART_PAUSE_S = 1.0
# What waitress lets through to the app. Its default header limit (256 KiB) answered a long query string
# with its own plain-text 431 before the app saw it; at 1 MiB the app rejects an over-long `q` or filter
# itself, as JSON naming the parameter (max_query_chars is far below). The app takes no uploads, so bodies
# stay small (waitress would otherwise buffer up to 1 GiB before the app's 64 KiB limit applies).
WAITRESS_LIMITS = {"max_request_header_size": 1024 * 1024, "max_request_body_size": 1024 * 1024}
QUEUE_WARNING_INTERVAL_S = 60.0


class QueueDepthSummary(logging.Filter):
    """waitress warns "Task queue depth is N" for *every* request that has to wait for a thread: a burst of
    searches wrote one line per request (782 lines in the 20 s of tests/web/test_serve.py). Let one line through
    per interval and per process, saying how many were folded into it and the deepest queue among them."""

    def __init__(self, interval_s: float = QUEUE_WARNING_INTERVAL_S):
        super().__init__()
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._next = 0.0
        self._folded = 0
        self._deepest = 0

    def filter(self, record: logging.LogRecord) -> bool:
        depth = record.args[0] if isinstance(record.args, tuple) and record.args else 0
        with self._lock:
            now = time.monotonic()
            if now < self._next:
                self._folded += 1
                self._deepest = max(self._deepest, depth)
                return False
            folded, deepest = self._folded, max(self._deepest, depth)
            self._next, self._folded, self._deepest = now + self.interval_s, 0, 0
        if folded:
            record.msg = "Task queue depth is %d (%d more such warnings since the last one, deepest %d)"
            record.args = (depth, folded, deepest)
        return True


def quiet_queue_warnings() -> None:
    queue_log = logging.getLogger("waitress.queue")
    if not any(isinstance(f, QueueDepthSummary) for f in queue_log.filters):
        queue_log.addFilter(QueueDepthSummary())


@dataclass
class BackgroundServer:
    url: str
    _server: object
    _thread: threading.Thread

    def stop(self) -> None:
        # Closed from inside the server's own loop (through its trigger): closing the sockets from this
        # thread while the loop sat in select() made that select fail with EBADF in the server thread.
        server = self._server
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        except OSError as exc:
            # The trigger's pipe was already closed under the server (seen once in CI as EBADF here; two
            # instrumented full test runs did not show who closed it), so the loop cannot be woken. Empty its
            # map instead: the loop leaves at its next select() timeout (1 s), then the sockets are closed here.
            log.warning("waitress trigger unusable (%s); stopping the server from the calling thread", exc)
            trigger = server.trigger
            trigger._fds = [fd for fd in trigger._fds if fd != trigger.trigger]  # closed already; never again
            dispatchers = list(server._map.values())
            server._map.clear()
            self._thread.join(timeout=10)
            for dispatcher in dispatchers:
                try:
                    dispatcher.close()
                except OSError:
                    pass
        else:
            self._thread.join(timeout=10)
        server.task_dispatcher.shutdown()


class _SecureErrorTask(ErrorTask):
    """waitress's own replies (400 bad request, 431 headers too large, …) with the app's security headers."""

    def execute(self) -> None:
        from search_web import SECURITY_HEADERS

        self.response_headers.extend(SECURITY_HEADERS)
        super().execute()


class _SecureChannel(HTTPChannel):
    error_task_class = _SecureErrorTask


def create_server(app: Flask, **kw):
    """waitress's create_server, its own error replies carrying the security headers."""
    server = _create_server(app, **kw)
    listeners = list(server.map.values()) if isinstance(server, MultiSocketServer) else [server]
    for each in listeners:
        if hasattr(each, "channel_class"):  # the map also holds waitress's trigger
            each.channel_class = _SecureChannel
    return server


def start_background(app: Flask, host: str = "127.0.0.1", port: int = 0, threads: int = DEFAULT_THREADS) -> BackgroundServer:
    """Serve `app` with waitress in a daemon thread; port 0 picks a free one."""
    server = create_server(app, host=host, port=port, threads=threads, **WAITRESS_LIMITS)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    return BackgroundServer(url=f"http://{host}:{server.effective_port}", _server=server, _thread=thread)


def serve(config: Config, host: str = "127.0.0.1", port: int = 5000, threads: int = DEFAULT_THREADS,
          workers: int = DEFAULT_WORKERS) -> None:
    """Open the index once and serve until interrupted (used by `reportsearch serve` and `main`)."""
    from search_web import create_app  # imported late so `--help` does not load the library
    from search_web.state import searcher_of

    app = create_app(config)
    searcher_of(app).prepare_figures()  # shared by the forked workers, as the model and the index are
    for name in app.jinja_env.list_templates():  # compiled once here, not on each worker's first pages
        app.jinja_env.get_template(name)
    quiet_queue_warnings()  # before forking: each worker summarises its own queue
    if workers <= 1:
        log.info("serving on http://%s:%d", host, port)
        waitress.serve(app, host=host, port=port, threads=threads, _server=create_server, **WAITRESS_LIMITS)
        return
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    log.info("serving on http://%s:%d with %d worker processes", host, port, workers)
    _supervise(app, sock, threads, workers)


def _supervise(app: Flask, sock: socket.socket, threads: int, workers: int) -> None:
    """Fork the workers, replace any that exits, and stop them all on SIGTERM/SIGINT."""
    from search_web import state

    children: set[int] = set()
    stopping = False

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            try:
                waitress.serve(app, sockets=[sock], threads=threads, _server=create_server, **WAITRESS_LIMITS)
            finally:
                os._exit(0)
        children.add(pid)

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(workers):
        spawn()
    # The parent serves nothing: let go of its generation, so pruning is decided by what the workers hold.
    state.searcher_of(app).close()
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.discard(pid)
        if not stopping:
            log.error("worker %d exited (status %d); starting another", pid, status)
            time.sleep(RESTART_PAUSE_S)
            spawn()
    sock.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m search_web.serve", description="法治政府建设报告检索 web server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="threads per worker process")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="worker processes (1: no fork)")
    parser.add_argument("--config", help="TOML config file (else REPORTSEARCH_CONFIG)")
    parser.add_argument("--index-dir", help="index directory (overrides the config)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_config(args.config, cli_overrides={"index_dir": args.index_dir})
    serve(config, host=args.host, port=args.port, threads=args.threads, workers=args.workers)


if __name__ == "__main__":
    main()
