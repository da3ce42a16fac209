"""One bad file never stops the run (issue 29): names that are not UTF-8, identical copies of a file that
fails, binary junk under any document suffix, decompression bombs, dangling symlinks. Each bad file is
reported by name in one line, exit code 1, the good files beside it are indexed and nothing else changes;
the next run behaves the same. Real builds (the session's model), the CLI where the operator's view counts."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.build.index import Index
from tests.bombs import (flate_bomb_pdf, form_repetition_pdf, huge_page_pdf, huge_xml_docx, junk, many_chars_pdf,
                         many_pages_pdf, many_paragraphs_docx, many_tags_html)
from tests.fixtures_formats import CJK_FONT, build_pdf, report_items
from tests.index.test_repair import FILES, cli, env_for, gen_dir, paths, places, state

GBK_NAME = "测试报告".encode("gbk")  # b"\xb2\xe2\xca\xd4\xb1\xa8\xb8\xe6": a name from a Windows share
SHOWN = GBK_NAME.decode("utf-8", "surrogateescape").encode("utf-8", "surrogateescape").decode(
    "utf-8", "backslashreplace")  # how it is shown: \xb2\xe2…
CLINIC = ("桃源镇2023年法治政府建设工作报告\n\n一、主要做法和成效\n\n桃源镇与县司法局共建“法律诊所”，每周二由律师在镇便民"
          "服务中心接待群众，全年解答咨询一百六十余件。\n\n二、存在问题\n\n乡镇执法人员数量不足，专业化水平有待进一步提高。\n")


def write_bytes_name(folder: Path, name: bytes, content: bytes) -> None:
    """Create a file whose name is raw bytes (not necessarily UTF-8)."""
    with open(os.fsencode(folder) + b"/" + name, "wb") as fh:
        fh.write(content)


def failed_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("FAILED: ")]


# -- 1. a file name that is not UTF-8 --------------------------------------------------------------------------
def test_a_file_name_that_is_not_utf8_is_indexed_under_an_escaped_name(build_index):
    config, _ = build_index(FILES)
    write_bytes_name(build_index.corpus, GBK_NAME + b".txt", CLINIC.encode("utf-8"))
    write_bytes_name(build_index.corpus, b"\xb8\xb1\xb1\xbe.txt", FILES["a.txt"].encode("utf-8"))  # 副本: a copy
    done = cli(["index", str(build_index.corpus), "--dry-run"], env_for(config))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert f"  new: {SHOWN}.txt" in done.stdout.splitlines()
    config, rep = build_index()
    assert rep.exit_code == 0, rep.summary()
    assert rep.added == [f"{SHOWN}.txt"] and rep.duplicates == [["\\xb8\\xb1\\xb1\\xbe.txt", "a.txt"]]
    assert paths(config, '"法律诊所"') == {f"{SHOWN}.txt"}
    for args in ([], ["--full"]):  # every next run works, from the CLI too (the embeddings are cached)
        done = cli(["index", str(build_index.corpus), "--no-progress", *args], env_for(config))
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
        assert "duplicate: \\xb8\\xb1\\xb1\\xbe.txt = a.txt (indexed once)" in done.stdout
    assert paths(config, '"法律诊所"') == {f"{SHOWN}.txt"} and state(config)[0] == 4
    done = cli(["status"], env_for(config))
    assert done.returncode == 0 and "last run: ok (exit 0)" in done.stdout, done.stdout + done.stderr


# -- 2. identical copies of a file that fails --------------------------------------------------------------------
def test_identical_files_that_fail_to_load_each_fail_by_name_and_the_rest_is_published(build_index):
    config, _ = build_index(FILES)
    before = state(config)
    (build_index.corpus / "a-empty.txt").write_bytes(b"")
    (build_index.corpus / "b-empty.txt").write_bytes(b"")
    for _ in range(2):  # and the next run says the same
        done = cli(["index", str(build_index.corpus), "--no-progress"], env_for(config))
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stdout + done.stderr
        assert failed_lines(done.stdout) == ["FAILED: a-empty.txt: empty file (0 bytes)",
                                             "FAILED: b-empty.txt: empty file (0 bytes) (same content as a-empty.txt)"]
        assert "duplicate:" not in done.stdout
        assert state(config) == before
    done = cli(["index", str(build_index.corpus), "--dry-run"], env_for(config))
    assert "will fail: b-empty.txt: empty file (0 bytes) (same content as a-empty.txt)" in done.stdout


def test_a_file_and_its_copy_that_both_break_keep_their_previous_version(build_index):
    config, _ = build_index({**FILES, "copy-of-a.txt": FILES["a.txt"]})
    before = state(config)
    for name in ("a.txt", "copy-of-a.txt"):
        (build_index.corpus / name).write_bytes(b"PK\x03\x04" + bytes(300))  # both now the same broken bytes
    _, rep = build_index()
    assert rep.exit_code == 1, rep.summary()
    assert {f["path"]: f["kept_previous"] for f in rep.failures} == {"a.txt": True, "copy-of-a.txt": True}
    assert state(config) == before and places(config, "板凳调解") == {"石门乡"}
    _, rep = build_index(full=True)  # a full rebuild keeps them too
    assert rep.exit_code == 1 and state(config)[0] == before[0]
    assert places(config, "板凳调解") == {"石门乡"}


# -- 3 and 7: the matrix of one bad file among good ones ------------------------------------------------------
def _truncated_pdf(tmp: Path) -> bytes:
    whole = build_pdf(report_items(), tmp / "whole.pdf").read_bytes()
    return whole[: len(whole) // 3]


# case -> (files to add: name -> bytes or a builder(tmp) -> bytes, expected failures: path -> reason part)
MATRIX = {
    "junk.txt": ({"junk.txt": junk()}, {"junk.txt": "not text"}),
    "junk.html": ({"junk.html": junk()}, {"junk.html": "binary data, not text"}),
    "junk.htm": ({"junk.htm": junk()}, {"junk.htm": "binary data, not text"}),
    "junk.doc": ({"junk.doc": junk()}, {"junk.doc": "binary data, not text"}),
    "junk.wps": ({"junk.wps": junk()}, {"junk.wps": "binary data, not text"}),
    "junk.docx": ({"junk.docx": junk()}, {"junk.docx": "corrupt .docx"}),
    "junk.pdf": ({"junk.pdf": junk()}, {"junk.pdf": "not a PDF"}),
    "junk under a GBK name": ({GBK_NAME + b".html": junk()}, {f"{SHOWN}.html": "binary data, not text"}),
    "two empty files": ({"x.txt": b"", "y.txt": b""},
                        {"x.txt": "empty file", "y.txt": "empty file (0 bytes) (same content as x.txt)"}),
    "two truncated PDFs": ({"t1.pdf": _truncated_pdf, "t2.pdf": _truncated_pdf},
                           {"t1.pdf": "", "t2.pdf": "(same content as t1.pdf)"}),
    "two junk files under GBK names": ({b"\xb8\xb1.html": junk(), b"\xb1\xbe.html": junk()},
                                       {"\\xb1\\xbe.html": "binary data", "\\xb8\\xb1.html": "(same content as \\xb1\\xbe.html)"}),
    "1 GiB document.xml": ({"bomb.docx": lambda tmp: huge_xml_docx(tmp / "b.docx").read_bytes()},
                           {"bomb.docx": "unpacks to more than 33,554,432 bytes (setting max_unpacked_bytes)"}),
    "2 million paragraphs": ({"paragraphs.docx": lambda tmp: many_paragraphs_docx(tmp / "p.docx").read_bytes()},
                             {"paragraphs.docx": "too many paragraphs: more than 40,000 in word/document.xml"}),
    "a bomb named .doc": ({"bomb.doc": lambda tmp: many_paragraphs_docx(tmp / "p.docx").read_bytes()},
                          {"bomb.doc": "setting max_file_paragraphs"}),
    "a million tags of HTML": ({"tags.html": lambda tmp: many_tags_html(tmp / "t.html").read_bytes()},
                               {"tags.html": "too many HTML tags: 2,000,004 > 400,000"}),
    "a Flate bomb .pdf": ({"flate.pdf": lambda tmp: flate_bomb_pdf(tmp / "f.pdf").read_bytes()},
                          {"flate.pdf": "a content stream (at byte 275) inflates to more than 2,097,152 bytes"}),
    "200,000 pages of .pdf": ({"pages.pdf": lambda tmp: many_pages_pdf(tmp / "p.pdf").read_bytes()},
                              {"pages.pdf": "too many pages: 200,000 > limit 20,000 (setting max_file_paragraphs)"}),
    "3 million characters of .pdf": ({"chars.pdf": lambda tmp: many_chars_pdf(tmp / "c.pdf").read_bytes()},
                                     {"chars.pdf": "more than 2,000,000 characters by page 20 (setting max_file_chars)"}),
    "a form drawn 20,000 times .pdf": ({"form.pdf": lambda tmp: form_repetition_pdf(tmp / "f.pdf").read_bytes()},
                                       {"form.pdf": "out of memory: reading this PDF takes more than 536,870,912 "
                                                    "bytes (setting max_pdf_memory_bytes)"}),
}


@pytest.mark.parametrize("case", list(MATRIX))
def test_one_bad_file_among_good_ones(build_index, tmp_path, case):
    if "PDF" in case and not CJK_FONT.exists():
        pytest.fail(f"{CJK_FONT} is missing: test PDFs need fonts-wqy-zenhei (make system-deps)")
    bad, expected = MATRIX[case]
    config, rep = build_index(FILES)
    assert rep.exit_code == 0
    generation, before = gen_dir(config).name, state(config)
    for name, content in bad.items():
        data = content(tmp_path) if callable(content) else content
        write_bytes_name(build_index.corpus, name.encode() if isinstance(name, str) else name, data)
    for run in range(2):  # the next run reports the same and still publishes the good files
        t0 = time.perf_counter()
        _, rep = build_index()
        took = time.perf_counter() - t0
        summary = rep.summary()
        assert rep.exit_code == 1, summary
        assert {f["path"] for f in rep.failures} == set(expected), summary
        for path, reason in expected.items():
            line = [line for line in failed_lines(summary) if line.startswith(f"FAILED: {path}: ")]
            assert len(line) == 1 and reason in line[0], summary
        assert not rep.added and not rep.duplicates and not rep.deleted, summary
        assert gen_dir(config).name == generation and state(config) == before, "nothing else changes"
        assert took < 60, f"run {run} took {took:.0f} s"
    assert places(config, "板凳调解") == {"石门乡"} and places(config, "电信诈骗") == {"柳林乡"}


# -- 7. the memory bound of reading one file -----------------------------------------------------------------------
_READ = """
import resource, sys, time
from pathlib import Path
from indexer.pipeline.ingest import parse_file
from indexer.pipeline.load import LoadError
from indexer.pipeline.load.pdf_process import stop_worker
t0 = time.process_time()
try:
    parse_file(Path(sys.argv[1]), sys.argv[2], 50 * 1024 * 1024, max_chars=2_000_000, max_paragraphs=20_000)
    print("READ")
except LoadError as exc:
    print(exc)
cpu = time.process_time() - t0
# Peak RSS of this process. Not getrusage's ru_maxrss: Linux carries it over exec from the parent (pytest,
# with the model loaded); VmHWM is this program's own high-water mark.
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
# PDFs are read in a child of a worker process: their peak and CPU time count once the worker has ended (the
# peak at most overstated by this program's size when it started the worker).
stop_worker()
children = resource.getrusage(resource.RUSAGE_CHILDREN)
# CPU seconds, not wall clock: "fails fast" is the work done before refusing, whatever else the machine runs.
print(cpu + children.ru_utime + children.ru_stime)
print(max(int(hwm.split()[1]), children.ru_maxrss) // 1024)
"""

MAX_READ_MB = 500  # the stated bound (README): reading any single file stays under it


BOMBS = {"1 GiB document.xml": (huge_xml_docx, "bomb.docx", "setting max_unpacked_bytes"),
         "2 million paragraphs": (many_paragraphs_docx, "bomb.docx", "setting max_file_paragraphs"),
         "a million tags of HTML": (many_tags_html, "bomb.html", "> 400,000 (a reading limit)"),
         # 0.7 MB inflating to 512 MiB: 27 s and 6.7 GB in PDFium before it was measured first
         "a Flate bomb .pdf": (flate_bomb_pdf, "bomb.pdf", "inflates to more than 2,097,152 bytes (a reading limit)"),
         # 2 MB of packed objects: over 300 s and 1.7 GB before pages were counted first
         "200,000 pages of .pdf": (many_pages_pdf, "bomb.pdf", "too many pages: 200,000 > limit 20,000"),
         # one 15 KB content stream shown on 30 pages: 25 s and 830 MB before characters were counted first
         "3 million characters of .pdf": (many_chars_pdf, "bomb.pdf", "(setting max_file_chars)")}


def _read_in_child(path: Path, name: str) -> tuple[str, float, int]:
    done = subprocess.run([sys.executable, "-c", _READ, str(path), name], capture_output=True, text=True,
                          timeout=600, cwd=Path(__file__).resolve().parents[2])
    message, seconds, peak_mb = done.stdout.strip().splitlines()
    return message, float(seconds), int(peak_mb)


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_reading_a_bomb_fails_fast_within_the_memory_bound(tmp_path, bomb):
    builder, name, limit = BOMBS[bomb]
    message, seconds, peak_mb = _read_in_child(builder(tmp_path / name), name)
    assert message.startswith(f"{name}: ") and limit in message, message
    assert seconds < 5, f"{bomb}: {seconds} CPU s before failing"
    assert peak_mb <= MAX_READ_MB, f"{bomb}: peak RSS {peak_mb} MB"


@pytest.mark.parametrize("builder,name", [(huge_page_pdf, "huge-page.pdf"),
                                          (lambda path: many_chars_pdf(path, pages=19), "1.9M-chars.pdf")])
def test_pdfs_within_the_limits_are_read_within_the_memory_bound(tmp_path, builder, name):
    """Not everything odd is refused: a 10^9-point page is read (text extraction allocates nothing by page
    size), and so is a PDF just under max_file_chars (1.9 million characters), both under the bound."""
    message, seconds, peak_mb = _read_in_child(builder(tmp_path / name), name)
    assert message == "READ", message
    assert peak_mb <= MAX_READ_MB, f"{name}: peak RSS {peak_mb} MB ({seconds:.1f} s)"


# -- 8. a dangling symlink -------------------------------------------------------------------------------------------
def test_a_dangling_symlink_is_skipped_with_a_warning_on_every_run(build_index):
    build_index.corpus.mkdir(parents=True)
    os.symlink("gone.txt", build_index.corpus / "dangling.txt")
    for _ in range(2):
        config, rep = build_index(FILES)
        assert rep.exit_code == 0 and not rep.failures, rep.summary()
        assert rep.skipped == [{"path": "dangling.txt", "reason": "dangling symlink: its target gone.txt does not exist"}]
    assert "skipped: dangling.txt: dangling symlink" in rep.summary()
