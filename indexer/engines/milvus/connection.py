"""Opening a Milvus client. Every failure to reach the server becomes one `MilvusUnavailable` naming the URI,
which the CLI turns into a one-line message and exit 2 (never a traceback)."""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0  # a down server must fail fast, not hang a cron run or a web worker


class MilvusUnavailable(RuntimeError):
    """Milvus cannot be reached (or pymilvus is not installed); the message names the URI."""

    def __init__(self, uri: str, reason: str):
        self.uri = uri
        super().__init__(f"Milvus at {uri} is unreachable: {reason}")


def connect(uri: str, token: str = "", timeout: float = CONNECT_TIMEOUT_S):
    """A `MilvusClient` for `uri`: a `./file.db` path (Milvus Lite, embedded) or `http://host:19530`."""
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:  # the engine is an extra: pip install reportsearch[milvus]
        raise MilvusUnavailable(uri, "pymilvus is not installed (pip install 'reportsearch[milvus]')") from exc
    try:
        return MilvusClient(uri=uri, token=token or "", timeout=timeout)
    except Exception as exc:  # pymilvus raises MilvusException, grpc errors or ConnectionError, by version
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MilvusUnavailable(uri, reason[:200]) from exc
