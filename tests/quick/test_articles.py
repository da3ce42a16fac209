"""Statute articles: an article's 款 and 项 lines are one paragraph, the unit a reader cites (issue 31)."""
from __future__ import annotations

from pathlib import Path

from indexer.core.config import Config
from indexer.core.document import Document
from indexer.pipeline.chunk import chunk_paragraphs
from indexer.pipeline.ingest import parse_file

REPO = Path(__file__).resolve().parents[2]

ONE_ARTICLE = (
    "中华人民共和国动物防疫法第二十条\n\n"
    "陆路边境省、自治区人民政府根据动物疫病防控需要，合理设置动物疫病监测站点，健全监测工作机制，防范境外动物疫病传入。\n"
    "科技、海关等部门按照本法和有关法律法规的规定做好动物疫病监测预警工作，并定期与农业农村主管部门互通情况，紧急情况及时通报。\n"
)

REGULATION = """某某镇村规民约

第一章 总则

第一条 为加强村民自治，根据有关法律法规，制定本村规民约。
第二条 村民应当遵守下列规定：
（一）爱护公共财物；
（二）不得乱搭乱建。
违反前款规定的，由村民委员会劝导改正。

第二章 附则

第三条 本村规民约自公布之日起施行。
某某镇人民政府
2023年5月1日
"""


def parse_text(tmp_path: Path, text: str, name: str = "doc.txt") -> Document:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse_file(path, name, 10**8)


def body(doc: Document) -> list[str]:
    return [p.text for p in doc.paragraphs if not p.is_heading]


def test_a_file_holding_one_article_is_one_paragraph_under_its_title(tmp_path):
    doc = parse_text(tmp_path, ONE_ARTICLE)
    lines = ONE_ARTICLE.splitlines()
    assert doc.meta.title == lines[0]
    assert body(doc) == [lines[2] + lines[3]]
    chunks = chunk_paragraphs(doc.paragraphs, doc.path, Config())
    assert [c.text for c in chunks] == [lines[2] + lines[3]], "the second 款 lost its article's subject"


def test_each_article_of_a_regulation_gathers_its_paragraphs_and_items(tmp_path):
    doc = parse_text(tmp_path, REGULATION)
    assert body(doc)[:3] == [
        "第一条为加强村民自治，根据有关法律法规，制定本村规民约。",
        "第二条村民应当遵守下列规定：（一）爱护公共财物；（二）不得乱搭乱建。违反前款规定的，由村民委员会劝导改正。",
        "第三条本村规民约自公布之日起施行。",
    ]
    by_text = {p.text: p for p in doc.paragraphs}
    assert by_text["第三条本村规民约自公布之日起施行。"].heading_path == ("第二章附则",), "chapters stay headings"
    assert "某某镇人民政府" in body(doc), "the signature is not swallowed by the last article"


def test_a_long_article_is_still_cut_at_its_items_by_size(tmp_path):
    items = "".join(f"（{n}）" + "有关部门应当依法履行监督管理职责并及时公开处理结果" * 3 + "；\n"
                    for n in "一二三四五六")
    doc = parse_text(tmp_path, "某某条例第八条\n\n有下列情形之一的，依法处理：\n" + items)
    assert len(body(doc)) == 1
    chunks = chunk_paragraphs(doc.paragraphs, doc.path, Config())
    assert len(chunks) > 1 and all(len(c.text) <= Config().analysis.max_chunk_chars for c in chunks)
    assert all(c.text.startswith(("有下列情形", "（")) for c in chunks), "cuts land before an item"


def test_reports_are_untouched_even_with_one_line_opening_like_an_article(tmp_path):
    report = ("某镇2023年法治政府建设工作报告\n\n一、主要做法\n\n第一条经验是坚持党的领导。\n"
              "全年开展普法宣传活动32场次。\n")
    assert body(parse_text(tmp_path, report)) == ["第一条经验是坚持党的领导。", "全年开展普法宣传活动32场次。"]
    sample = sorted((REPO / "corpora" / "fazhi-2023").glob("*.txt"))[0]
    text = sample.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert len(body(parse_file(sample, sample.name, 10**8))) > 0.5 * len(lines), "paragraphs were joined"


def test_a_village_committee_signature_and_date_are_not_the_last_article(tmp_path):
    text = REGULATION.replace("某某镇人民政府", "某某村村民委员会").replace("2023年5月1日", "（盖章）\n2023年5月1日")
    doc = parse_text(tmp_path, text)
    assert body(doc)[-4:] == ["第三条本村规民约自公布之日起施行。", "某某村村民委员会", "（盖章）", "2023年5月1日"]

