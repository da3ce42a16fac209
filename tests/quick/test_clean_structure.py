"""Cleaning and structure on the five real reports, plus format-marked blocks."""
from __future__ import annotations

from pathlib import Path

import pytest

from indexer.pipeline.clean import clean_blocks, normalize_spaces
from indexer.core.document import Block, Paragraph, Role, SectionKind
from indexer.pipeline.load import load_file
from indexer.pipeline.structure import TITLE_LEVEL, build_paragraphs

CORPUS = Path(__file__).resolve().parents[2] / "corpora" / "fazhi-2023"
SAMPLES = sorted(CORPUS.glob("*.txt"))


def paragraphs_of(prefix: str) -> list[Paragraph]:
    path = next(CORPUS.glob(f"{prefix}_*.txt"))
    return build_paragraphs(clean_blocks(load_file(path, path.name, 10**8).blocks))


def paragraph_with(paragraphs: list[Paragraph], snippet: str) -> Paragraph:
    found = [p for p in paragraphs if snippet in p.text]
    assert len(found) == 1, f"{snippet!r} is in {len(found)} paragraphs"
    return found[0]


def plain(blocks_text: list[str]) -> list[Block]:
    return [Block(t) for t in blocks_text]


# --- cleaning ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name[:3])
def test_no_conversion_artifacts_left(sample: Path):
    for p in build_paragraphs(clean_blocks(load_file(sample, sample.name, 10**8).blocks)):
        assert "[bookmark" not in p.text and "[image" not in p.text
        assert p.text.strip("\"'“”") != "", "a stray quote line survived"
        assert p.text == p.text.strip() and "\u3000" not in p.text
        assert p.text == normalize_spaces(p.text)


def test_page_break_inside_a_sentence_is_rejoined():
    paragraphs = paragraphs_of("003")
    p = paragraph_with(paragraphs, "一是坚持优化政府组织结构与促进政府职能转变")
    assert p.text.startswith("（二）推进政府机构职能优化协同高效。")
    # the other page breaks of 003 too (README: lines 17/19, 45/47, 53/55)
    paragraph_with(paragraphs, "坚持依法履职、廉洁履职、勤勉履职")
    paragraph_with(paragraphs, "合法性审查和集体讨论决定等程序")
    paragraph_with(paragraphs, "党员干部的相关法治水平")
    paragraph_with(paragraphs, "大铭乡村居公共法律服务工作站")
    paragraph_with(paragraphs, "促使政府及时整改")


def test_sentence_broken_by_an_image_is_rejoined():
    p = paragraph_with(paragraphs_of("002"), "机关干部的通过率达到了100")
    assert "达到了100。镇政府注重运用法制思维" in p.text
    assert p.heading_path[-1] == "二是党委政府带头学法用法"


def test_line_ending_in_a_comma_continues():
    p = paragraph_with(paragraphs_of("001"), "宣讲团，围绕党委、政府各项中心工作")
    assert p.text.startswith("（二）深入推进法治宣传教育")


@pytest.mark.parametrize(
    "prefix,title",
    [
        ("000", "张茅乡2023年度法治政府工作报告"),
        ("001", "前营乡人民政府关于2023年法治政府建设情况的报告"),
        ("002", "2023年度观音堂镇法治政府建设工作报告"),
        ("003", "大铭乡2023年法治政府建设年度报告"),
    ],
)
def test_titles_split_over_lines_are_joined(prefix: str, title: str):
    first = paragraphs_of(prefix)[0]
    assert (first.text, first.is_heading, first.heading_level) == (title, True, TITLE_LEVEL)


def test_report_without_title_starts_with_its_text():
    first = paragraphs_of("004")[0]
    assert not first.is_heading and first.text.startswith("2023年，在区委、区政府的坚强领导下")


def test_layout_spaces_removed_but_latin_word_spaces_kept():
    paragraphs = paragraphs_of("003")
    assert paragraphs[0].text.startswith("大铭乡2023年")
    paragraph_with(paragraphs, "办理便民服务件600余件")
    paragraph_with(paragraphs, "大铭乡现有行政执法人员3名及法治审核人员1名")
    assert normalize_spaces("使用 Microsoft Word 编辑　全文 ") == "使用Microsoft Word编辑全文"
    assert normalize_spaces("（一） 全面履行") == "（一）全面履行"


def test_real_paragraph_breaks_are_kept():
    paragraphs = paragraphs_of("002")
    # consecutive items without a blank line between them stay separate paragraphs
    a = paragraph_with(paragraphs, "一是强化基层民主法治。")
    b = paragraph_with(paragraphs, "二是开展合法性审查。")
    assert b.index == a.index + 1


def test_clean_blocks_handles_artifacts_in_isolation():
    blocks = plain(["[bookmark: _GoBack]正文开始，", "", "继续写完。", "“", "  ", "[image: image2.jpeg]\""])
    assert [b.text for b in clean_blocks(blocks)] == ["正文开始，继续写完。"]


# --- structure --------------------------------------------------------------------------------


def test_headings_are_marked_and_carry_no_text_paragraph():
    paragraphs = paragraphs_of("000")
    headings = {p.text: p for p in paragraphs if p.is_heading}
    for text in ("一、工作履行情况", "依法行政工作", "优化营商环境", "特色工作及亮点工作情况", "三、存在问题和不足"):
        assert text in headings
    assert headings["一、工作履行情况"].heading_level == 1
    assert headings["（一）全面履行法治政府建设"].heading_level == 2
    assert headings["依法行政工作"].heading_level == 3


@pytest.mark.parametrize(
    "prefix,snippet,path",
    [
        ("002", "三是认真落实全民普法宣传。加强乡村干部",
         ("二、深化普法教育，提升法治意识", "三是认真落实全民普法宣传")),
        ("003", "成立法治建设工作领导小组",
         ("一、主要工作完成情况", "（一）加强组织领导，落实法治建设职责")),
        ("000", "规范行政行为，引导和激励",
         ("一、工作履行情况", "（一）全面履行法治政府建设", "依法行政工作")),
        ("000", "为预防电信诈骗我们在全乡",
         ("一、工作履行情况", "特色工作及亮点工作情况", "（二）加强关键群体法治教育，积极开展预防电信诈骗及防养老诈骗工作")),
        ("001", "聘任碧野律师事务所",
         ("2、推荐法治政府建设工作主要举措和成效", "（一）严格依法依规决策，建立健全政府法律顾问制度，全面推进政务公开")),
        ("001", "坚持法无授权不可为", ("四、下一步工作的主要思路", "（二）加强依法依规行政")),
        ("001", "建设高水平的法治政府，是推进", ("四、下一步工作的主要思路",)),
        ("004", "积极推进政务公开。建立健全情况通报制度",
         ("一、2023年工作情况", "（三）坚持法律规则，提高依法办事能力", "一是积极推进政务公开")),
        ("003", "为深入学习贯彻习近平法治思想，纵深推进", ()),
    ],
)
def test_heading_paths(prefix: str, snippet: str, path: tuple[str, ...]):
    assert paragraph_with(paragraphs_of(prefix), snippet).heading_path == path


def test_long_opening_sentence_is_not_a_heading():
    p = paragraph_with(paragraphs_of("001"), "一是乡党委、政府高度重视")
    assert p.heading_path == ("1、党政第一责任人推进法治政府建设工作情况",)


def test_title_is_not_in_heading_paths():
    for prefix in ("000", "001", "002", "003"):
        paragraphs = paragraphs_of(prefix)
        assert all(paragraphs[0].text not in p.heading_path for p in paragraphs)


@pytest.mark.parametrize(
    "prefix,snippet,kind",
    [
        ("000", "张茅乡党委、政府高度重视", SectionKind.OTHER),
        ("000", "防养老诈骗工作自开展以来", SectionKind.PRACTICE),
        ("000", "二是学习主动性不高", SectionKind.PROBLEMS),
        ("000", "一是进一步加强法治政府建设的组织领导", SectionKind.PLANS),
        ("001", "行政执法工作人员力量不足", SectionKind.PROBLEMS),
        ("001", "组织好执法资格学习和考试", SectionKind.PLANS),
        ("002", "三是认真落实全民普法宣传", SectionKind.PRACTICE),
        ("002", "但仍存在一些问题和薄弱环节", SectionKind.PROBLEMS),
        ("002", "下一步，我镇将从以下几个方面抓好落实", SectionKind.PLANS),
        ("003", "随着行政执法重心向乡下移", SectionKind.PROBLEMS),
        ("003", "一是健全重大行政决策机制", SectionKind.PLANS),
        ("003", "大铭乡人民政府", SectionKind.OTHER),
        ("004", "但也存在着一些薄弱环节", SectionKind.PROBLEMS),
        ("004", "下一步，硖石乡紧紧围绕", SectionKind.PLANS),
        ("004", "每月组织乡村两级干部开展矛盾纠纷大排查", SectionKind.PRACTICE),
    ],
)
def test_section_kinds(prefix: str, snippet: str, kind: SectionKind):
    assert paragraph_with(paragraphs_of(prefix), snippet).section_kind == kind


def test_signature_is_text_not_heading():
    paragraphs = paragraphs_of("003")
    assert [(p.text, p.is_heading) for p in paragraphs[-2:]] == [("大铭乡人民政府", False), ("2024年2月27日", False)]


def test_format_marked_blocks_are_respected():
    blocks = [
        Block("工作总结", Role.HEADING, level=TITLE_LEVEL),
        Block("主要做法", Role.HEADING, level=1),
        Block("短句无标点", Role.PARAGRAPH),  # would look like a heading in plain text
        Block("指标 | 数量", Role.TABLE_ROW),
        Block("存在问题", Role.HEADING, level=1),
        Block("人员不足", Role.HEADING, level=2),
        Block("执法人员只有3名。", Role.PARAGRAPH),
    ]
    paragraphs = build_paragraphs(clean_blocks(blocks))
    assert [(p.text, p.is_heading, p.heading_level) for p in paragraphs] == [
        ("工作总结", True, TITLE_LEVEL),
        ("主要做法", True, 1),
        ("短句无标点", False, None),
        ("指标|数量", False, None),  # spaces next to CJK are layout, in table rows too
        ("存在问题", True, 1),
        ("人员不足", True, 2),
        ("执法人员只有3名。", False, None),
    ]
    assert paragraphs[3].heading_path == ("主要做法",)
    assert paragraphs[6].heading_path == ("存在问题", "人员不足")
    assert paragraphs[6].section_kind == SectionKind.PROBLEMS


def test_format_paragraphs_join_only_across_a_page_break():
    blocks = [
        Block("一是坚持优化政府", Role.PARAGRAPH, page_break_after=True),
        Block("组织结构。", Role.PARAGRAPH),
        Block("没有标点的段落", Role.PARAGRAPH),
        Block("另一段。", Role.PARAGRAPH),
    ]
    assert [b.text for b in clean_blocks(blocks)] == ["一是坚持优化政府组织结构。", "没有标点的段落", "另一段。"]


def test_arabic_then_chinese_numbering_are_siblings():
    blocks = plain(["1、第一部分", "内容一。", "2、第二部分", "（一）细项。内容二。", "3、第三部分", "内容三。",
                    "四、第四部分", "内容四。"])
    paragraphs = build_paragraphs(clean_blocks(blocks))
    assert paragraph_with(paragraphs, "内容二").heading_path == ("2、第二部分", "（一）细项")
    assert paragraph_with(paragraphs, "内容四").heading_path == ("四、第四部分",)


def test_one_sentence_numbered_lines_in_a_row_are_a_list_not_headings():
    blocks = plain(["二、存在问题", "主要有：", "（一）学习不够深入。", "（二）执法力量不足。", "三、下一步计划", "加强学习。"])
    paragraphs = build_paragraphs(clean_blocks(blocks))
    items = [p for p in paragraphs if p.text.startswith("（")]
    assert [(p.is_heading, p.heading_path, p.section_kind) for p in items] == [
        (False, ("二、存在问题",), SectionKind.PROBLEMS),
        (False, ("二、存在问题",), SectionKind.PROBLEMS),
    ]
    assert paragraph_with(paragraphs, "加强学习").heading_path == ("三、下一步计划",)
