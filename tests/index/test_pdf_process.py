"""PDFs are read in a child process capped in memory and time (issue 29): a 2 KB PDF that draws one form
20,000 times (~2 GB inside PDFium, which aborts its process when an allocation fails) fails by name while the
indexer stays small and the run goes on; the text read in the child is the text read in process."""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from indexer.pipeline.load import DEFAULT_LIMITS, LoadError, load_file
from indexer.pipeline.load.pdf_format import read_pdf
from indexer.search.searcher import Searcher
from indexer.search.types import SearchRequest
from tests.bombs import form_repetition_pdf, many_chars_pdf
from tests.fixtures_formats import CJK_FONT, build_pdf, report_items

REPO = Path(__file__).resolve().parents[2]
MB = 1 << 20
needs_font = pytest.mark.skipif(not CJK_FONT.exists(),
                                reason="fonts-wqy-zenhei is needed to build test PDFs (make system-deps)")

# Reads one file as a build does, in a fresh interpreter: its own peak (VmHWM; ru_maxrss would carry the
# parent's over exec) and, once the PDF reader process has ended, its children's peak (the capped readers).
_READ = """
import resource, sys, time
from pathlib import Path
from indexer.pipeline.ingest import parse_file
from indexer.pipeline.load import LoadError
from indexer.pipeline.load.pdf_process import stop_worker
t0 = time.perf_counter()
try:
    parse_file(Path(sys.argv[1]), "bomb.pdf", 50 * 1024 * 1024, pdf_memory=int(sys.argv[2]))
    print("READ")
except LoadError as exc:
    print(exc)
print(time.perf_counter() - t0)
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) // 1024)
stop_worker()
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
"""


@pytest.mark.parametrize("cap", [DEFAULT_LIMITS.pdf_memory_bytes, 256 * MB])
def test_a_form_bomb_fails_by_name_within_the_memory_cap(tmp_path, cap):
    bomb = form_repetition_pdf(tmp_path / "bomb.pdf")
    assert bomb.stat().st_size < 4096
    done = subprocess.run([sys.executable, "-c", _READ, str(bomb), str(cap)], capture_output=True, text=True,
                          timeout=300, cwd=REPO)
    message, seconds, own_mb, children_mb = done.stdout.strip().splitlines()
    assert message == (f"bomb.pdf: out of memory: reading this PDF takes more than {cap:,} bytes "
                       "(setting max_pdf_memory_bytes)"), done.stdout + done.stderr
    assert int(own_mb) <= 100, f"the indexer's own peak: {own_mb} MB"  # PDFium's memory never in it
    assert int(children_mb) <= cap // MB, f"the reader's peak: {children_mb} MiB > cap {cap // MB} MiB"
    # issue 29's bound: reading any single input peaks at most 500 MB (decimal), reader included
    assert int(children_mb) * MB <= 500 * 10**6, f"the reader's peak: {children_mb} MiB > 500 MB"
    assert float(seconds) < 30


@needs_font
def test_a_form_bomb_among_good_files_fails_alone_under_the_configured_cap(build_index, encoder, tmp_path):
    good = build_pdf(report_items(), tmp_path / "good.pdf").read_bytes()
    config, rep = build_index({"good.pdf": good, "a.txt": "石门乡2023年法治工作报告\n\n石门乡推行“板凳调解”工作法，"
                                                         "全年化解矛盾五十余起，群众满意度明显提高。\n"})
    assert rep.exit_code == 0 and not rep.failures, rep.summary()
    (build_index.corpus / "form.pdf").write_bytes(form_repetition_pdf(tmp_path / "f.pdf").read_bytes())
    other = build_pdf(report_items("003_82ca6d383a15eea9.txt"), tmp_path / "other.pdf").read_bytes()
    (build_index.corpus / "other.pdf").write_bytes(other)
    config, rep = build_index(max_pdf_memory_bytes=300 * MB)
    assert rep.exit_code == 1, rep.summary()
    assert [(f["path"], f["reason"]) for f in rep.failures] == [
        ("form.pdf", "out of memory: reading this PDF takes more than 314,572,800 bytes "
                     "(setting max_pdf_memory_bytes)")]
    assert "FAILED: form.pdf: out of memory" in rep.summary()
    assert rep.added == ["other.pdf"], rep.summary()  # the PDF read after the bomb is indexed
    searcher = Searcher.open(config, encoder)
    try:
        for query, path in (("心桥工程", "good.pdf"), ("大铭乡", "other.pdf"), ("板凳调解", "a.txt")):
            hits = searcher.search(SearchRequest(query=query, mode="keyword", size=20)).hits
            assert {h.path for h in hits} == {path}, query
    finally:
        searcher.close()


@needs_font
def test_a_pdf_that_reads_too_long_fails_by_the_time_setting_and_the_next_one_is_read(tmp_path):
    slow = many_chars_pdf(tmp_path / "slow.pdf", pages=5)  # ~10 s to read on this machine
    t0 = time.perf_counter()
    with pytest.raises(LoadError) as failed:
        load_file(slow, "slow.pdf", 50 * MB, dataclasses.replace(DEFAULT_LIMITS, pdf_seconds=1))
    assert str(failed.value) == "slow.pdf: reading this PDF takes more than 1 s (setting max_pdf_seconds)"
    assert time.perf_counter() - t0 < 5
    good = build_pdf(report_items(), tmp_path / "good.pdf")
    assert any("心桥工程" in b.text for b in load_file(good, "good.pdf", 50 * MB).blocks)


@needs_font
@pytest.mark.parametrize("columns", [1, 2])
def test_the_text_read_in_the_child_is_the_text_read_in_process(tmp_path, columns):
    path = build_pdf(report_items(), tmp_path / "r.pdf", columns=columns)
    in_process = read_pdf("r.pdf", path.read_bytes())
    uncapped = load_file(path, "r.pdf", 50 * MB, dataclasses.replace(DEFAULT_LIMITS, pdf_memory_bytes=0))
    in_child = load_file(path, "r.pdf", 50 * MB)
    assert in_child == in_process == uncapped
    assert len(in_child.blocks) > 10


def _children(pid: str = "self") -> list[int]:
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


def _pdf_reader_processes() -> list[int]:
    """This process's children that are the PDF reader (Linux /proc)."""
    pids = []
    for pid in _children():
        try:
            if b"pdf_worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.append(pid)
        except FileNotFoundError:
            pass
    return pids


@needs_font
def test_a_killed_pdf_reader_fails_only_the_file_it_was_reading_and_is_restarted(tmp_path):
    good = build_pdf(report_items(), tmp_path / "good.pdf")
    load_file(good, "good.pdf", 50 * MB)
    [worker] = _pdf_reader_processes()
    os.kill(worker, signal.SIGKILL)  # idle: the next PDF starts a new one
    assert load_file(good, "good.pdf", 50 * MB).blocks
    [worker] = _pdf_reader_processes()
    slow = many_chars_pdf(tmp_path / "slow.pdf", pages=5)
    reading: list[int] = []

    def kill_the_worker_alone() -> None:  # as the system's OOM killer would, mid-file
        reading.extend(_children(str(worker)))
        os.kill(worker, signal.SIGKILL)

    threading.Timer(1.0, kill_the_worker_alone).start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(LoadError) as failed:
            load_file(slow, "slow.pdf", 50 * MB)
        assert str(failed.value) == "slow.pdf: the PDF reader process stopped unexpectedly"
        assert time.perf_counter() - t0 < 5  # at once (the reading child holds no pipe to us), not after 180 s
    finally:
        for pid in reading:  # the orphaned reading child would end by itself, when done or at its CPU limit
            os.kill(pid, signal.SIGKILL)
    assert reading and load_file(good, "good.pdf", 50 * MB).blocks
