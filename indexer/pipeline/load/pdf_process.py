"""Read a PDF in a separate process with a memory cap and a time limit (the reading itself: `pdf_worker`).

One worker process per indexing process, started on the first PDF and reused; it forks a capped child per
file. A file that passes the cap or the time limit fails alone, with a reason naming the setting; the indexer's
own memory never holds PDFium's. Costs ~6 ms of CPU per PDF, plus ~0.3 s once to start the worker
(docs/benchmarks.md).
"""
from __future__ import annotations

import atexit
import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import NamedTuple

from indexer.core.document import RawDocument
from indexer.pipeline.load import LoadError, ReadLimits

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!Q")
_SLACK_SECONDS = 60.0  # past the reading limit: the worker's start and the copying of file and result
_ROOT = Path(__file__).resolve().parents[3]  # the folder holding this `indexer` package: the worker uses it too
_WORKER = (f"import sys; sys.path.insert(0, {str(_ROOT)!r}); "
           "from indexer.pipeline.load.pdf_worker import main; main()")


class Reply(NamedTuple):
    """What became of one PDF in its child process."""

    kind: str  # ok, error (a LoadError's reason), exception, memory, crash, timeout
    value: object  # the RawDocument, the reason, the exception's text or the signal's name
    seconds: float
    peak_bytes: int  # the child's peak resident memory


_lock = threading.Lock()
_worker: subprocess.Popen | None = None


def read_isolated(rel_path: str, data: bytes, limits: ReadLimits) -> RawDocument:
    """The PDF read by `pdf_format.read_pdf` in a child process capped at `limits.pdf_memory_bytes` of
    address space and `limits.pdf_seconds`; LoadError (naming the setting) when it passes either."""
    request = pickle.dumps((rel_path, data, limits), protocol=pickle.HIGHEST_PROTOCOL)
    with _lock:
        try:
            worker = _send(request)
            assert worker.stdout is not None
            frame = read_frame(worker.stdout.fileno(), time.monotonic() + limits.pdf_seconds + _SLACK_SECONDS)
        except (OSError, EOFError, TimeoutError) as exc:
            _stop_now()
            raise LoadError(rel_path, f"the PDF reader process failed ({type(exc).__name__}: {exc})") from exc
        except BaseException:  # Ctrl-C while waiting: its late reply must not answer the next request
            _stop_now()
            raise
        if frame is None:
            _stop_now()
            raise LoadError(rel_path, "the PDF reader process stopped unexpectedly")
    reply: Reply = pickle.loads(frame)
    log.debug("%s: read in a child process: %s in %.2f s, peak %d MB", rel_path, reply.kind, reply.seconds,
              reply.peak_bytes >> 20)
    return _outcome(rel_path, reply, limits)


def _send(request: bytes) -> subprocess.Popen:
    """The running worker, `request` written to it; a worker that died since the last file (its input
    closed) is replaced once: it had not seen this request."""
    for attempt in range(2):
        worker = _running_worker()
        assert worker.stdin is not None
        try:
            write_frame(worker.stdin.fileno(), request)
            return worker
        except BrokenPipeError:
            _stop(worker, now=True)
            if attempt:
                raise
    raise AssertionError("unreachable")


def _stop_now() -> None:
    if _worker is not None:
        _stop(_worker, now=True)


def _outcome(rel_path: str, reply: Reply, limits: ReadLimits) -> RawDocument:
    if reply.kind == "ok":
        assert isinstance(reply.value, RawDocument)
        return reply.value
    if reply.kind == "error":
        raise LoadError(rel_path, str(reply.value))
    if reply.kind == "exception":  # worded as load_file words a parser's own error read in this process
        raise LoadError(rel_path, f"cannot parse .pdf file: {reply.value}")
    if reply.kind == "memory":
        raise LoadError(rel_path, f"out of memory: reading this PDF takes more than {limits.pdf_memory_bytes:,} "
                                  "bytes (setting max_pdf_memory_bytes)")
    if reply.kind == "timeout":
        raise LoadError(rel_path, f"reading this PDF takes more than {limits.pdf_seconds:g} s "
                                  "(setting max_pdf_seconds)")
    raise LoadError(rel_path, f"the PDF reader crashed on this file ({reply.value})")


def _running_worker() -> subprocess.Popen:
    global _worker
    if _worker is None or _worker.poll() is not None:
        # No preexec_fn: the indexer has threads (torch), so nothing but exec may run after its fork. Its own
        # session: Ctrl-C on the terminal is the indexer's to handle, and the worker's group can be killed whole.
        _worker = subprocess.Popen([sys.executable, "-c", _WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   bufsize=0, close_fds=True, start_new_session=True)
        log.debug("started the PDF reader process %d", _worker.pid)
    return _worker


def stop_worker() -> None:
    """End the PDF reader process (it also ends by itself when this process ends: its input closes)."""
    with _lock:
        if _worker is not None:
            _stop(_worker)


def _stop(worker: subprocess.Popen, now: bool = False) -> None:
    """Close the worker's input (it ends when idle); `now`, or if it is still busy after 5 s, kill it and the
    child reading a file (its own process group)."""
    global _worker
    for stream in (worker.stdin, worker.stdout):
        if stream is not None:
            stream.close()
    try:
        worker.wait(timeout=0 if now else 5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        worker.wait()
    if _worker is worker:
        _worker = None


atexit.register(stop_worker)


# -- frames: a length, then that many bytes (the requests and replies are pickles) ---------------------------------
def write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(_HEADER.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view):]


def read_frame(fd: int, deadline: float | None = None) -> bytes | None:
    """One frame; None when the other side closed the stream between frames. TimeoutError past `deadline`
    (time.monotonic), EOFError when the stream ends inside a frame."""
    header = _read_exactly(fd, _HEADER.size, deadline)
    if header is None:
        return None
    payload = _read_exactly(fd, _HEADER.unpack(header)[0], deadline)
    if payload is None:
        raise EOFError("the stream ended inside a frame")
    return payload


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes | None:
    parts, got = [], 0
    while got < size:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("no answer in time")
        chunk = os.read(fd, min(size - got, 1 << 20))
        if not chunk:
            if got:
                raise EOFError("the stream ended inside a frame")
            return None
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)
