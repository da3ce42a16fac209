"""Opening a Milvus client. Every failure to reach the server becomes one `MilvusUnavailable` naming the URI,
which the CLI turns into a one-line message and exit 2 (never a traceback)."""
from __future__ import annotations

import logging

from indexer.storage.generations import IndexUnavailable

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0  # a down server must fail fast, not hang a cron run or a web worker
# pymilvus pings an idle channel every 10 s; a gRPC server with default settings (a `milvus-lite server`)
# answers GOAWAY "too_many_pings" after two such pings, and the client's shared channel is then unusable
# ("Fail connecting to server") for every client of that URI. One ping in 5 minutes is what gRPC servers
# accept by default; a lost server is noticed on the next call anyway.
GRPC_OPTIONS = {"grpc.keepalive_time_ms": 300_000, "grpc.keepalive_permit_without_calls": False}


class MilvusUnavailable(IndexUnavailable):
    """Milvus cannot be reached (or pymilvus is not installed); the message names the URI. An
    IndexUnavailable, so the CLI exits 2 with this one line and the web app answers 503, as for a local index."""

    def __init__(self, uri: str, reason: str):
        self.uri = uri
        super().__init__(f"Milvus at {uri} is unreachable: {reason}")


def connect(uri: str, token: str = "", timeout: float = CONNECT_TIMEOUT_S):
    """A `MilvusClient` for `uri`: a `./file.db` path (Milvus Lite, embedded) or `http://host:19530`."""
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:  # the engine is an extra: pip install reportsearch[milvus]
        raise MilvusUnavailable(uri, "pymilvus is not installed (pip install 'reportsearch[milvus]')") from exc
    # pymilvus logs every failed RPC with a traceback (and Lite's unimplemented AllocTimestamp, which it then
    # works around): we turn real failures into one line naming the URI, so its own log stays quiet.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    if "://" not in uri:  # Milvus Lite runs its gRPC server in this process: same noise, from grpc's side
        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    try:
        return MilvusClient(uri=uri, token=token or "", timeout=timeout, grpc_options=GRPC_OPTIONS)
    except Exception as exc:  # pymilvus raises MilvusException, grpc errors or ConnectionError, by version
        raise MilvusUnavailable(uri, reason_of(exc)) from exc


def is_connection_error(exc: BaseException) -> bool:
    """A lost or refused connection (as opposed to a bad request, which is our bug or the caller's)."""
    try:
        import grpc
        from pymilvus.exceptions import MilvusException
    except ImportError:
        return False
    if isinstance(exc, grpc.RpcError):
        code = exc.code() if callable(getattr(exc, "code", None)) else None
        return code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    if isinstance(exc, MilvusException):
        # code 2: "Fail connecting to server …, or server unavailable" (pymilvus's ConnectionNotExist etc.)
        return exc.code == 2 or "server unavailable" in str(exc) or "Fail connecting" in str(exc)
    return isinstance(exc, (ConnectionError, TimeoutError))


def reason_of(exc: BaseException) -> str:
    text = str(getattr(exc, "message", "") or exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def guarded(method):
    """Decorator for methods of objects with a `uri`: a lost connection becomes `MilvusUnavailable`."""
    import functools

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except MilvusUnavailable:
            raise
        except Exception as exc:
            if is_connection_error(exc):
                raise MilvusUnavailable(self.uri, reason_of(exc)) from exc
            raise
    return wrapper
