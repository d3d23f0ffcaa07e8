"""Render a ``ReportDoc`` to XLSX with openpyxl in write-only (streaming) mode: one sheet for the
overview and one per section, with a native bar chart where the report has one."""

from __future__ import annotations

from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill

from assessments.reports.data import ReportDoc
from core.xlsx import new_workbook

HEAD_FILL = PatternFill("solid", fgColor="F6E3E3")
TITLE_FONT = Font(bold=True, size=14, color="B71C1C")
HEAD_FONT = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def _cell(ws: Any, value: Any, *, font: Font | None = None, fill: PatternFill | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    return cell


def _sheet_title(title: str, used: set[str]) -> str:
    base = title.split("、", 1)[-1]
    for char in "[]:*?/\\（）()":
        base = base.replace(char, "")
    base = base[:28] or "数据"
    name, n = base, 2
    while name in used:
        name = f"{base[:26]}{n}"
        n += 1
    used.add(name)
    return name


def _official_sheet(wb: Any, official: Any, used: set[str]) -> None:
    """The document's front as text: 红头, 文号, title, 主送, paragraphs, findings, 落款."""
    ws = wb.create_sheet(_sheet_title("报告正文", used))
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 90
    ws.append([_cell(ws, official.issuer_mark, font=TITLE_FONT)])
    ws.append([official.doc_number])
    ws.append([_cell(ws, official.title, font=HEAD_FONT)])
    ws.append([f"{official.recipients}："])
    for heading, text in official.paragraphs:
        ws.append([_cell(ws, heading, font=HEAD_FONT), text])
    for i, finding in enumerate(official.findings, 1):
        ws.append([_cell(ws, f"问题 {i}", font=HEAD_FONT), f"{finding.organization}：{finding.problem}"])
        ws.append([_cell(ws, f"整改要求 {i}", font=HEAD_FONT), finding.requirement])
    ws.append([None, official.closing])
    ws.append([None, official.signatory])
    ws.append([None, f"{official.issued_on.year}年{official.issued_on.month}月{official.issued_on.day}日"])


def render_xlsx(doc: ReportDoc, path: str) -> None:
    wb = new_workbook(write_only=True)
    used: set[str] = set()
    if doc.official is not None:
        _official_sheet(wb, doc.official, used)
    overview = wb.create_sheet(_sheet_title("概况", used))
    overview.column_dimensions["A"].width = 16
    overview.column_dimensions["B"].width = 70
    overview.append([_cell(overview, doc.title, font=TITLE_FONT)])
    overview.append([doc.subtitle])
    overview.append([])
    for key, value in doc.facts:
        overview.append([_cell(overview, key, font=HEAD_FONT, fill=HEAD_FILL), value])
    overview.append([])
    overview.append([doc.footer])
    for section in doc.sections:
        ws = wb.create_sheet(_sheet_title(section.title, used))
        ws.append([_cell(ws, section.title, font=TITLE_FONT)])
        first_data_row = 2
        if section.columns:
            for index, _column in enumerate(section.columns):
                letter = chr(ord("A") + index) if index < 26 else None
                if letter:
                    ws.column_dimensions[letter].width = 14 if index else 24
            ws.append([_cell(ws, c, font=HEAD_FONT, fill=HEAD_FILL) for c in section.columns])
            first_data_row = 3
            for index, row in enumerate(section.rows):
                if index in section.subheads:
                    ws.append([_cell(ws, section.subheads[index], font=HEAD_FONT)])
                ws.append(list(row))
        if section.chart is not None:
            chart = section.chart
            start = first_data_row + len(section.rows) + len(section.subheads) + 1
            if section.columns:
                ws.append([])
                start += 1
            ws.append([_cell(ws, "图表数据", font=HEAD_FONT)] + [name for name, _values in chart.series])
            for i, category in enumerate(chart.categories):
                ws.append([category] + [values[i] for _name, values in chart.series])
            bar = BarChart()
            bar.type = "col"
            bar.title = chart.title
            bar.y_axis.title = chart.unit
            bar.y_axis.scaling.min = 0
            if chart.unit == "%":
                bar.y_axis.scaling.max = 100
            bar.height = 9
            bar.width = max(16, min(40, 1.2 * len(chart.categories) + 8))
            data = Reference(
                ws, min_col=2, max_col=1 + len(chart.series), min_row=start, max_row=start + len(chart.categories)
            )
            cats = Reference(ws, min_col=1, min_row=start + 1, max_row=start + len(chart.categories))
            bar.add_data(data, titles_from_data=True)
            bar.set_categories(cats)
            ws.add_chart(bar, f"{chr(ord('A') + len(chart.series) + 2)}{max(2, start)}")
        if section.note:
            ws.append([])
            ws.append([section.note])
    wb.save(path)
