"""Printouts of an election: the candidate list (候选人预备人选名单), the ballot sheet (选票) and the
计票 summary. ReportLab, A4, the project's CJK font.

The font comes from the PDF helpers of ``assessments.reports.fonts`` (the one font the project
embeds). Assessments sit above activities, so it registers its ``cjk_font`` here in its
``AppConfig.ready()`` (an upper app registers, a lower app asks: docs/architecture.md); without
it ReportLab's built-in CID font STSong-Light is used.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from activities.elections.models import Election, Post
from activities.elections.selectors import post_states

_font_source: Callable[[], str] | None = None
CID_FALLBACK = "STSong-Light"
GRID = colors.HexColor("#999999")
HEAD_BG = colors.HexColor("#f3e3e3")


def register_pdf_font_source(source: Callable[[], str]) -> None:
    global _font_source
    _font_source = source


def _font() -> str:
    if _font_source is not None:
        return _font_source()
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    return CID_FALLBACK


def _styles(font: str) -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("t", fontName=font, fontSize=17, leading=24, alignment=TA_CENTER, spaceAfter=3 * mm),
        "sub": ParagraphStyle("s", fontName=font, fontSize=10, leading=15, alignment=TA_CENTER, textColor=colors.grey),
        "h2": ParagraphStyle("h", fontName=font, fontSize=12, leading=18, spaceBefore=4 * mm, spaceAfter=2 * mm),
        "cell": ParagraphStyle("c", fontName=font, fontSize=10.5, leading=15),
        "note": ParagraphStyle("n", fontName=font, fontSize=9.5, leading=14, textColor=colors.HexColor("#444444")),
    }


def _table(rows: list[list[Any]], widths: list[float], style: ParagraphStyle) -> Table:
    table = Table([[Paragraph(str(c), style) for c in row] for row in rows], colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, GRID),
                ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _build(title: str, subtitle: str, story: list[Any]) -> bytes:
    buffer = BytesIO()
    font = _font()
    styles = _styles(font)
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        author="党建工作管理系统",
    )
    doc.build([Paragraph(title, styles["title"]), Paragraph(subtitle, styles["sub"]), Spacer(1, 5 * mm), *story])
    return buffer.getvalue()


WIDTH = A4[0] - 36 * mm


def candidates_pdf(election: Election) -> bytes:
    """候选人预备人选名单, by post, in the order of the list (姓氏笔画 order is the branch's to set)."""
    styles = _styles(_font())
    story: list[Any] = []
    for post in election.posts:
        rows = [["序号", "姓名", "性别", "出生年月", "转正日期"]]
        for c in (c for c in election.candidates.all() if c.post == post):
            m = c.member
            rows.append(
                [
                    c.order,
                    c.name,
                    m.get_sex_display(),
                    f"{m.birth_date:%Y.%m}",
                    f"{m.full_on:%Y.%m.%d}" if m.full_on else "",
                ]
            )
        seats = election.seats_for(post)
        story += [
            Paragraph(f"{Post(post).label}候选人预备人选（应选 {seats} 名，候选人 {len(rows) - 1} 名）", styles["h2"]),
            _table(rows, [WIDTH * 0.1, WIDTH * 0.3, WIDTH * 0.15, WIDTH * 0.2, WIDTH * 0.25], styles["cell"]),
        ]
    approved = (
        f"上级党组织批复：{election.candidates_approved_on:%Y年%m月%d日} {election.candidates_approval_no}"
        if election.candidates_approved_on
        else "尚待上级党组织批复"
    )
    story.append(Spacer(1, 4 * mm))
    story.append(Paragraph(approved, styles["note"]))
    return _build(f"{election.organization.name}换届选举", "候选人预备人选名单", story)


def ballot_pdf(election: Election) -> bytes:
    """The 选票: one block per post with the candidates of the next round (or the list), a column
    to mark and lines to write in another name."""
    styles = _styles(_font())
    story: list[Any] = []
    for state in post_states(election):
        names = [
            c.name for c in (state.next_candidates or [c for c in election.candidates.all() if c.post == state.post])
        ]
        seats = state.next_seats or state.seats
        rows = [["候选人姓名", "赞成（○）", "不赞成（×）", "弃权（不画）"]] + [[n, "", "", ""] for n in names]
        if state.next_kind != "tie":
            rows += [["另选他人：", "", "", ""]]
        story += [
            Paragraph(f"{Post(state.post).label}选票（应选 {seats} 名）", styles["h2"]),
            _table(rows, [WIDTH * 0.34, WIDTH * 0.22, WIDTH * 0.22, WIDTH * 0.22], styles["cell"]),
        ]
    story += [
        Spacer(1, 4 * mm),
        *[
            Paragraph(line, styles["note"])
            for line in (
                "说明：1. 赞成的在姓名后“赞成”栏内画○，不赞成的画×，弃权的不画任何符号；不赞成的可在“另选他人”栏写上所选人姓名并画○。",
                "2. 所选人数等于或少于应选人数的为有效票，多于应选人数的为无效票。",
                "3. 用钢笔或签字笔填写，字迹清楚。",
            )
        ],
    ]
    return _build(f"{election.organization.name}换届选举", "选票", story)


def tally_pdf(election: Election) -> bytes:
    """计票 summary: the assembly's head counts, every round (void ones with the reason), the elected."""
    styles = _styles(_font())
    story: list[Any] = []
    meeting = election.meeting
    facts = [
        ["选举大会日期", f"{meeting.held_on:%Y年%m月%d日}" if meeting else "尚未召开"],
        ["应到有选举权党员", f"{election.voters_expected} 人"],
        ["实到有选举权党员", f"{election.voters_present} 人"],
        ["当选所需赞成票", f"超过 {election.voters_present} 人的半数，即至少 {election.voters_present // 2 + 1} 票"],
    ]
    story.append(_table([["项目", "情况"], *facts], [WIDTH * 0.35, WIDTH * 0.65], styles["cell"]))
    for r in election.rounds.all():
        story.append(
            Paragraph(
                f"第 {r.number} 轮：{r.get_post_display()}，{r.get_kind_display()}（应选 {r.seats} 名；发出选票 {r.ballots_issued} 张，收回 {r.ballots_returned} 张）",
                styles["h2"],
            )
        )
        if r.is_void:
            story.append(Paragraph(r.note, styles["note"]))
            continue
        rows = [["姓名", "赞成", "不赞成", "弃权", "结果"]]
        rows += [
            [
                c.name + ("（另选）" if c.is_write_in else ""),
                c.votes_for,
                c.votes_against,
                c.votes_abstain,
                c.get_result_display(),
            ]
            for c in r.counts.all()
        ]
        story.append(
            _table(rows, [WIDTH * 0.3, WIDTH * 0.13, WIDTH * 0.13, WIDTH * 0.13, WIDTH * 0.31], styles["cell"])
        )
    story.append(Paragraph("当选名单", styles["h2"]))
    for state in post_states(election):
        names = (
            "、".join(f"{c.name}（{c.votes_for} 票）" for c in sorted(state.elected, key=lambda c: -c.votes_for))
            or "无"
        )
        empty = f"；空缺 {state.seats - len(state.elected)} 名：{state.left_empty}" if state.left_empty else ""
        story.append(Paragraph(f"{Post(state.post).label}（应选 {state.seats} 名）：{names}{empty}", styles["cell"]))
    story.append(Spacer(1, 8 * mm))
    story.append(Paragraph("监票人（签名）：____________　　计票人（签名）：____________", styles["cell"]))
    return _build(f"{election.organization.name}换届选举", "计票结果报告单", story)
