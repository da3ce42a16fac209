"""The subcommands the web package adds to the `reportsearch` CLI: `serve`.

setup.py declares `register` in the entry-point group `reportsearch.commands`; indexer/cli/commands.py loads it by name
and never imports this package, so the library does not depend on the web layer above it."""
from __future__ import annotations

import argparse

from indexer.core.config import Config


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `serve` to the CLI. The CLI adds its common options (--config, --index-dir, -v …) and calls
    `args.run(args, config)`."""
    p = subparsers.add_parser("serve", help="serve the web UI and API with waitress")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument("--threads", type=int, default=None, help="threads per worker process (default 2)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core, up to 4)")
    p.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace, config: Config) -> int:
    from search_web.serve import DEFAULT_THREADS, DEFAULT_WORKERS, serve

    serve(config, host=args.host, port=args.port, threads=args.threads or DEFAULT_THREADS,
          workers=args.workers or DEFAULT_WORKERS)
    return 0
