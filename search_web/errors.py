"""Error responses: `{"error": {"message", "param"}}` JSON under /api, a Chinese error page elsewhere."""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from indexer.storage.generations import IndexUnavailable
from indexer.search.types import QueryError

log = logging.getLogger(__name__)

_MESSAGES = {
    400: "请求参数有误。",
    404: "未找到请求的页面或资源。",
    405: "不支持该请求方法。",
    413: "请求内容过大。",
    414: "请求地址过长。",
    500: "服务器内部错误，请稍后重试。",
    503: "检索服务暂时不可用（索引或检索引擎无法访问），请稍后重试。",
}
# No index yet, or a damaged one: the service is unavailable until the operator's next `reportsearch index`.
UNAVAILABLE = "索引暂时不可用（{why}），请联系管理员运行 reportsearch index 修复后再试。"
UNAVAILABLE_LOG_EVERY_S = 60.0


class _OncePer:
    """At most one log line per period for a condition that fails every request (an engine that is down, a
    damaged index): the first failure is logged at once, later ones are counted into the next line."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._last = float("-inf")
        self._suppressed = 0
        self._lock = threading.Lock()

    def __call__(self, message: str) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.seconds:
                self._suppressed += 1
                return
            self._last, suppressed, self._suppressed = now, self._suppressed, 0
        more = f" ({suppressed} more requests answered 503 since the last line)" if suppressed else ""
        log.error("index unavailable, answering 503: %s%s", message, more)


def unavailable_message(reason: str) -> str:
    """The page's words for why the index cannot answer: the operator's fix for a missing or damaged index,
    else (an engine that is down) a retry later."""
    if reason.startswith("index damaged"):
        return UNAVAILABLE.format(why="索引已损坏")
    if reason.startswith("no index"):
        return UNAVAILABLE.format(why="尚未建立索引")
    return _MESSAGES[503]


class NotFound(Exception):
    """An id (document, chunk) the index does not know; `param` names the path parameter."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param
        self.message = message


@contextmanager
def known_document(doc_id: str) -> Iterator[None]:
    """Turn the library's KeyError for an unknown document into a 404 that names the parameter."""
    try:
        yield
    except KeyError:
        raise NotFound("doc_id", f"索引中没有编号为“{doc_id}”的文档。") from None


@contextmanager
def known_chunk(chunk_id: int | str) -> Iterator[None]:
    try:
        yield
    except KeyError:
        raise NotFound("chunk_id", f"索引中没有编号为 {chunk_id} 的段落。") from None


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def error_response(status: int, message: str, param: str | None = None):
    if wants_json():
        return jsonify({"error": {"message": message, "param": param}}), status
    return render_template("error.html", status=status, message=message, param=param), status


def init_app(app: Flask) -> None:
    unavailable_log = _OncePer(UNAVAILABLE_LOG_EVERY_S)

    @app.errorhandler(IndexUnavailable)
    def _unavailable(exc: IndexUnavailable):
        # The engine is down or the index unreadable: it recovers by itself, so no traceback per request.
        unavailable_log(str(exc))
        body, status = error_response(503, unavailable_message(str(exc)))
        response = app.make_response((body, status))
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(QueryError)
    def _query_error(exc: QueryError):
        return error_response(400, exc.message, exc.param)

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound):
        return error_response(404, exc.message, exc.param)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        body, status = error_response(status, _MESSAGES.get(status, exc.description or "请求失败。"))
        response = app.make_response((body, status))
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # required on a 405 (RFC 9110)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        return error_response(500, _MESSAGES[500])
