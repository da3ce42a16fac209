"""Every report format reads back as the same report: title, headings and paragraphs as the .txt original.

Fixtures are built from the sample report's text at test time (tests/fixtures_formats.py).
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from fixtures_formats import (
    RUNNING_HEADER, as_txt, build_docx, build_html, build_pdf, build_scanned_pdf, report_items,
)
from indexer.pipeline.clean import clean_blocks
from indexer.core.document import Role
from indexer.pipeline.load import LoadError, load_file
from indexer.pipeline.load.legacy_format import NEEDS_LIBREOFFICE, find_soffice
from indexer.pipeline.load.sidecar import load_sidecars
from indexer.pipeline.metadata import extract_metadata
from indexer.pipeline.structure import build_paragraphs

LIMIT = 50 * 1024 * 1024
# Debian packages `make system-deps` installs: without one, the tests that need it fail naming it (no skip).
needs_font = pytest.mark.usefixtures("cjk_font")
needs_soffice = pytest.mark.usefixtures("soffice")


def parse(path: Path):
    raw = load_file(path, path.name, LIMIT)
    paragraphs = build_paragraphs(clean_blocks(raw.blocks))
    return raw, paragraphs, extract_metadata(raw, paragraphs)


def outline(paragraphs) -> list[tuple[bool, str]]:
    return [(p.is_heading, p.text) for p in paragraphs]


@pytest.fixture(scope="module")
def items():
    return report_items()


@pytest.fixture(scope="module")
def original(tmp_path_factory, items):
    path = tmp_path_factory.mktemp("txt") / "report.txt"
    path.write_text(as_txt(items), encoding="utf-8")
    return parse(path)


def _make(kind: str, items, folder: Path) -> Path:
    if kind == "docx":
        return build_docx(items, folder / "report.docx")
    if kind == "pdf":
        return build_pdf(items, folder / "report.pdf")
    if kind == "pdf-two-columns":
        return build_pdf(items, folder / "report.pdf", columns=2)
    if kind == "html-gbk":
        (folder / "report.html").write_bytes(build_html(items, encoding="gbk"))
        return folder / "report.html"
    if kind == "htm-utf8":
        (folder / "report.htm").write_bytes(build_html(items, encoding="utf-8"))
        return folder / "report.htm"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", [
    "docx",
    "pdf",  # build_pdf fails naming the font if it is missing
    "pdf-two-columns",
    "html-gbk",
    "htm-utf8",
])
def test_format_reads_as_the_txt_original(kind, items, original, tmp_path):
    _, txt_paragraphs, txt_meta = original
    raw, paragraphs, meta = parse(_make(kind, items, tmp_path))
    assert outline(paragraphs) == outline(txt_paragraphs)
    assert [p.heading_path for p in paragraphs] == [p.heading_path for p in txt_paragraphs]
    assert meta.title == txt_meta.title == "2023年度观音堂镇法治政府建设工作报告"
    assert (meta.place, meta.year) == (txt_meta.place, txt_meta.year)
    assert raw.hints["title"] == meta.title


def test_docx_keeps_heading_levels_tables_and_text_boxes_but_not_page_furniture(items, tmp_path):
    raw = load_file(build_docx(items, tmp_path / "r.docx", table=True, text_box="文本框：全年调处纠纷268起"),
                    "r.docx", LIMIT)
    headings = [(b.text, b.level) for b in raw.blocks if b.role is Role.HEADING]
    assert headings[0] == ("2023年度观音堂镇法治政府建设工作报告", 0)  # the Title style: the document title
    assert ("二、深化普法教育，提升法治意识", 1) in headings
    rows = [b.text for b in raw.blocks if b.role is Role.TABLE_ROW]
    assert rows == ["指标 | 数量 | 单位", "指标：受理信访案件；数量：40；单位：件", "指标：调处矛盾纠纷；数量：268；单位：起"]
    # The table stays where it is in the body: right after the first paragraph.
    first_row = next(i for i, b in enumerate(raw.blocks) if b.role is Role.TABLE_ROW)
    assert raw.blocks[first_row - 1].text.startswith("2023年以来")
    texts = [b.text for b in raw.blocks]
    assert "文本框：全年调处纠纷268起" in texts
    assert not any("观音堂镇人民政府文件" in t or t in ("第1页", "1") for t in texts)


def test_docx_list_numbering_becomes_text(tmp_path):
    """Word draws "一、" / "（一）" from numbering.xml; the text must carry it for the structure step."""
    import docx
    from docx.oxml import parse_xml

    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.append(parse_xml(
        '<w:abstractNum xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/></w:lvl>'
        '</w:abstractNum>'))
    numbering.append(parse_xml(
        '<w:num xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" w:numId="90">'
        '<w:abstractNumId w:val="90"/></w:num>'))
    for level, text in [(0, "主要工作"), (1, "加强组织领导"), (1, "深化普法宣传"), (0, "存在问题")]:
        p = document.add_paragraph(text)
        p._p.get_or_add_pPr().append(parse_xml(
            '<w:numPr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f'<w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>'))
    document.save(str(tmp_path / "n.docx"))
    raw = load_file(tmp_path / "n.docx", "n.docx", LIMIT)
    assert [b.text for b in raw.blocks] == ["一、主要工作", "（一）加强组织领导", "（二）深化普法宣传", "二、存在问题"]


@needs_font
def test_pdf_drops_running_header_and_page_numbers(items, tmp_path):
    raw = load_file(build_pdf(items, tmp_path / "r.pdf"), "r.pdf", LIMIT)
    texts = [b.text for b in raw.blocks]
    assert len(texts) == len(items)  # hard-wrapped lines rejoined into exactly the original paragraphs
    assert not any(RUNNING_HEADER in t or "内部资料" in t for t in texts)
    assert not any(t.strip("- ").isdigit() for t in texts)
    assert not any("- 2 -" in t for t in texts)
    longest = max(texts, key=len)
    assert longest in [text for _, text in items]  # a paragraph spanning lines (and a page) comes back whole


@needs_soffice
@pytest.mark.parametrize("suffix", [".doc", ".wps"])
def test_legacy_word_files_convert_through_libreoffice(suffix, items, original, tmp_path):
    source = build_docx(items, tmp_path / "src.docx", furniture=False)
    subprocess.run([find_soffice(), f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--headless",
                    "--convert-to", "doc:MS Word 97", "--outdir", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=180)
    legacy = tmp_path / f"report{suffix}"
    (tmp_path / "src.doc").rename(legacy)
    raw, paragraphs, meta = parse(legacy)
    assert raw.fmt == suffix[1:]
    assert outline(paragraphs) == outline(original[1])
    assert meta.title == original[2].title


def test_a_docx_saved_as_doc_is_read_without_conversion(items, original, tmp_path, monkeypatch):
    path = build_docx(items, tmp_path / "src.docx", furniture=False).rename(tmp_path / "report.doc")
    monkeypatch.setenv("PATH", str(tmp_path))  # no LibreOffice: the bytes say it is a .docx already
    raw, paragraphs, meta = parse(path)
    assert raw.fmt == "doc"
    assert outline(paragraphs) == outline(original[1])


@needs_soffice
def test_an_old_word_file_saved_as_docx_is_converted(items, original, tmp_path):
    source = build_docx(items, tmp_path / "src.docx", furniture=False)
    subprocess.run([find_soffice(), f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--headless",
                    "--convert-to", "doc:MS Word 97", "--outdir", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=180)
    renamed = (tmp_path / "src.doc").rename(tmp_path / "report.docx")
    raw, paragraphs, meta = parse(renamed)
    assert raw.fmt == "docx"
    assert outline(paragraphs) == outline(original[1])


def test_legacy_word_without_libreoffice_says_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / "old.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice anywhere on it
    with pytest.raises(LoadError) as err:
        load_file(path, "old.doc", LIMIT)
    assert err.value.reason == NEEDS_LIBREOFFICE


# --- bad files ------------------------------------------------------------------------------------


def _reason(path: Path, limit: int = LIMIT) -> str:
    with pytest.raises(LoadError) as err:
        load_file(path, path.name, limit)
    assert err.value.path == path.name
    return err.value.reason


def test_bad_files_get_one_line_reasons(items, tmp_path):
    empty = tmp_path / "empty.docx"
    empty.write_bytes(b"")
    assert _reason(empty) == "empty file (0 bytes)"

    whole = build_docx(items, tmp_path / "whole.docx").read_bytes()
    truncated = tmp_path / "truncated.docx"
    truncated.write_bytes(whole[: len(whole) // 2])
    assert _reason(truncated) == "corrupt .docx (not a valid zip/Word file)"

    fake = tmp_path / "fake.pdf"
    fake.write_bytes(build_html(items))
    assert _reason(fake) == "not a PDF file (looks like HTML)"

    big = tmp_path / "big.html"
    big.write_bytes(build_html(items))
    assert _reason(big, limit=1000).startswith("file too large")


@needs_font
def test_encrypted_and_scanned_pdfs(items, tmp_path):
    assert _reason(build_pdf(items[:4], tmp_path / "locked.pdf", password="secret")) == "encrypted PDF"
    assert _reason(build_scanned_pdf(tmp_path / "scan.pdf")) == "no text layer (scanned PDF?) — needs OCR"


def test_unreadable_file(items, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("running as root: permissions cannot make a file unreadable")
    path = tmp_path / "locked.html"
    path.write_bytes(build_html(items))
    path.chmod(0)
    try:
        assert _reason(path).startswith("cannot read file")
    finally:
        path.chmod(0o644)


def test_unreadable_directory_entry_is_reported(tmp_path):
    """Works as root too: a path that is a directory cannot be read as a file."""
    folder = tmp_path / "report.docx"
    folder.mkdir()
    assert _reason(folder).startswith("cannot read file")


# --- metadata sidecar -----------------------------------------------------------------------------


def test_sidecar_overrides_by_corpus_path_and_reports_bad_rows(tmp_path):
    (tmp_path / "2023" / "shanzhou").mkdir(parents=True)
    (tmp_path / "meta.csv").write_text("file,title,year\ntop.pdf,顶层报告,2023\n", encoding="utf-8")
    (tmp_path / "2023" / "shanzhou" / "meta.csv").write_text(
        "file,title,place,region,level,year,date\n"
        "a.docx,,观音堂镇,陕州区,镇,2023,2024-2-27\n"
        "b.pdf,某报告,,,,20x3,\n"
        "c.pdf,,,,,,2024-13-01\n"
        ",无文件名,,,,,\n",
        encoding="utf-8",
    )
    overrides, problems = load_sidecars(tmp_path)
    assert overrides == {
        "top.pdf": {"title": "顶层报告", "year": "2023"},
        "2023/shanzhou/a.docx": {"place": "观音堂镇", "region": "陕州区", "level": "镇", "year": "2023",
                                 "date": "2024-02-27"},
    }
    assert [(path, reason.split(":")[0]) for path, reason in problems] == [
        ("2023/shanzhou/meta.csv", "line 3"), ("2023/shanzhou/meta.csv", "line 4"),
        ("2023/shanzhou/meta.csv", "line 5"),
    ]
    assert "bad year '20x3'" in problems[0][1]


def test_sidecar_with_unknown_column_is_rejected_whole(tmp_path):
    (tmp_path / "meta.csv").write_text("file,title,author\na.pdf,标题,张三\n", encoding="gbk")
    overrides, problems = load_sidecars(tmp_path)
    assert overrides == {}
    assert problems == [("meta.csv", "line 1: unknown column(s) author; known: file, title, place, region, "
                                     "level, year, date")]
