"""Exports: the comparison table as CSV (UTF-8 with BOM, so Excel shows the Chinese) and Word (.docx); the
figures table (数据) as CSV and Excel (.xlsx)."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from indexer.core.facets import FACET_FIELDS, FACET_LABELS
from indexer.core.document import HEADING_SEPARATOR
from indexer.search.figures import FiguresRequest, FiguresResponse, value_text
from indexer.search.highlight import segments
from indexer.search.official import match_label
from indexer.search.types import SearchRequest, SearchResponse
from search_web.citation import Passage, cite, source_line
from search_web.params import MODE_LABELS

# One header row, so Excel/WPS sort and filter it as it opens; every row names the query it answers (the
# last three columns), so rows pasted together from several exports keep saying where they came from.
CSV_COLUMNS = (FACET_LABELS["place"], FACET_LABELS["region"], FACET_LABELS["level"], FACET_LABELS["year"], "报告标题",
               FACET_LABELS["kind"], "标题路径", "匹配方式", "段落", "引用", "检索词", "检索模式", "筛选条件")
NO_HITS = "（没有找到相关段落）"
# Characters XML 1.0 (hence Word) cannot hold: C0 controls but tab/newline/CR, surrogates, U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_UNSAFE_FILENAME = re.compile(r"[^\w\u4e00-\u9fff-]+")
_CJK_FONT = "宋体"  # Word maps it to SimSun / the system's Song face
# A4 with 25 mm margins leaves 160 mm: place, year, section, match, passage.
_COLUMN_WIDTHS = (Mm(22), Mm(16), Mm(22), Mm(24), Mm(76))
_DOCX_COLUMNS = (FACET_LABELS["place"], FACET_LABELS["year"], FACET_LABELS["kind"], "匹配方式", "段落及出处")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def filename(query: str, ext: str) -> str:
    stem = _UNSAFE_FILENAME.sub("_", query).strip("_")[:30] or "检索"
    return f"按乡镇对比_{stem}.{ext}"


def describe(req: SearchRequest) -> str:
    """One line naming the query, mode and filters, so an exported table says where it came from."""
    parts = [f"检索词：{req.query}", f"模式：{MODE_LABELS.get(req.mode, req.mode)}"]
    filters = describe_filters(req)
    if filters:
        parts.append(filters)
    return "；".join(parts)


def describe_filters(req: SearchRequest) -> str:
    """地点：大铭乡、张茅乡；年份：2023 ("" without filters)."""
    parts = []
    for name in FACET_FIELDS:
        values = getattr(req.filters, name)
        if values:
            parts.append(f"{FACET_LABELS[name]}：{'、'.join(str(v) for v in values)}")
    return "；".join(parts)


def comparison_csv(req: SearchRequest, response: SearchResponse) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    query = (req.query, MODE_LABELS.get(req.mode, req.mode), describe_filters(req) or "（无）")
    for hit in response.hits:
        writer.writerow([_csv_cell(v) for v in (
            hit.place,
            hit.region,
            hit.level,
            hit.year or "",
            hit.title,
            hit.section_kind,
            HEADING_SEPARATOR.join(hit.heading_path),
            match_label(hit),
            hit.text,
            cite(hit),
            *query,
        )])
    if not response.hits:  # still say what was asked
        writer.writerow([_csv_cell(v) for v in ("", "", "", "", "", "", "", "", NO_HITS, "", *query)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# The figures table (/api/figures?format=csv): one row per figure, each naming the query and filters it answers.
FIGURES_CSV_COLUMNS = (FACET_LABELS["place"], FACET_LABELS["region"], FACET_LABELS["level"], FACET_LABELS["year"],
                       "指标", "指标组", "数值", "单位", "限定", "原文数字", "句子", "引用", "报告标题", "文档", "段落编号",
                       "检索词", "筛选条件", "排序")
FIGURE_SORT_LABELS = {"place": "地点", "year": "年份", "value": "数值", "measure": "指标"}
NO_FIGURES = "（含检索词的段落中没有数字）"


def figures_filename(query: str, ext: str = "csv") -> str:
    stem = _UNSAFE_FILENAME.sub("_", query).strip("_")[:30] or "检索"
    return f"数据_{stem}.{ext}"


def figures_order(req: FiguresRequest) -> str:
    """数值（降序）: the table's order as the exports name it."""
    return FIGURE_SORT_LABELS[req.sort] + ("（降序）" if req.descending else "")


def figures_csv(req: FiguresRequest, response: FiguresResponse) -> bytes:
    """Every row of the figures table (not one page), UTF-8 with BOM like the comparison export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FIGURES_CSV_COLUMNS)
    query = (req.query, describe_filters(req) or "（无）", figures_order(req))
    for r in response.rows:
        citation = cite(Passage(r.sentence, r.title, r.place, r.year, r.path, list(r.heading_path)))
        writer.writerow([_csv_cell(v) for v in (
            r.place, r.region, r.level, r.year or "", r.measure, r.group, value_text(r.value, r.value_high), r.unit,
            r.qualifier, r.as_written, r.sentence, citation, r.title, r.doc_id, r.chunk_id, *query,
        )])
    if not response.rows:
        writer.writerow([_csv_cell(v) for v in ("", "", "", "", "", "", "", "", "", "", NO_FIGURES, "", "", "", "",
                                                *query)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# The figures table as a workbook: a header block naming the query, filters and sort (once, above the table),
# then one row per figure with its value (and year) as a number cell (a range: its upper end in 数值上限), and its
# citation.
FIGURES_XLSX_COLUMNS = (FACET_LABELS["place"], FACET_LABELS["region"], FACET_LABELS["level"], FACET_LABELS["year"],
                        "指标", "指标组", "数值", "数值上限", "单位", "限定", "原文数字", "句子", "引用", "报告标题",
                        "章节", "文档", "段落编号")
_XLSX_WIDTHS = {"地点": 12, "地区": 12, "级别": 8, "年份": 7, "指标": 22, "指标组": 22, "数值": 12, "数值上限": 10,
                "单位": 7, "限定": 7, "原文数字": 12, "句子": 60, "引用": 60, "报告标题": 36, "章节": 30,
                "文档": 24, "段落编号": 9}
_HEADER_FILL = PatternFill("solid", fgColor="E8ECF1")


def figures_header(req: FiguresRequest, response: FiguresResponse) -> list[tuple[str, str]]:
    """The header block's (label, value) lines: what the table answers, as the CSV names it on every row."""
    lines = [("检索词", req.query), ("筛选条件", describe_filters(req) or "（无）"), ("排序", figures_order(req)),
             ("范围", f"含检索词的段落 {response.paragraphs} 个，其中数字 {response.total} 个（全部行）"),
             ("导出时间", f"{datetime.now():%Y-%m-%d %H:%M}")]
    if response.note:
        lines.append(("说明", response.note))
    return lines


def figures_xlsx(req: FiguresRequest, response: FiguresResponse) -> bytes:
    """Every row of the figures table (not one page) as an Excel workbook: sheet 数据 (header block, then the
    table, filterable, its header row frozen) and sheet 指标分组 (which wordings were counted as one measure).
    Written streaming (openpyxl's write-only mode): 13,000 rows take seconds, not the ~8 s of a loaded sheet."""
    book = Workbook(write_only=True)
    _figures_sheet(book.create_sheet("数据"), req, response)
    groups = book.create_sheet("指标分组")
    for letter, width in zip("ABCD", (24, 80, 8, 8)):
        groups.column_dimensions[letter].width = width
    groups.append(_xlsx_header(groups, ("指标组", "包含的说法", "说法数", "行数")))
    for g in response.groups:
        groups.append([_xlsx_cell(groups, g.label), _xlsx_cell(groups, "、".join(g.measures)), len(g.measures),
                       g.rows])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _figures_sheet(sheet, req: FiguresRequest, response: FiguresResponse) -> None:
    header = figures_header(req, response)
    top = len(header) + 3  # title, the header block, a blank row, then the table's header row
    for i, name in enumerate(FIGURES_XLSX_COLUMNS, 1):  # (a streamed sheet takes its layout before its rows)
        sheet.column_dimensions[get_column_letter(i)].width = _XLSX_WIDTHS.get(name, 12)
    sheet.freeze_panes = f"A{top + 1}"
    sheet.auto_filter.ref = f"A{top}:{get_column_letter(len(FIGURES_XLSX_COLUMNS))}{top + max(1, len(response.rows))}"
    title = _xlsx_cell(sheet, f"数据：{req.query}")
    title.font = Font(bold=True, size=14)
    sheet.append([title])
    for label, value in header:
        sheet.append([_xlsx_cell(sheet, label, bold=True), _xlsx_cell(sheet, value)])
    sheet.append([])
    sheet.append(_xlsx_header(sheet, FIGURES_XLSX_COLUMNS))
    wrap = Alignment(wrap_text=True, vertical="top")
    for r in response.rows:
        citation = cite(Passage(r.sentence, r.title, r.place, r.year, r.path, list(r.heading_path)))
        sentence, cited = _xlsx_cell(sheet, r.sentence), _xlsx_cell(sheet, citation)
        sentence.alignment = cited.alignment = wrap
        sheet.append([_xlsx_cell(sheet, v) if isinstance(v, str) else v for v in (
            r.place, r.region, r.level, r.year, r.measure, r.group, r.value, r.value_high, r.unit, r.qualifier,
            r.as_written)] + [sentence, cited] + [_xlsx_cell(sheet, v) for v in (
            r.title, HEADING_SEPARATOR.join(r.heading_path), r.doc_id,
            str(r.chunk_id),  # text: a 64-bit id is beyond what an Excel number (a double) holds exactly
        )])
    if not response.rows:
        sheet.append([_xlsx_cell(sheet, NO_FIGURES)])


def _xlsx_header(sheet, labels) -> list:
    cells = [_xlsx_cell(sheet, label, bold=True) for label in labels]
    for cell in cells:
        cell.fill = _HEADER_FILL
    return cells


def _xlsx_cell(sheet, text: str, bold: bool = False) -> WriteOnlyCell:
    """A text cell: without the characters a worksheet cannot hold (XML 1.0: control characters, surrogates,
    U+FFFE), and text even when it starts with "=" (openpyxl would store a formula that Excel runs)."""
    cell = WriteOnlyCell(sheet, value=_NOT_XML.sub(" ", text or ""))
    cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def comparison_docx(req: SearchRequest, response: SearchResponse) -> bytes:
    doc = Document()
    _set_page(doc)
    _set_fonts(doc)
    doc.add_heading(xml_safe(f"按乡镇对比：{req.query}"), level=1)
    info = doc.add_paragraph(xml_safe(
        f"{describe(req)}。共 {len(response.hits)} 个地点。导出时间：{datetime.now():%Y-%m-%d %H:%M}。"
    ))
    _gray(info, 9)

    table = doc.add_table(rows=1, cols=len(_DOCX_COLUMNS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for cell, label in zip(table.rows[0].cells, _DOCX_COLUMNS):
        cell.text = ""
        cell.paragraphs[0].add_run(label).bold = True
    for hit in response.hits:
        row = table.add_row().cells
        row[0].text = xml_safe(hit.place) or "（未识别）"
        row[1].text = f"{hit.year}年" if hit.year else ""
        row[2].text = xml_safe(hit.section_kind)
        row[3].text = xml_safe(match_label(hit))
        passage = row[4].paragraphs[0]
        _add_marked_runs(passage, hit.text, hit.spans)
        source = row[4].add_paragraph(xml_safe(f"（{source_line(hit)}）"))
        _gray(source, 9)
    # Word reads the cell widths, LibreOffice the grid columns: set both.
    for column, width in zip(table.columns, _COLUMN_WIDTHS):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, _COLUMN_WIDTHS):
            cell.width = width

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def xml_safe(text: str) -> str:
    """`text` without the characters a .docx cannot hold (a report's stray control character would
    otherwise fail the whole export); each becomes a space."""
    return _NOT_XML.sub(" ", text or "")


def _set_page(doc) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(25)
    section.top_margin = section.bottom_margin = Mm(25)


def _csv_cell(value) -> str:
    """Text as Excel should show it: a leading = + - @ would otherwise be run as a formula."""
    text = "" if value is None else _NOT_XML.sub(" ", str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


def _add_marked_runs(paragraph, text: str, spans: list[tuple[int, int]]) -> None:
    """The hit's text as Word runs, its marked spans (matched terms, or the closest sentence) in bold."""
    for piece, marked in segments(text, spans):
        paragraph.add_run(xml_safe(piece)).bold = marked or None


def _gray(paragraph, size: int) -> None:
    for run in paragraph.runs:
        run.font.size = Pt(size)
        run.font.color.rgb = RGBColor(0x55, 0x5B, 0x66)


def _set_fonts(doc) -> None:
    # python-docx only sets the Latin font; East Asian text needs w:eastAsia or Word falls back oddly.
    for style_name in ("Normal", "Heading 1"):
        style = doc.styles[style_name]
        style.font.name = _CJK_FONT
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), _CJK_FONT)
    doc.styles["Normal"].font.size = Pt(10.5)
