"""Production entry point: the app under waitress.

    python -m search_web.serve --host 127.0.0.1 --port 5000 [--config reportsearch.toml] [--index-dir index]

`start_background` runs the same server in a thread (browser tests, scripts/bench_web.py).
"""
from __future__ import annotations

import argparse
import logging
import threading
from dataclasses import dataclass

from flask import Flask
import waitress
from waitress.server import create_server

from indexer.config import Config, load_config

log = logging.getLogger(__name__)

DEFAULT_THREADS = 8


@dataclass
class BackgroundServer:
    url: str
    _server: object
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.close()
        self._thread.join(timeout=10)


def start_background(app: Flask, host: str = "127.0.0.1", port: int = 0, threads: int = DEFAULT_THREADS) -> BackgroundServer:
    """Serve `app` with waitress in a daemon thread; port 0 picks a free one."""
    server = create_server(app, host=host, port=port, threads=threads)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    return BackgroundServer(url=f"http://{host}:{server.effective_port}", _server=server, _thread=thread)


def serve(config: Config, host: str = "127.0.0.1", port: int = 5000, threads: int = DEFAULT_THREADS) -> None:
    """Open the index once and serve until interrupted (used by `reportsearch serve` and `main`)."""
    from search_web import create_app  # imported late so `--help` does not load the library

    app = create_app(config)
    log.info("serving on http://%s:%d", host, port)
    waitress.serve(app, host=host, port=port, threads=threads)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m search_web.serve", description="法治政府建设报告检索 web server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--config", help="TOML config file (else REPORTSEARCH_CONFIG)")
    parser.add_argument("--index-dir", help="index directory (overrides the config)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_config(args.config, cli_overrides={"index_dir": args.index_dir})
    serve(config, host=args.host, port=args.port, threads=args.threads)


if __name__ == "__main__":
    main()
