"""Bad files never break a run: each is reported by name with a reason, the good files beside it are
searchable, and a previously indexed good version is never replaced (issue 5), through the real build."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from indexer.search.searcher import Searcher
from indexer.search.types import SearchRequest
from tests.fixtures_formats import CJK_FONT, as_txt, build_docx, build_pdf, report_items

GOOD_TEXT = (
    "石门乡2023年法治政府建设工作报告\n\n一、主要做法\n\n"
    "石门乡创新推行“板凳调解”工作法，组织老党员在村口板凳上调解邻里纠纷，全年化解矛盾五十余起。\n"
)


def keyword_places(config, encoder, query: str) -> set[str]:
    s = Searcher.open(config, encoder)
    try:
        return {h.path for h in s.search(SearchRequest(query, mode="keyword", size=50)).hits}
    finally:
        s.close()


def failures(report) -> dict[str, str]:
    return {f["path"]: f["reason"] for f in report.failures}


def test_each_bad_file_is_named_with_a_reason_and_good_files_stay_searchable(build_index, encoder, tmp_path):
    good_docx = build_docx(report_items(), tmp_path / "good.docx")
    docx_bytes = good_docx.read_bytes()
    files = {
        "good.txt": GOOD_TEXT,
        "good.docx": docx_bytes,
        "zero.docx": b"",
        "truncated.docx": docx_bytes[: len(docx_bytes) // 2],
        "fake.pdf": b"<!DOCTYPE html><html><body>not a pdf</body></html>",
        "big.txt": "很长的文件。" * 40_000,
    }
    config, rep = build_index(files, max_file_bytes=200_000)
    failed = failures(rep)
    assert set(failed) == {"zero.docx", "truncated.docx", "fake.pdf", "big.txt"}, failed
    assert "empty" in failed["zero.docx"]
    assert "corrupt" in failed["truncated.docx"] or "zip" in failed["truncated.docx"]
    assert "HTML" in failed["fake.pdf"] or "not a PDF" in failed["fake.pdf"]
    assert "too large" in failed["big.txt"]
    assert rep.exit_code == 1
    assert keyword_places(config, encoder, "板凳调解") == {"good.txt"}
    assert keyword_places(config, encoder, "心桥工程") == {"good.docx"}


@pytest.mark.usefixtures("cjk_font")
def test_encrypted_pdf_is_reported_and_a_good_pdf_beside_it_is_indexed(build_index, encoder, tmp_path):
    items = report_items()
    good = build_pdf(items, tmp_path / "good.pdf")
    encrypted = tmp_path / "locked.pdf"
    _encrypted_pdf(encrypted)
    config, rep = build_index({"good.pdf": good.read_bytes(), "locked.pdf": encrypted.read_bytes()})
    assert "encrypted" in failures(rep)["locked.pdf"]
    assert keyword_places(config, encoder, "心桥工程") == {"good.pdf"}


def _encrypted_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.add_font("zh", fname=str(CJK_FONT))
    pdf.set_font("zh", size=12)
    pdf.cell(text="加密的报告")
    pdf.output(str(path))


def test_a_good_file_that_turns_corrupt_keeps_its_indexed_version(build_index, encoder, tmp_path):
    docx_bytes = build_docx(report_items(), tmp_path / "r.docx").read_bytes()
    config, rep = build_index({"r.docx": docx_bytes})
    assert rep.exit_code == 0
    (build_index.corpus / "r.docx").write_bytes(b"PK\x03\x04 broken zip")
    _, rep = build_index()
    assert rep.exit_code == 1 and rep.failures[0]["kept_previous"]
    assert keyword_places(config, encoder, "心桥工程") == {"r.docx"}


def test_symlink_loop_is_reported_and_does_not_hang(build_index, encoder):
    """A loop is listed as skipped (a warning: issue 13 chose that it does not change the exit code)."""
    build_index.corpus.mkdir(parents=True, exist_ok=True)
    (build_index.corpus / "sub").mkdir()
    os.symlink("..", build_index.corpus / "sub" / "loop")
    os.symlink("self.txt", build_index.corpus / "self.txt")  # a link to itself
    config, rep = build_index({"good.txt": GOOD_TEXT})
    skipped = {s["path"]: s["reason"] for s in rep.skipped}
    assert "symlink loop" in skipped.get("sub/loop", "") and "symlink loop" in skipped.get("self.txt", "")
    assert rep.exit_code == 0 and not rep.failures
    assert keyword_places(config, encoder, "板凳调解") == {"good.txt"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_reported(build_index, encoder):
    build_index.corpus.mkdir(parents=True, exist_ok=True)
    (build_index.corpus / "locked.txt").write_text(GOOD_TEXT, encoding="utf-8")
    os.chmod(build_index.corpus / "locked.txt", 0)
    config, rep = build_index({"good.txt": GOOD_TEXT})
    assert "permission denied" in failures(rep)["locked.txt"]
    assert keyword_places(config, encoder, "板凳调解") == {"good.txt"}


def test_the_same_report_as_txt_and_docx_gives_the_same_passage(build_index, encoder, tmp_path):
    """The same report as .txt and .docx (different bytes, so not a duplicate file) gives the same passage:
    shown once, with the other copy listed as sharing the wording."""
    items = report_items()
    files = {"r.txt": as_txt(items), "r.docx": build_docx(items, tmp_path / "r.docx").read_bytes()}
    config, rep = build_index(files)
    assert rep.exit_code == 0, rep.summary()
    s = Searcher.open(config, encoder)
    try:
        hits = s.search(SearchRequest('"7起历时多年的信访积案有6起得到化解"', mode="keyword")).hits
    finally:
        s.close()
    assert len(hits) == 1
    assert {hits[0].path} | {w.path for w in hits[0].shared_with} == {"r.txt", "r.docx"}


def test_circled_number_lists_are_read_not_crashed_on(build_index, encoder):
    text = GOOD_TEXT + "\n二、下一步计划\n\n①继续推行板凳调解，覆盖全部行政村，力争全年化解矛盾一百起以上。\n\n②加强人民调解员培训，每季度组织一次集中学习。\n"
    config, rep = build_index({"circled.txt": text})
    assert rep.exit_code == 0, rep.summary()
    assert keyword_places(config, encoder, "人民调解员培训") == {"circled.txt"}
