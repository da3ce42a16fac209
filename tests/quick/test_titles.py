"""Titles of every kind of government document, read from a plain-text file as a user's folder holds it (issue 31).

Each small text goes through the whole pipeline (load, clean, structure, metadata); the labelled eval-townships
titles (tests/data/eval_townships_titles.tsv, judged by reading each document) are checked the same way.
"""
from __future__ import annotations

import csv
import logging
from pathlib import Path

import pytest

from indexer.pipeline.clean import normalize_spaces
from indexer.core.document import Document
from indexer.pipeline.ingest import parse_file
from indexer.pipeline.lines import TITLE_LEVEL

REPO = Path(__file__).resolve().parents[2]
TOWNSHIPS = REPO.parent / "shared" / "eval-townships" / "corpus"
LABELS = Path(__file__).resolve().parents[1] / "data" / "eval_townships_titles.tsv"


def parse_text(tmp_path: Path, text: str, name: str = "doc.txt") -> Document:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse_file(path, name, 10**8)


def title_paragraph(doc: Document) -> str | None:
    first = doc.paragraphs[0]
    return first.text if first.is_heading and first.heading_level == TITLE_LEVEL else None


def glued(doc: Document, line: str) -> bool:
    """Whether `line` was made the start of a longer paragraph."""
    line = normalize_spaces(line)
    return any(p.text.startswith(line) and len(p.text) > len(line) for p in doc.paragraphs)


BODY = "为深入贯彻落实上级部署，切实做好相关工作，现结合实际制定本方案。"


@pytest.mark.parametrize(
    "kind,text,title,first_paragraph",
    [
        ("通知", "冠县人民政府办公室关于印发《冠县严格规范涉企行政检查工作实施方案》的通知\n冠政办发〔2025〕2号\n\n"
                "各乡镇人民政府，各街道办事处：\n\n现将方案印发给你们，请认真贯彻执行。\n",
         "冠县人民政府办公室关于印发《冠县严格规范涉企行政检查工作实施方案》的通知", "冠政办发〔2025〕2号"),
        ("公告", "关于公开征求对《道滘镇政府重大行政决策听证事项目录》意见的公告\n\n征集单位:道滘镇 征集时间:2017-08-23 至 "
                "2017-09-20\n\n为提高政府规范性文件制发质量，现将目录全文公布。\n",
         "关于公开征求对《道滘镇政府重大行政决策听证事项目录》意见的公告", "征集单位:道滘镇征集时间:2017-08-23至2017-09-20"),
        ("意见", "关于加强乡镇综合行政执法工作的实施意见\n" + BODY + "\n", "关于加强乡镇综合行政执法工作的实施意见", BODY),
        ("方案", "大河乡2024年普法依法治理工作方案\n\n" + BODY + "\n\n一、工作目标\n\n全年开展宣传活动十次。\n",
         "大河乡2024年普法依法治理工作方案", BODY),
        ("讲话", "在全镇法治政府建设工作推进会上的讲话\n同志们：\n今天召开会议，主要任务是部署全年工作。\n",
         "在全镇法治政府建设工作推进会上的讲话", "同志们："),
        ("headline with a colon", "峨山镇城东村:警民携手防诈骗 织密养老“防护网”\n\n12月31日，峨山镇城东村组织开展了防养老诈骗宣传活动。\n",
         "峨山镇城东村:警民携手防诈骗织密养老“防护网”", "12月31日，峨山镇城东村组织开展了防养老诈骗宣传活动。"),
        ("headline, paragraph right after", "金铃镇扎实开展入户反诈宣传 筑牢基层安全防护墙\n为切实守护群众财产安全，近日，金铃镇开展入户"
                                            "宣传。\n",
         "金铃镇扎实开展入户反诈宣传筑牢基层安全防护墙", "为切实守护群众财产安全，近日，金铃镇开展入户宣传。"),
        ("政府信息公开工作年度报告", "道里区经纬街道办事处2022年政府信息公开工作年度报告\n本报告根据《中华人民共和国政府信息公开条例》"
                                   "编制。\n一、总体情况\n今年主动公开信息三十条。\n",
         "道里区经纬街道办事处2022年政府信息公开工作年度报告", "本报告根据《中华人民共和国政府信息公开条例》编制。"),
        ("statute article", "乳品质量安全监督管理条例第四十四条\n\n进口的乳品应当按照乳品质量安全国家标准进行检验。\n",
         "乳品质量安全监督管理条例第四十四条", "进口的乳品应当按照乳品质量安全国家标准进行检验。"),
        ("title split over two lines", "张茅乡2023年度法治政府\n\n工作报告\n\n张茅乡党委、政府高度重视法治政府建设工作。\n",
         "张茅乡2023年度法治政府工作报告", "张茅乡党委、政府高度重视法治政府建设工作。"),
        ("issuing body, then the title", "前营乡人民政府\n关于2023年法治政府建设情况的报告\n\n在县委县政府的正确领导下开展工作。\n",
         "前营乡人民政府关于2023年法治政府建设情况的报告", "在县委县政府的正确领导下开展工作。"),
        ("headline split over two lines", "峨山镇城东村：警民携手防诈骗\n织密养老“防护网”\n\n12月31日，城东村开展宣传活动。\n",
         "峨山镇城东村：警民携手防诈骗织密养老“防护网”", "12月31日，城东村开展宣传活动。"),
        ("title split before 工作情况报告", "大河乡2023年度法治政府建设\n工作情况报告\n2023年，我乡坚持依法行政。\n",
         "大河乡2023年度法治政府建设工作情况报告", "2023年，我乡坚持依法行政。"),
        ("title, then a section heading", "大河乡法治政府建设亮点\n\n下一步工作计划\n\n加强执法人员培训。\n",
         "大河乡法治政府建设亮点", "下一步工作计划"),
        ("letterhead, then the document number", "大河乡人民政府文件\n大政发〔2024〕3号\n\n各村委会：\n\n请认真执行。\n",
         "大河乡人民政府文件", "大政发〔2024〕3号"),
        ("title split after 关于", "大河乡人民政府关于\n2023年法治政府建设情况的报告\n2023年，我乡坚持依法行政。\n",
         "大河乡人民政府关于2023年法治政府建设情况的报告", "2023年，我乡坚持依法行政。"),
    ],
)
def test_title_of_each_kind_of_document(tmp_path, kind, text, title, first_paragraph):
    doc = parse_text(tmp_path, text)
    assert doc.meta.title == title, kind
    assert title_paragraph(doc) == title, f"{kind}: the title is not the document's first (title) paragraph"
    assert doc.paragraphs[1].text.startswith(first_paragraph), f"{kind}: the title was glued into the next paragraph"


@pytest.mark.parametrize(
    "kind,text",
    [
        ("numbered section heading", "一、工作开展情况\n（一）深入学习法治思想\n全年组织学习六次。\n二、存在问题\n人员不足。\n"),
        ("unnumbered section heading", "存在的问题\n\n执法人员不足，培训不够。\n\n下一步计划\n\n加强培训。\n"),
        ("addressee", "区委、区政府：\n\n现将我镇工作情况报告如下。\n"),
    ],
)
def test_a_first_line_that_is_no_title_stays_what_it_is_and_the_log_says_why(tmp_path, caplog, kind, text):
    with caplog.at_level(logging.INFO, logger="indexer.pipeline.ingest"):
        doc = parse_text(tmp_path, text)
    first_line = text.splitlines()[0]
    assert title_paragraph(doc) is None, kind
    assert doc.paragraphs[0].text == first_line, f"{kind}: the first line was glued to what follows"
    assert doc.meta.title != first_line
    assert any("doc.txt: no title line" in r.getMessage() and first_line in r.getMessage() for r in caplog.records)


def test_an_article_after_its_title_is_text_even_when_it_opens_like_a_numbered_heading(tmp_path):
    doc = parse_text(tmp_path, "中华人民共和国动物防疫法第四十二条\n\n二、三类动物疫病呈暴发性流行时，按照一类动物疫病处理。\n")
    assert [(p.text, p.is_heading) for p in doc.paragraphs] == [
        ("中华人民共和国动物防疫法第四十二条", True), ("二、三类动物疫病呈暴发性流行时，按照一类动物疫病处理。", False)]


def test_list_items_of_an_article_are_text_of_that_article_not_headings(tmp_path):
    doc = parse_text(tmp_path, "中华人民共和国公司法第一百八十二条\n\n有下列情形之一的，可以请求人民法院解散公司：\n"
                               "（一）公司持续两年以上无法召开股东会，公司经营管理发生严重困难的；\n（二）其他情形。\n")
    assert [p.is_heading for p in doc.paragraphs] == [True, False]
    items = "（一）申请人的姓名；\n（二）申请的事项；\n（三）申请的年、月、日。\n"
    doc = parse_text(tmp_path, "某某条例第十条\n\n申请书应当载明下列事项：\n" + items + "申请人应当如实填写。\n")
    assert not any(p.is_heading for p in doc.paragraphs[1:]), "a list of items is text"
    assert doc.paragraphs[1].text == "申请书应当载明下列事项：" + items.replace("\n", "") + "申请人应当如实填写。"


def test_first_line_of_a_hard_wrapped_paragraph_is_not_a_title(tmp_path):
    # A text cut every 30 characters: the first line is the start of a sentence, not a title.
    sentence = ("我镇坚持以习近平新时代中国特色社会主义思想为指导深入学习贯彻党的二十大精神全面推进法治政府建设"
                "不断提升依法行政水平和能力持续优化法治化营商环境推动基层治理体系和治理能力现代化取得明显成效"
                "全年共组织集中学习十二次开展普法宣传活动二十余场发放宣传资料三千余份群众满意度明显提升。")
    lines = [sentence[i:i + 30] for i in range(0, len(sentence), 30)]
    doc = parse_text(tmp_path, "\n".join(lines) + "\n")
    assert title_paragraph(doc) is None
    assert [p.text for p in doc.paragraphs] == [sentence]


def test_a_line_that_breaks_off_mid_phrase_is_not_a_title(tmp_path):
    doc = parse_text(tmp_path, "2023年，在区委区政府的坚强领导下，\n我镇深入推进法治建设。\n\n一、主要做法\n\n加强学习。\n")
    assert title_paragraph(doc) is None
    assert doc.paragraphs[0].text == "2023年，在区委区政府的坚强领导下，我镇深入推进法治建设。"


# --- the labelled eval-townships titles -----------------------------------------------------------


def _labels() -> dict[str, str]:
    with open(LABELS, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE) if r and not r[0].startswith("#")]
    return {r[0]: r[1] for r in rows[1:]}


def test_every_eval_townships_title_is_right_or_deliberately_empty():
    if not TOWNSHIPS.is_dir():
        pytest.fail(f"{TOWNSHIPS} not found: the shared evaluation sets must sit beside the checkout (../shared)")
    labels = _labels()
    files = sorted(p.name for p in TOWNSHIPS.glob("*.txt"))
    assert sorted(labels) == files, "the labelled file must name every document of the corpus"
    wrong = []
    for name in files:
        path = TOWNSHIPS / name
        doc = parse_file(path, name, 10**8)
        first_line = next(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
        expected = normalize_spaces(labels[name])
        if expected:
            if doc.meta.title != expected or title_paragraph(doc) != expected:
                wrong.append(f"{name}: title {doc.meta.title!r}, expected {expected!r}")
        elif title_paragraph(doc) is not None or doc.paragraphs[0].text != normalize_spaces(first_line):
            wrong.append(f"{name}: the section heading {first_line!r} must stay the first paragraph, not a title")
        if glued(doc, first_line):
            wrong.append(f"{name}: the first line is glued into a paragraph")
    assert not wrong, "\n".join(wrong)


# --- upgrade: indexes built before this title reading re-read their files -----------------------------


@pytest.mark.index
def test_an_index_built_by_the_previous_pipeline_rereads_every_file_once(build_index, encoder, monkeypatch):
    from indexer.build import write
    from indexer.search.searcher import Searcher
    from indexer.search.types import SearchRequest

    headline = "峨山镇城东村:警民携手防诈骗 织密养老“防护网”\n12月31日，峨山镇城东村组织开展了防养老诈骗宣传活动。\n"
    with monkeypatch.context() as m:
        m.setattr(write, "PIPELINE_VERSION", "2")  # the catalog an older release wrote
        build_index({"a.txt": headline})
    config, rep = build_index()
    assert rep.changed == ["a.txt"] and rep.unchanged == 0, "a new pipeline must re-read the files it changed"
    _, again = build_index()
    assert again.changed == [] and again.unchanged == 1  # once
    searcher = Searcher.open(config, encoder)
    try:
        hit = searcher.search(SearchRequest("防养老诈骗宣传", mode="keyword")).hits[0]
    finally:
        searcher.close()
    assert hit.title == "峨山镇城东村:警民携手防诈骗织密养老“防护网”"
    assert hit.text == "12月31日，峨山镇城东村组织开展了防养老诈骗宣传活动。"
