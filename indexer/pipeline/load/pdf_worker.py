"""The PDF reading process, started once per indexing process by `pdf_process` (requests on its stdin, replies
on its stdout). For each request it forks a child that caps its own address space (RLIMIT_AS), reads the PDF
and sends back the RawDocument (or the reason it failed), then exits.

Why a child per file: PDFium's memory is out of Python's reach. A 2 KB PDF that draws one small form thousands
of times expands to gigabytes of characters inside PDFium, and PDFium aborts the whole process when an
allocation fails. In a child the cap ends that file only, and memory never accumulates from file to file.
The worker itself is small and single-threaded (safe to fork; the indexer, with torch's threads, is not),
and has pypdfium2 imported already: a child costs ~6 ms of CPU per PDF (scripts/bench_pdf_process.py), where
a new interpreter would cost ~0.3 s.
"""
from __future__ import annotations

import math
import os
import pickle
import resource
import select
import signal
import sys
import time

from indexer.pipeline.load import LoadError, ReadLimits
from indexer.pipeline.load.pdf_format import read_pdf
from indexer.pipeline.load.pdf_process import Reply, read_frame, write_frame

_EXIT_OUT_OF_MEMORY = 3  # the child ran out of memory even to report it


def main() -> None:
    requests = sys.stdin.buffer.raw.fileno()
    replies = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print (ours or PDFium's) cannot corrupt a reply
    while True:
        frame = read_frame(requests)
        if frame is None:  # the indexer is gone or done
            return
        rel_path, data, limits = pickle.loads(frame)
        reply = serve(rel_path, data, limits, (requests, replies))
        write_frame(replies, pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))


def serve(rel_path: str, data: bytes, limits: ReadLimits, worker_fds: tuple[int, ...] = ()) -> Reply:
    """Read one PDF in a capped child; the reply says what became of it. The child closes `worker_fds` (the
    worker's pipes to the indexer): were the worker killed, they must not stay open in a child."""
    receive, send = os.pipe()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        for fd in (receive, *worker_fds):
            os.close(fd)
        _child(send, rel_path, data, limits)  # never returns
    os.close(send)
    try:
        payload, timed_out = _collect(receive, started + limits.pdf_seconds)
    finally:
        os.close(receive)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    seconds, peak = time.perf_counter() - started, usage.ru_maxrss * 1024
    if timed_out:
        return Reply("timeout", None, seconds, peak)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        # PDFium ends the process with abort() when an allocation fails (the cap is the likely cause).
        kind = "memory" if sig == signal.SIGABRT else "crash"
        return Reply(kind, signal.Signals(sig).name, seconds, peak)
    if os.WEXITSTATUS(status) == _EXIT_OUT_OF_MEMORY:
        return Reply("memory", None, seconds, peak)
    if not payload:
        return Reply("crash", f"exit status {os.WEXITSTATUS(status)}", seconds, peak)
    kind, value = pickle.loads(payload)
    return Reply(kind, value, seconds, peak)


def _collect(fd: int, deadline: float) -> tuple[bytes, bool]:
    """All the child writes, until it closes the pipe or the deadline passes (then True)."""
    parts: list[bytes] = []
    while True:
        left = deadline - time.perf_counter()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return b"", True
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(parts), False
        parts.append(chunk)


def _child(send: int, rel_path: str, data: bytes, limits: ReadLimits) -> None:
    code = 0
    try:
        _cap(resource.RLIMIT_AS, limits.pdf_memory_bytes)
        # The worker kills a child past its time; should the worker be gone first, this ends the child.
        _cap(resource.RLIMIT_CPU, math.ceil(limits.pdf_seconds) + 1)
        try:
            result: tuple[str, object] = ("ok", read_pdf(rel_path, data, limits))
        except LoadError as exc:
            result = ("error", exc.reason)
        except MemoryError:
            result = ("memory", None)
        except Exception as exc:  # a parser library's own error: the indexer reports it like any other
            result = ("exception", f"{type(exc).__name__}: {exc}")
        payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(payload)
        while view:
            view = view[os.write(send, view):]
    except MemoryError:
        code = _EXIT_OUT_OF_MEMORY
    except BaseException:  # noqa: BLE001 - a child must never return into the worker's loop
        code = 1
    finally:
        os._exit(code)


def _cap(kind: int, value: int) -> None:
    _, hard = resource.getrlimit(kind)
    resource.setrlimit(kind, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))


if __name__ == "__main__":
    main()
