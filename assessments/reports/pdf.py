"""Render a ``ReportDoc`` to PDF with ReportLab (platypus tables, reportlab.graphics charts)."""

from __future__ import annotations

from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable, HRFlowable

from assessments.reports.data import Chart, ReportDoc
from assessments.reports.data import Table as DataTable
from assessments.reports.fonts import cjk_bold_font, cjk_font, title_font

PARTY_RED = colors.HexColor("#b71c1c")
HEADER_BG = colors.HexColor("#f6e3e3")
GRID = colors.HexColor("#c9c9c9")
SUBHEAD_BG = colors.HexColor("#f3f3f3")
SERIES_COLORS = [colors.HexColor(c) for c in ("#c62828", "#f9a825", "#1565c0", "#2e7d32", "#6a1b9a")]


def _styles(font: str, bold: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12.5, wordWrap="CJK")
    return {
        "title": ParagraphStyle(
            "title", parent=base, fontName=bold, fontSize=16, leading=22, alignment=TA_CENTER, textColor=PARTY_RED
        ),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=9.5, alignment=TA_CENTER, textColor=colors.grey),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=bold,
            fontSize=12,
            leading=17,
            spaceBefore=8,
            spaceAfter=4,
            textColor=PARTY_RED,
            keepWithNext=1,
        ),
        # The official front (公文): 红头, 文号, title, body paragraphs, 落款.
        "mark": ParagraphStyle(
            "mark", parent=base, fontName=bold, fontSize=24, leading=32, alignment=TA_CENTER, textColor=PARTY_RED
        ),
        "number": ParagraphStyle("number", parent=base, fontSize=11, leading=16, alignment=TA_CENTER),
        "doc_title": ParagraphStyle(
            "doc_title", parent=base, fontName=bold, fontSize=16, leading=24, alignment=TA_CENTER, spaceAfter=8
        ),
        "body": ParagraphStyle(
            "body", parent=base, fontSize=11.5, leading=20, firstLineIndent=23, alignment=TA_JUSTIFY, spaceAfter=2
        ),
        "to": ParagraphStyle("to", parent=base, fontSize=11.5, leading=20),
        "body_head": ParagraphStyle(
            "body_head", parent=base, fontName=bold, fontSize=11.5, leading=20, firstLineIndent=23, keepWithNext=1
        ),
        "item": ParagraphStyle("item", parent=base, fontSize=11, leading=18, leftIndent=23, firstLineIndent=-12),
        "sign": ParagraphStyle("sign", parent=base, fontSize=11.5, leading=20, alignment=TA_RIGHT, rightIndent=12),
        "cell": base,
        "head": ParagraphStyle("head", parent=base, fontSize=9, textColor=colors.black),
        "note": ParagraphStyle("note", parent=base, fontSize=8.5, textColor=colors.HexColor("#555555"), spaceBefore=3),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    value = "" if text is None else str(text)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Paragraph(value, style)


def _heading(text: str, style: ParagraphStyle) -> Paragraph:
    """A title or heading in the bold face, or in the body face when the bold subset lacks one of
    its characters (a rare character in an organization's name)."""
    font = title_font(text)
    if font != style.fontName:
        style = ParagraphStyle(f"{style.name}-body", parent=style, fontName=font)
    return _p(text, style)


def _cell(value: Any, style: ParagraphStyle, col_width: float) -> Any:
    """A plain string when the text fits on one line (cheap to lay out), a wrapping Paragraph
    otherwise. CJK glyphs are about one em wide."""
    text = "" if value is None else str(value)
    if "\n" not in text and len(text) * style.fontSize * 1.05 < col_width - 6:
        return text
    return _p(text, style)


def _table(table: DataTable, width: float, styles: dict[str, ParagraphStyle]) -> Table | None:
    if not table.columns:
        return None
    weights = table.widths or [1.0] * len(table.columns)
    total = sum(weights)
    col_widths = [width * w / total for w in weights]
    cell_style = styles["cell"]
    data = [[_cell(c, styles["head"], col_widths[i]) for i, c in enumerate(table.columns)]]
    subhead_rows: list[int] = []
    for index, row in enumerate(table.rows):
        if index in table.subheads:
            subhead_rows.append(len(data))
            data.append([_p(table.subheads[index], styles["head"])] + [""] * (len(table.columns) - 1))
        data.append([_cell(cell, cell_style, col_widths[i]) for i, cell in enumerate(row)])
    if not table.rows:
        data.append([_p("无", styles["cell"])] + [""] * (len(table.columns) - 1))
    flow = Table(data, colWidths=col_widths, repeatRows=1)
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), cell_style.fontName),
        ("FONTSIZE", (0, 0), (-1, -1), cell_style.fontSize),
        ("LEADING", (0, 0), (-1, -1), cell_style.leading),
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if not table.rows:
        commands.append(("SPAN", (0, 1), (-1, 1)))
    for row in subhead_rows:  # a 党小组's items under its own heading row
        commands += [("SPAN", (0, row), (-1, row)), ("BACKGROUND", (0, row), (-1, row), SUBHEAD_BG)]
    flow.setStyle(TableStyle(commands))
    return flow


def _chart(chart: Chart, width: float, font: str) -> Flowable:
    height = 68 * mm
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, chart.title, fontName=font, fontSize=9.5, fillColor=colors.black))
    bars = VerticalBarChart()
    bars.x = 28
    bars.y = 34
    bars.width = width - 40
    bars.height = height - 62
    bars.data = [[v if v is not None else 0 for v in values] for _name, values in chart.series] or [[0]]
    bars.valueAxis.valueMin = 0
    bars.valueAxis.valueMax = 100 if chart.unit == "%" else None
    bars.valueAxis.valueStep = 20 if chart.unit == "%" else None
    bars.valueAxis.labels.fontName = font
    bars.valueAxis.labels.fontSize = 7
    categories = [c if len(c) <= 10 else c[:9] + "…" for c in chart.categories]
    bars.categoryAxis.categoryNames = categories or [""]
    bars.categoryAxis.labels.fontName = font
    bars.categoryAxis.labels.fontSize = 6.5 if len(categories) > 8 else 7.5
    if len(categories) > 8:
        bars.categoryAxis.labels.angle = 35
        bars.categoryAxis.labels.boxAnchor = "ne"
        bars.categoryAxis.labels.dy = -2
    bars.barSpacing = 1
    bars.groupSpacing = 6
    for index in range(len(chart.series)):
        bars.bars[index].fillColor = SERIES_COLORS[index % len(SERIES_COLORS)]
        bars.bars[index].strokeColor = None
    if len(chart.series) == 1:
        # Label each bar with its value, and say "无数据" where the figure is not available
        # (drawn as 0 height) so a missing figure is never read as 0%.
        bars.barLabelFormat = "values"
        bars.barLabelArray = [
            ["无数据" if v is None else f"{v:.1f}".removesuffix(".0") for v in values] for _n, values in chart.series
        ]
        bars.barLabels.fontName = font
        bars.barLabels.fontSize = 7
        bars.barLabels.nudge = 6
    drawing.add(bars)
    if len(chart.series) > 1:
        legend = Legend()
        legend.fontName = font
        legend.fontSize = 7.5
        legend.x = width - 10
        legend.y = height - 6
        legend.alignment = "right"
        legend.boxAnchor = "ne"
        legend.columnMaximum = 1
        legend.deltax = 70
        legend.dx = 7
        legend.dy = 7
        legend.colorNamePairs = [
            (SERIES_COLORS[i % len(SERIES_COLORS)], name) for i, (name, _v) in enumerate(chart.series)
        ]
        drawing.add(legend)
    return drawing


def _official(official: Any, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    """The document's front: 红头 (issuing body's mark in red, 文号, red rule), title, 主送, body
    paragraphs, 问题清单, 整改要求, 落款 and date, then a page break before the 附件 tables."""
    story: list[Flowable] = [
        Spacer(1, 10 * mm),
        _heading(official.issuer_mark, styles["mark"]),
        Spacer(1, 6 * mm),
        _p(official.doc_number, styles["number"]),
        HRFlowable(width="100%", thickness=1.6, color=PARTY_RED, spaceBefore=2, spaceAfter=10 * mm),
        _heading(official.title, styles["doc_title"]),
        _p(f"{official.recipients}：", styles["to"]),
        _p(
            "根据党内法规和上级党组织关于基层组织建设的要求，现将督查情况"
            "（数据取自党建工作管理系统，明细见附件）报告如下。",
            styles["body"],
        ),
    ]
    for heading, text in official.paragraphs:
        story += [_heading(heading, styles["body_head"]), _p(text, styles["body"])]
    number = len(official.paragraphs)
    if official.findings:
        story.append(_heading(f"{_CN[number]}、问题清单", styles["body_head"]))
        story += [_p(f"{i}. {f.problem}", styles["item"]) for i, f in enumerate(official.findings, 1)]
        story.append(_heading(f"{_CN[number + 1]}、整改要求", styles["body_head"]))
        story += [
            _p(f"{i}. {f.organization}：{f.requirement}", styles["item"]) for i, f in enumerate(official.findings, 1)
        ]
    story += [
        _p(official.closing, styles["body"]),
        Spacer(1, 4 * mm),
        _p("附件：督查数据表", styles["to"]),
        Spacer(1, 12 * mm),
        KeepTogether(
            [
                _p(official.signatory, styles["sign"]),
                _p(
                    f"{official.issued_on.year}年{official.issued_on.month}月{official.issued_on.day}日", styles["sign"]
                ),
            ]
        ),
        PageBreak(),
        _heading("附件", styles["body_head"]),
    ]
    return story


_CN = "一二三四五六七八九十"


def render_pdf(doc: ReportDoc, path: str, *, wide: bool = False) -> None:
    font = cjk_font()
    styles = _styles(font, cjk_bold_font())
    pagesize = landscape(A4) if wide else A4
    margin = 14 * mm
    width = pagesize[0] - 2 * margin

    def footer(canvas: Any, template: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(margin, 8 * mm, doc.footer)
        canvas.drawRightString(pagesize[0] - margin, 8 * mm, f"第 {template.page} 页")
        canvas.restoreState()

    template = SimpleDocTemplate(
        path,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=doc.title,
        initialFontName=font,
        author="党建工作管理系统",
        subject=doc.subtitle,
    )
    story: list[Flowable] = _official(doc.official, styles) if doc.official is not None else []
    story += [
        _heading(doc.title, styles["title"]),
        _p(doc.subtitle, styles["subtitle"]),
        Spacer(1, 4 * mm),
    ]
    facts = Table(
        [[_p(k, styles["head"]), _p(v, styles["cell"])] for k, v in doc.facts],
        colWidths=[width * 0.2, width * 0.8],
    )
    facts.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),  # else the table sets Helvetica (not embedded)
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("BACKGROUND", (0, 0), (0, -1), HEADER_BG),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story.append(facts)
    for section in doc.sections:
        heading = _heading(section.title, styles["h2"])
        flow = _table(section, width, styles)
        parts: list[Flowable] = [heading]
        if flow is not None:
            parts.append(flow)
        if section.chart is not None:
            parts.append(Spacer(1, 2 * mm))
            parts.append(_chart(section.chart, width, font))
        if section.note:
            parts.append(_p(section.note, styles["note"]))
        # Keep a heading with the start of its table; long tables still split across pages.
        story.append(KeepTogether(parts[:2]))
        story.extend(parts[2:])
    template.build(story, onFirstPage=footer, onLaterPages=footer)
