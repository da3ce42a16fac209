"""Metadata extracted from the reports' own words."""
from __future__ import annotations

from pathlib import Path

import pytest

from indexer.pipeline.clean import clean_blocks
from indexer.core.document import Block, DocumentMeta, RawDocument
from indexer.pipeline.load import load_file
from indexer.pipeline.metadata import extract_metadata
from indexer.pipeline.structure import build_paragraphs

CORPUS = Path(__file__).resolve().parents[2] / "corpora" / "fazhi-2023"


def meta_of_sample(prefix: str) -> DocumentMeta:
    path = next(CORPUS.glob(f"{prefix}_*.txt"))
    raw = load_file(path, path.name, 10**8)
    return extract_metadata(raw, build_paragraphs(clean_blocks(raw.blocks)))


def meta_of_lines(lines: list[str], hints: dict[str, str] | None = None) -> DocumentMeta:
    raw = RawDocument("t.txt", "txt", [Block(line) for line in lines], "0" * 64, hints or {})
    return extract_metadata(raw, build_paragraphs(clean_blocks(raw.blocks)))


@pytest.mark.parametrize(
    "prefix,expected",
    [
        ("000", DocumentMeta("张茅乡2023年度法治政府工作报告", "张茅乡", "乡", "陕州区", 2023, "")),
        # two 前营乡 (辛集市, 宝丰县): the text reports to 县委县政府, so 宝丰县
        ("001", DocumentMeta("前营乡人民政府关于2023年法治政府建设情况的报告", "前营乡", "乡", "宝丰县", 2023, "")),
        ("002", DocumentMeta("2023年度观音堂镇法治政府建设工作报告", "观音堂镇", "镇", "陕州区", 2023, "")),
        ("003", DocumentMeta("大铭乡2023年法治政府建设年度报告", "大铭乡", "乡", "德化县", 2023, "2024-02-27")),
        # no title in the file: built from its own words, 隆务 (mentioned once) is not the place
        ("004", DocumentMeta("硖石乡2023年法治政府建设情况报告", "硖石乡", "乡", "陕州区", 2023, "")),
    ],
)
def test_sample_metadata(prefix: str, expected: DocumentMeta):
    assert meta_of_sample(prefix) == expected


def test_pronouns_and_phrases_are_not_places():
    meta = meta_of_lines([
        "我镇坚持依法行政，全乡干部在乡开展普法，各乡镇积极配合。",
        "我镇组织普法宣传活动10次。",
    ])
    assert meta.place == "" and meta.level == "" and meta.region == ""


def test_place_named_in_signature_wins_over_passing_mentions():
    meta = meta_of_lines([
        "一年来，全镇法治建设稳步推进，学习借鉴了东城镇的经验，东城镇的做法值得推广。",
        "二是加强学习。西河镇组织干部学法。",
        "西河镇人民政府",
        "二〇二四年一月十五日",
    ])
    assert (meta.place, meta.level, meta.date) == ("西河镇", "镇", "2024-01-15")
    # no year is named, but 一年来 in a report signed in January looks back on the year before
    assert meta.year == 2023 and meta.provenance["year"] == "text/medium"
    assert meta.provenance["place"] == "text/high"  # from the signature line


def test_no_year_named_and_no_looking_back_stays_unknown():
    meta = meta_of_lines([
        "全镇法治建设稳步推进，学习借鉴了东城镇的经验。",
        "西河镇人民政府",
        "二〇二四年一月十五日",
    ])
    assert meta.year is None and "year" not in meta.provenance
    assert meta.title == ""  # no year, no description sentence: nothing to build one from


def test_county_report_and_its_city():
    meta = meta_of_lines([
        "德化县2023年法治政府建设工作报告",
        "2023年，在泉州市委、市政府的领导下，德化县深入推进法治政府建设。",
        "一、主要做法",
        "德化县完善重大行政决策程序。",
    ])
    assert (meta.place, meta.level, meta.region, meta.year) == ("德化县", "县", "泉州市", 2023)


def test_year_is_the_year_reported_on():
    meta = meta_of_lines([
        "2023年，硖石乡依法行政，推进《法治政府建设实施纲要（2021—2025年）》落实。",
        "下一步，2024年硖石乡将继续推进。现将我乡2023年度法治政府建设情况报告如下：",
    ])
    assert meta.year == 2023


def test_hints_fill_gaps_only():
    lines = ["2023年，大铭乡依法行政，大铭乡推进法治建设。", "二是加强学习，组织学法活动。"]
    meta = meta_of_lines(lines, {"title": "法治建设报告（属性）", "date": "2024-03-01"})
    assert (meta.title, meta.date) == ("法治建设报告（属性）", "2024-03-01")
    titled = meta_of_lines(["大铭乡2023年法治政府建设年度报告", *lines, "大铭乡人民政府", "2024年2月27日"],
                           {"title": "Microsoft Word - 模板", "date": "2020-01-01"})
    assert (titled.title, titled.date) == ("大铭乡2023年法治政府建设年度报告", "2024-02-27")
