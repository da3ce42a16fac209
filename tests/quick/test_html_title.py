"""A report page saved from a government site gets its article's headline as title (issue 11, point 15),
not the site's name from <title> nor the headline with the site's suffix."""
from __future__ import annotations

import pytest

from indexer.pipeline.ingest import parse_file

HEADLINE = "2023年度观音堂镇法治政府建设工作报告"
BODY = "".join(
    f"<p>{text}</p>"
    for text in (
        "一、主要做法",
        "观音堂镇坚持依法行政，全面推进法治政府建设，积极开展普法宣传教育，取得了良好成效。",
        "镇村两级共受理调处各类矛盾纠纷268起，其中村级成功调处229起，7起信访积案有6起得到化解。",
        "二、存在问题",
        "法治宣传教育的覆盖面仍然不够广，群众参与的积极性有待提高，执法人员专业素质仍需加强。",
    )
)
NAV = '<div class="nav"><a href="/">首页</a><a href="/zwgk">政务公开</a><a href="/hdjl">互动交流</a></div>'


def page(title: str, top: str, head_extra: str = "") -> str:
    return (f"<html><head><meta charset='utf-8'><title>{title}</title>{head_extra}</head><body>{NAV}"
            f"<div class='content'>{top}<div class='article-body'>{BODY}</div></div></body></html>")


CASES = {
    "bare place name over an h2 headline": page("观音堂镇", f"<h2>{HEADLINE}</h2>"),
    "bare place name over a bold first line": page("观音堂镇", f"<p><strong>{HEADLINE}</strong></p>"),
    "bare place name over a centred first line": page("观音堂镇", f"<p align='center'>{HEADLINE}</p>"),
    "site name, logo h1 and h2 headline": page("陕州区人民政府网", f"<h2>{HEADLINE}</h2>").replace(
        "<body>", "<body><div class='logo'><h1>陕州区人民政府网</h1></div>"),
    "headline plus site suffix": page(f"{HEADLINE}_陕州区人民政府", ""),
    "headline plus site suffix, site name as h1": page(f"{HEADLINE} - 陕州区人民政府网", "").replace(
        "<body>", "<body><h1>陕州区人民政府网</h1>"),
    "site name over a 'title' element": page("XX县人民政府网", f"<div class='article-title'>{HEADLINE}</div>"),
    "site name with og:title": page("XX县人民政府网", "", f"<meta property='og:title' content='{HEADLINE}'>"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_title_is_the_articles_headline(tmp_path, name):
    path = tmp_path / "report.html"
    path.write_text(CASES[name], encoding="utf-8")
    doc = parse_file(path, "report.html", 10_000_000)
    assert doc.meta.title == HEADLINE
    assert doc.meta.place == "观音堂镇" and doc.meta.year == 2023
    texts = [p.text for p in doc.paragraphs]
    assert texts.count(HEADLINE) == 1  # shown once, as the title, not again as a body line
    assert not any("人民政府网" in t for t in texts)


def test_a_site_name_alone_never_becomes_the_title(tmp_path):
    path = tmp_path / "report.html"
    path.write_text(page("陕州区人民政府网", ""), encoding="utf-8")
    doc = parse_file(path, "report.html", 10_000_000)
    assert "人民政府网" not in doc.meta.title
