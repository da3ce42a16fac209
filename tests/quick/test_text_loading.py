"""Plain-text loading: encodings, line handling, and files that are not text."""
from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from indexer.pipeline.clean import clean_blocks
from indexer.core.document import Role
from indexer.pipeline.load import LoadError, load_file
from indexer.pipeline.structure import build_paragraphs

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "corpora" / "fazhi-2023").glob("*.txt"))
MAX_BYTES = 50 * 1024 * 1024


def _load(path: Path):
    return load_file(path, path.name, MAX_BYTES)


def _paragraph_texts(path: Path) -> list[str]:
    return [p.text for p in build_paragraphs(clean_blocks(_load(path).blocks))]


def test_samples_are_present():
    assert len(SAMPLES) == 5


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name[:3])
@pytest.mark.parametrize(
    "encoding,bom",
    [
        ("gb18030", b""),
        ("gbk", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", b""),  # no BOM: recognised by its NUL bytes and the text it decodes to
        ("utf-16-be", b""),
    ],
)
def test_encodings_give_identical_paragraphs(sample: Path, encoding: str, bom: bytes, tmp_path: Path):
    text = sample.read_text(encoding="utf-8")
    target = tmp_path / sample.name
    target.write_bytes(bom + text.encode(encoding))
    assert _paragraph_texts(target) == _paragraph_texts(sample)


def test_one_block_per_line_with_blank_lines_kept(tmp_path: Path):
    target = tmp_path / "r.txt"
    target.write_bytes("标题\r\n\r\n第一段。\r第二段。\n".encode("utf-8"))
    raw = _load(target)
    assert [b.text for b in raw.blocks] == ["标题", "", "第一段。", "第二段。", ""]
    assert all(b.role == Role.UNKNOWN for b in raw.blocks)
    assert raw.fmt == "txt" and raw.path == "r.txt" and len(raw.content_hash) == 64


def test_form_feed_marks_a_page_break(tmp_path: Path):
    target = tmp_path / "r.txt"
    target.write_text("一是坚持优化政府\f组织结构与促进政府职能转变。\n", encoding="utf-8")
    blocks = _load(target).blocks
    assert blocks[0].text == "一是坚持优化政府" and blocks[0].page_break_after
    assert blocks[1].text == "组织结构与促进政府职能转变。"


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"PK\x03\x04" + bytes(range(256)) * 4, "binary file, not text"),  # a .docx saved as .txt
        (b"\x7fELF\x02\x01\x01" + bytes(300), "binary file, not text"),
        (bytes(range(1, 32)) * 20, "binary file, not text"),  # control characters only
        (bytes(range(0x80, 0x100)) * 8, "cannot detect text encoding"),
        (b"\xff" * 64, "cannot detect text encoding"),
        (b" \r\n\t\n  ", "no text"),
    ],
    ids=["zip", "nul-bytes", "control-chars", "undecodable", "undecodable-ff", "whitespace-only"],
)
def test_files_that_are_not_text_are_refused(tmp_path: Path, data: bytes, reason: str):
    target = tmp_path / "bad.txt"
    target.write_bytes(data)
    with pytest.raises(LoadError) as info:
        _load(target)
    assert info.value.path == "bad.txt"
    assert reason in info.value.reason
