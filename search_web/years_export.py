"""历年对比 exports (issue 30 point 3): CSV (UTF-8 with BOM, one row per aligned paragraph, then one per figure
across the years) and Word (a two-column table per pair of years, the changed words in bold), each paragraph with
its citation (search_web/citation.py), as the comparison exports (export.py) do."""
from __future__ import annotations

import csv
import io
from datetime import datetime

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.shared import Mm

from indexer.search.figures import value_text
from indexer.search.years import ReportRef, Side, YearsResponse
from search_web.citation import Passage, cite
from search_web.export import _UNSAFE_FILENAME, _csv_cell, _gray, _set_fonts, _set_page, xml_safe

CSV_COLUMNS = ("地点", "前一年", "后一年", "标注", "相似度", "前一年段落号", "前一年段落", "前一年引用", "后一年段落号",
               "后一年段落", "后一年引用", "检索词")
FIGURE_COLUMNS = ("地点", "前一年", "后一年", "指标", "单位", "前一年原文", "后一年原文", "前一年数值", "后一年数值",
                  "前一年句子", "后一年句子")
_HALF = Mm(80)


def filename(response: YearsResponse, ext: str) -> str:
    stem = _UNSAFE_FILENAME.sub("_", response.place).strip("_")[:20] or "地方"
    years = "-".join(map(str, response.years))
    return f"历年对比_{stem}_{years}.{ext}"


def citation(side: Side, report: ReportRef, place: str) -> str:
    return cite(Passage(side.text, report.title, place, side.year, report.path, side.heading_path))


def years_csv(response: YearsResponse) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for c in response.comparisons:
        for row in c.rows:
            e, l = row.earlier, row.later
            writer.writerow([_csv_cell(v) for v in (
                response.place, c.earlier.year, c.later.year, row.label, f"{row.score:.2f}" if row.score else "",
                e.paragraph_index if e else "", e.text if e else "", citation(e, c.earlier, response.place) if e else "",
                l.paragraph_index if l else "", l.text if l else "", citation(l, c.later, response.place) if l else "",
                response.query,
            )])
    writer.writerow([])
    writer.writerow(FIGURE_COLUMNS)
    for c in response.comparisons:
        for f in c.figures:
            writer.writerow([_csv_cell(v) for v in (
                response.place, c.earlier.year, c.later.year, f.measure, f.unit, f.earlier + f.unit, f.later + f.unit,
                value_text(f.earlier_value), value_text(f.later_value), f.earlier_sentence, f.later_sentence,
            )])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def years_docx(response: YearsResponse) -> bytes:
    doc = Document()
    _set_page(doc)
    _set_fonts(doc)
    doc.add_heading(xml_safe(f"历年对比：{response.place}"), level=1)
    scope = f"只看含“{response.query}”的段落。" if response.query else ""
    info = doc.add_paragraph(xml_safe(f"{' → '.join(map(str, response.years))} 年。{scope}"
                                      f"导出时间：{datetime.now():%Y-%m-%d %H:%M}。"))
    _gray(info, 9)
    for c in response.comparisons:
        doc.add_heading(xml_safe(f"{c.earlier.year} 年 → {c.later.year} 年（"
                                 + "，".join(f"{k} {n}" for k, n in c.counts.items()) + "）"), level=2)
        if c.figures:
            doc.add_paragraph("数据对比：" + "；".join(xml_safe(f"{f.measure} {f.earlier}{f.unit} → {f.later}{f.unit}")
                                                  for f in c.figures))
        table = doc.add_table(rows=1, cols=2)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, label in zip(table.rows[0].cells, (f"{c.earlier.year} 年", f"{c.later.year} 年")):
            cell.text = ""
            cell.paragraphs[0].add_run(label).bold = True
        for row in c.rows:
            cells = table.add_row().cells
            for cell, side, report in ((cells[0], row.earlier, c.earlier), (cells[1], row.later, c.later)):
                para = cell.paragraphs[0]
                if side is None:
                    para.add_run(f"（{row.label}）")
                    continue
                para.add_run(f"【{row.label}】")
                for text, changed in side.segments:
                    para.add_run(xml_safe(text)).bold = changed or None
                source = cell.add_paragraph(xml_safe(citation(side, report, response.place)[len(side.text.strip()):]))
                _gray(source, 9)
        for column in table.columns:
            column.width = _HALF
        for r in table.rows:
            for cell in r.cells:
                cell.width = _HALF
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
