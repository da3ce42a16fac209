"""Build .docx/.pdf/.html versions of a sample report at test time, from the report's own text.

A report is a list of items (kind, text) with kind "title", "h1" or "p"; `as_txt` writes the plain-text
original those items stand for, so every format can be compared with the .txt path.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO / "corpora" / "fazhi-2023"
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")  # Debian fonts-wqy-zenhei (TrueType outlines)

Item = tuple[str, str]

_H1 = re.compile(r"^[一二三四五六七八九十]+、")


def require_cjk_font() -> Path:
    """The font test PDFs are written in; without it a test that needs one fails saying what to install."""
    if not CJK_FONT.exists():
        pytest.fail(f"{CJK_FONT} is missing: test PDFs need Debian's fonts-wqy-zenhei (make system-deps)")
    return CJK_FONT


def report_items(name: str = "002_8be8c960c0460749.txt") -> list[Item]:
    """The sample report as title / top-level headings / paragraphs, without converter artifacts."""
    text = (SAMPLE_DIR / name).read_text(encoding="utf-8")
    text = re.sub(r"\[(?:image|bookmark):[^\]]*\]\"?", "", text)
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and line != '"']
    merged: list[str] = []
    for line in lines:
        if merged and line.startswith("。"):
            merged[-1] += line  # the sentence an image was cut out of
        else:
            merged.append(line)
    items: list[Item] = [("title", merged[0])]
    for line in merged[1:]:
        items.append(("h1" if _H1.match(line) and len(line) <= 40 else "p", line))
    return items


def as_txt(items: list[Item]) -> str:
    return "\n\n".join(text for _, text in items) + "\n"


# --- docx -------------------------------------------------------------------------------------------

def build_docx(items: list[Item], path: Path, *, table: bool = False, furniture: bool = True,
               text_box: str = "") -> Path:
    import docx
    from docx.oxml import OxmlElement, parse_xml
    from docx.oxml.ns import qn

    document = docx.Document()
    for kind, text in items:
        if kind == "title":
            document.add_paragraph(text, style="Title")
        elif kind == "h1":
            document.add_heading(text, level=1)
        else:
            paragraph = document.add_paragraph(text)
            if text_box and not table:
                run = paragraph.add_run()
                run._r.append(parse_xml(
                    '<w:pict xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
                    'xmlns:v="urn:schemas-microsoft-com:vml"><v:shape><v:textbox><w:txbxContent>'
                    f'<w:p><w:r><w:t>{text_box}</w:t></w:r></w:p></w:txbxContent></v:textbox></v:shape></w:pict>'
                ))
                text_box = ""
            if table:
                grid = document.add_table(rows=3, cols=3)
                for r, row in enumerate([("指标", "数量", "单位"), ("受理信访案件", "40", "件"),
                                         ("调处矛盾纠纷", "268", "起")]):
                    for c, value in enumerate(row):
                        grid.cell(r, c).text = value
                table = False
    if furniture:
        section = document.sections[0]
        section.header.paragraphs[0].text = "观音堂镇人民政府文件"
        footer = section.footer.paragraphs[0]
        footer.add_run("第")
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), "PAGE")
        result = OxmlElement("w:r")
        t = OxmlElement("w:t")
        t.text = "1"
        result.append(t)
        field.append(result)
        footer._p.append(field)
        footer.add_run("页")
    document.save(str(path))
    return path


# --- pdf --------------------------------------------------------------------------------------------

RUNNING_HEADER = "观音堂镇法治政府建设工作报告（内部资料）"


def build_pdf(items: list[Item], path: Path, *, columns: int = 1, running_header: bool = True,
              password: str | None = None) -> Path:
    """A4, 12 pt body text hard-wrapped to the column, paragraphs indented two characters, a running header
    and "- n -" page numbers: what Word's "save as PDF" makes of a township report."""
    from fpdf import FPDF

    require_cjk_font()
    pdf = FPDF(unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("cjk", fname=str(CJK_FONT))
    if password:
        pdf.set_encryption(owner_password="owner-" + password, user_password=password)
    page_w, page_h, margin = 595.28, 841.89, 72.0
    gutter = 24.0
    col_w = (page_w - 2 * margin - gutter * (columns - 1)) / columns
    size, pitch = 12.0, 20.0
    state = {"col": 0, "y": 0.0, "page": 0}

    def new_page() -> None:
        pdf.add_page()
        state["page"] += 1
        state["col"], state["y"] = 0, margin
        if running_header:
            pdf.set_font("cjk", size=9)
            pdf.text(margin, 48, RUNNING_HEADER)
            pdf.line(margin, 54, page_w - margin, 54)
        pdf.set_font("cjk", size=10)
        number = f"- {state['page']} -"
        pdf.text((page_w - pdf.get_string_width(number)) / 2, page_h - 40, number)
        pdf.set_font("cjk", size=size)

    def next_line() -> None:
        state["y"] += pitch
        if state["y"] > page_h - margin:
            if state["col"] + 1 < columns:
                state["col"] += 1
                state["y"] = top_of_columns
            else:
                new_page()

    new_page()
    top_of_columns = margin
    for kind, text in items:
        if kind == "title":
            pdf.set_font("cjk", size=18)
            pdf.text((page_w - pdf.get_string_width(text)) / 2, state["y"] + 18, text)
            state["y"] += 2.5 * pitch
            top_of_columns = state["y"]
            continue
        pdf.set_font("cjk", size=size)
        x_left = margin + state["col"] * (col_w + gutter)
        for i, line in enumerate(_wrap(pdf, text, col_w, indent=2 * size)):
            x_left = margin + state["col"] * (col_w + gutter)
            pdf.text(x_left + (2 * size if i == 0 else 0), state["y"] + size, line)
            next_line()
    pdf.output(str(path))
    return path


def _wrap(pdf, text: str, width: float, indent: float) -> list[str]:
    lines, current, room = [], "", width - indent
    for ch in text:
        if pdf.get_string_width(current + ch) > room:
            lines.append(current)
            current, room = "", width
        current += ch
    if current:
        lines.append(current)
    return lines


def build_scanned_pdf(path: Path, pages: int = 2) -> Path:
    """Pages with only drawn shapes, no text: what a scanner's image-only PDF looks like to a text reader."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format="A4")
    for _ in range(pages):
        pdf.add_page()
        for row in range(30):
            pdf.rect(72, 72 + row * 22, 450, 10, style="F")
    pdf.output(str(path))
    return path


# --- html -------------------------------------------------------------------------------------------

def build_html(items: list[Item], *, encoding: str = "gbk", site: str = "三门峡市陕州区人民政府",
               date: str = "2024-02-27") -> bytes:
    """A government-site article page: nav, breadcrumbs, share bar, related links, footer, scripts."""
    title = next(text for kind, text in items if kind == "title")
    paragraphs = [text for kind, text in items if kind != "title"]
    # The first two consecutive plain paragraphs share one <p>, split by <br> as some CMS editors save them.
    pair = next(i for i in range(len(paragraphs) - 1)
                if not _H1.match(paragraphs[i]) and not _H1.match(paragraphs[i + 1]))
    body = []
    for i, text in enumerate(paragraphs):
        if i == pair + 1:
            continue
        if i == pair:
            body.append(f"<p>&nbsp;&nbsp;{text}<br/>\n{paragraphs[i + 1]}</p>")
        elif _H1.match(text):
            body.append(f"<p style=\"text-align:left\"><strong>{text}</strong></p>")
        else:
            body.append(f"<p style=\"text-indent:2em\">{text}</p>")
    charset = "gb2312" if encoding.lower() in ("gbk", "gb2312", "gb18030") else encoding
    page = f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{title}_{site}</title>
<script>var nav = "首页|政务公开|政策文件|互动交流"; document.write("欢迎访问本网站");</script>
<style>.nav {{ color: red }} /* 导航栏样式 */</style>
</head><body>
<div class="top-bar">无障碍浏览 长者模式 登录 注册</div>
<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk">政务公开</a></li>
<li><a href="/hdjl">互动交流</a></li><li><a href="/bsfw">办事服务</a></li></ul></div>
<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk">政务公开</a> &gt; 法治政府建设</div>
<div class="container"><div class="article">
<h1 class="article-title">{title}</h1>
<div class="info">发布时间：{date} 10:32 来源：司法所 浏览次数：1024 【字体：大 中 小】</div>
<div id="zoom" class="article-content">
{chr(10).join(body)}
</div>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a> <a href="#">QQ空间</a></div>
<div class="related"><h3>相关链接</h3><ul>
<li><a href="/a/1.html">关于开展2024年法治政府建设示范创建活动的通知</a></li>
<li><a href="/a/2.html">陕州区2023年度法治政府建设情况报告</a></li>
<li><a href="/a/3.html">全区依法行政工作会议召开</a></li></ul></div>
<div class="print">【打印本页】【关闭窗口】</div>
</div></div>
<div class="footer"><p>主办单位：{site}办公室 版权所有 网站标识码4112030001</p>
<p>豫ICP备12345678号 豫公网安备41120302000123号</p></div>
<script type="text/javascript">var _hmt = "统计代码：百度统计";</script>
</body></html>"""
    return page.encode(encoding)
