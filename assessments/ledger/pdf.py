"""Render a ``Ledger`` to PDF: cover, contents with page numbers, the branch at a glance, one
record page per finished meeting laid out as the 会议记录本 (with signature lines), talks,
民主评议, study hours, dues by month, the compliance calendar. Every page after the cover carries
a header (organization and year) and 第 N 页 共 M 页. Fonts: the embedded Noto Serif SC subsets.
"""

from __future__ import annotations

from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable
from reportlab.platypus.tableofcontents import TableOfContents

from assessments.ledger.data import Ledger, MeetingRecord
from assessments.reports.fonts import cjk_bold_font, cjk_font, title_font

RED = colors.HexColor("#b71c1c")
GRID = colors.HexColor("#888888")
HEAD_BG = colors.HexColor("#f4e6e6")
MARGIN = 18 * mm


def _esc(text: Any) -> str:
    value = "" if text is None else str(text)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br/>")


def _styles() -> dict[str, ParagraphStyle]:
    font, bold = cjk_font(), cjk_bold_font()
    base = ParagraphStyle("l-base", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
    return {
        "cell": base,
        "small": ParagraphStyle("l-small", parent=base, fontSize=7.5, leading=10),
        "cover_org": ParagraphStyle(
            "l-cover-org", parent=base, fontName=bold, fontSize=20, leading=30, alignment=TA_CENTER
        ),
        "cover_title": ParagraphStyle(
            "l-cover-title", parent=base, fontName=bold, fontSize=30, leading=44, alignment=TA_CENTER, textColor=RED
        ),
        "cover_line": ParagraphStyle("l-cover-line", parent=base, fontSize=13, leading=24, alignment=TA_CENTER),
        "h1": ParagraphStyle(
            "l-h1", parent=base, fontName=bold, fontSize=14, leading=20, spaceAfter=6, textColor=RED, keepWithNext=1
        ),
        "h2": ParagraphStyle(
            "l-h2", parent=base, fontName=bold, fontSize=11, leading=16, spaceBefore=6, keepWithNext=1
        ),
        "toc": ParagraphStyle("l-toc", parent=base, fontSize=11, leading=20),
        "sign": ParagraphStyle("l-sign", parent=base, fontSize=10.5, leading=18, spaceBefore=10),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(_esc(text), style)


class _Heading(Paragraph):
    """A section heading that enters the contents (see ``LedgerTemplate.afterFlowable``)."""

    toc_text = ""


def _h1(text: str, styles: dict[str, ParagraphStyle]) -> _Heading:
    style = styles["h1"]
    if title_font(text) != style.fontName:
        style = ParagraphStyle("l-h1-body", parent=style, fontName=cjk_font())
    heading = _Heading(_esc(text), style)
    heading.toc_text = text
    return heading


def _grid(rows: list[list[Any]], widths: list[float], styles: dict[str, ParagraphStyle], *, head: bool = True) -> Table:
    cell = styles["cell"]
    data = [[_p(c, cell) for c in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1 if head else 0)
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), cell.fontName),
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if head:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), HEAD_BG))
    table.setStyle(TableStyle(commands))
    return table


def _list_or_none(
    rows: list[list[Any]], columns: list[str], weights: list[float], width: float, styles: dict
) -> Flowable:
    if not rows:
        return _p("（本年度无记录）", styles["cell"])
    total = sum(weights)
    return _grid([columns, *rows], [width * w / total for w in weights], styles)


def _names(pairs: list[tuple[str, str]]) -> str:
    return "、".join(f"{n}（{r}）" if r else n for n, r in pairs) or "无"


def _record(m: MeetingRecord, width: float, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    """One meeting as the 会议记录本 lays it out, with the signature lines."""
    label = styles["cell"]
    w = [width * 0.16, width * 0.34, width * 0.16, width * 0.34]
    rows = [
        ["会议类型", m.type_label, "日期时间", f"{m.held_on:%Y年%m月%d日} {m.time_text}".strip()],
        ["地点", m.place or "—", "组织", m.organization],
        ["主持人", m.chair or "—", "记录人", m.recorder or "—"],
        ["应到人数", str(m.expected), "实到人数", str(m.present)],
        ["请假人员", _names(m.on_leave), "", ""],
        ["缺席人员", _names(m.absent), "", ""],
        ["列席人员", "、".join(m.nonvoting) or "无", "", ""],
        ["议题", m.topic + (f"（授课人：{m.lecturer}）" if m.lecturer else ""), "", ""],
    ]
    if m.agenda:
        rows.append(["议程", m.agenda, "", ""])
    rows.append(["会议记录", m.minutes or "—", "", ""])
    resolutions = "<br/>".join(
        f"{i}. {_esc(title)}：{_esc(votes)}；结果：{_esc(outcome)}"
        for i, (title, votes, outcome) in enumerate(m.resolutions, 1)
    )
    follow = "<br/>".join(f"{_esc(t)}（责任人 {_esc(o)}，时限 {_esc(d)}，{_esc(s)}）" for t, o, d, s in m.follow_ups)
    data = [[_p(c, label) for c in row] for row in rows]
    data.append([_p("决议及表决", label), Paragraph(resolutions or "无", label), "", ""])
    data.append([_p("落实事项", label), Paragraph(follow or "无", label), "", ""])
    table = Table(data, colWidths=w)
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), label.fontName),
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), HEAD_BG),
        ("BACKGROUND", (2, 0), (2, 3), HEAD_BG),
    ]
    commands += [("SPAN", (1, r), (3, r)) for r in range(4, len(data))]
    table.setStyle(TableStyle(commands))
    return [
        _p(f"{m.type_label}记录 · {m.held_on:%Y年%m月%d日}", styles["h2"]),
        table,
        _p("记录人（签字）：________________　　　　书记（签字）：________________", styles["sign"]),
    ]


class _PageCountCanvas(Canvas):
    """Draws 第 N 页 共 M 页 once the page count is known (pages are kept until ``save``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - ReportLab's API
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            if self._pageNumber > 1:  # the cover has no number
                self.setFont(cjk_font(), 8)
                self.setFillColor(colors.grey)
                self.drawCentredString(A4[0] / 2, 10 * mm, f"第 {self._pageNumber - 1} 页 共 {total - 1} 页")
            super().showPage()
        super().save()


class LedgerTemplate(BaseDocTemplate):
    def __init__(self, path: str, ledger: Ledger, **kwargs: Any) -> None:
        super().__init__(path, pagesize=A4, initialFontName=cjk_font(), **kwargs)
        self.ledger = ledger
        frame = Frame(MARGIN, 16 * mm, A4[0] - 2 * MARGIN, A4[1] - 34 * mm, id="body")
        self.addPageTemplates(
            [PageTemplate(id="cover", frames=[frame]), PageTemplate(id="body", frames=[frame], onPage=self._header)]
        )

    def _header(self, canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(cjk_font(), 8.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(MARGIN, A4[1] - 12 * mm, f"{self.ledger.organization}  {self.ledger.year}年组织生活台账")
        canvas.setStrokeColor(RED)
        canvas.setLineWidth(0.6)
        canvas.line(MARGIN, A4[1] - 14 * mm, A4[0] - MARGIN, A4[1] - 14 * mm)
        canvas.restoreState()

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 - ReportLab's API
        if isinstance(flowable, _Heading):
            self.notify("TOCEntry", (0, flowable.toc_text, self.page - 1))


def render_ledger_pdf(ledger: Ledger, path: str) -> int:
    """Write the PDF; returns its page count."""
    styles = _styles()
    width = A4[0] - 2 * MARGIN
    toc = TableOfContents()
    toc.levelStyles = [styles["toc"]]
    toc.dotsMinLevel = 0
    story: list[Flowable] = [
        Spacer(1, 50 * mm),
        _p(ledger.organization, styles["cover_org"]),
        Spacer(1, 14 * mm),
        _p(f"{ledger.year}年度", styles["cover_line"]),
        _p("组织生活台账", styles["cover_title"]),
        Spacer(1, 40 * mm),
        _p(f"上级党组织：{ledger.parent}", styles["cover_line"]),
        _p(f"书　　记：{ledger.secretary}", styles["cover_line"]),
        _p(f"联 系 人：{ledger.contact}", styles["cover_line"]),
        _p(f"生成时间：{ledger.generated}", styles["cover_line"]),
        NextPageTemplate("body"),
        PageBreak(),
        _p("目　录", styles["h1"]),
        toc,
        PageBreak(),
        _h1("一、支部概况", styles),
        _p("委员会届次", styles["h2"]),
        _list_or_none(
            ledger.terms,
            ["届次", "产生方式", "选举日期", "任期届满", "结束日期"],
            [1, 1.2, 1.4, 1.4, 1.4],
            width,
            styles,
        ),
        _p("委员会成员", styles["h2"]),
        _list_or_none(ledger.committee, ["职务", "姓名", "任职日期", "离任日期"], [1.4, 1.4, 1.4, 1.4], width, styles),
        _p("党小组", styles["h2"]),
        _list_or_none(ledger.groups, ["党小组", "党员数"], [4, 1], width, styles),
        _p(f"1月1日党员名册（{len(ledger.roster_start)} 名）", styles["h2"]),
        _p("、".join(ledger.roster_start) or "无", styles["cell"]),
        _p(f"12月31日党员名册（{len(ledger.roster_end)} 名）", styles["h2"]),
        _p("、".join(ledger.roster_end) or "无", styles["cell"]),
        _p("年内变动", styles["h2"]),
        _list_or_none(ledger.changes, ["日期", "姓名", "变动"], [1.2, 1.2, 3], width, styles),
        PageBreak(),
        _h1(f"二、会议记录（{len(ledger.meetings)} 次）", styles),
    ]
    if not ledger.meetings:
        story.append(_p("（本年度无已完成录入的会议）", styles["cell"]))
    for index, meeting in enumerate(ledger.meetings):
        if index:
            story.append(PageBreak())
        story += _record(meeting, width, styles)
    story += [
        PageBreak(),
        _h1("三、谈心谈话", styles),
        _list_or_none(ledger.talks, ["日期", "谈话人", "谈话对象", "主题"], [1.2, 1.2, 1.2, 4], width, styles),
        _h1("四、民主评议党员", styles),
        _list_or_none(ledger.appraisals, ["评议日期", "姓名", "评定等次"], [1.2, 1.2, 2], width, styles),
        _h1("五、学习学时", styles),
        _p("按名册顺序列出，只记次数和学时，不排名。", styles["small"]),
        _list_or_none(ledger.study, ["姓名", "学习记录（次）", "学时"], [2, 1.2, 1.2], width, styles),
        PageBreak(),
        _h1("六、党费收缴（按月）", styles),
        _p("每格为当月实交金额（元）；“欠”为应交未交；“免”为免交。", styles["small"]),
    ]
    if ledger.dues:
        header = ["姓名", *[f"{m}月" for m in range(1, 13)], "应交", "实交"]
        rows = [header, *ledger.dues, *ledger.dues_totals]
        dues = Table(rows, colWidths=[width * 0.11] + [width * 0.062] * 12 + [width * 0.073] * 2, repeatRows=1)
        dues.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), cjk_font()),
                    ("FONTSIZE", (0, 0), (-1, -1), 6.5),
                    ("LEADING", (0, 0), (-1, -1), 8),
                    ("LEFTPADDING", (0, 0), (-1, -1), 1.5),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 1.5),
                    ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                    ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                    ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
                    ("BACKGROUND", (0, -2), (-1, -1), HEAD_BG),
                ]
            )
        )
        story.append(dues)
    else:
        story.append(_p("（本年度无核定的应交党费记录）", styles["cell"]))
    story += [
        _h1("七、组织生活日历（落实情况）", styles),
        _list_or_none(
            ledger.calendar,
            ["组织", "事项", "期间", "截止日期", "完成日期", "状态"],
            [1.6, 1.8, 1.6, 1.2, 1.2, 1],
            width,
            styles,
        ),
        Spacer(1, 10 * mm),
        _p("书记（签字）：________________　　　　　年　　月　　日", styles["sign"]),
    ]
    doc = LedgerTemplate(
        path, ledger, title=f"{ledger.organization}{ledger.year}年组织生活台账", author="党建工作管理系统"
    )
    doc.multiBuild(story, canvasmaker=_PageCountCanvas)
    return doc.page
