"""Render a ``Ledger`` to XLSX (write-only): one sheet per part of the 台账, the same rows as the
PDF, each cell through ``core.xlsx.safe_cell`` so no entered text runs as a formula."""

from __future__ import annotations

from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from assessments.ledger.data import Ledger
from core.xlsx import new_workbook, safe_cell

HEAD_FILL = PatternFill("solid", fgColor="F4E6E6")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14, color="B71C1C")


def _sheet(wb: Any, title: str, columns: list[str], rows: list[list[Any]], heading: str) -> None:
    ws = wb.create_sheet(title)
    cell = WriteOnlyCell(ws, value=heading)
    cell.font = TITLE
    ws.append([cell])
    head = []
    for column in columns:
        c = WriteOnlyCell(ws, value=column)
        c.font, c.fill = BOLD, HEAD_FILL
        head.append(c)
    ws.append(head)
    for row in rows:
        ws.append([safe_cell(v) for v in row])


def render_ledger_xlsx(ledger: Ledger, path: str) -> None:
    wb = new_workbook(write_only=True)
    name = f"{ledger.organization}{ledger.year}年组织生活台账"
    _sheet(
        wb,
        "封面",
        ["项目", "内容"],
        [
            ["党组织", ledger.organization],
            ["组织类别", ledger.org_type],
            ["上级党组织", ledger.parent],
            ["年度", ledger.year],
            ["书记", ledger.secretary],
            ["联系人", ledger.contact],
            ["1月1日党员数", len(ledger.roster_start)],
            ["12月31日党员数", len(ledger.roster_end)],
            ["生成时间", ledger.generated],
        ],
        name,
    )
    _sheet(wb, "委员会", ["职务", "姓名", "任职日期", "离任日期"], ledger.committee, "委员会成员")
    _sheet(wb, "党小组", ["党小组", "党员数"], ledger.groups, "党小组")
    _sheet(wb, "年内变动", ["日期", "姓名", "变动"], ledger.changes, "党员名册年内变动")
    _sheet(
        wb,
        "会议记录",
        [
            "日期",
            "时间",
            "组织",
            "类型",
            "议题",
            "地点",
            "主持人",
            "记录人",
            "应到",
            "实到",
            "请假",
            "缺席",
            "列席",
            "会议记录",
            "决议及表决",
        ],
        [
            [
                f"{m.held_on:%Y-%m-%d}",
                m.time_text,
                m.organization,
                m.type_label,
                m.topic,
                m.place,
                m.chair,
                m.recorder,
                m.expected,
                m.present,
                "、".join(f"{n}（{r}）" if r else n for n, r in m.on_leave),
                "、".join(f"{n}（{r}）" if r else n for n, r in m.absent),
                "、".join(m.nonvoting),
                m.minutes,
                "；".join(f"{t}：{v}，{o}" for t, v, o in m.resolutions),
            ]
            for m in ledger.meetings
        ],
        "会议记录（已完成录入）",
    )
    _sheet(wb, "谈心谈话", ["日期", "谈话人", "谈话对象", "主题"], ledger.talks, "谈心谈话")
    _sheet(wb, "民主评议", ["评议日期", "姓名", "评定等次"], ledger.appraisals, "民主评议党员")
    _sheet(wb, "学习学时", ["姓名", "学习记录（次）", "学时"], ledger.study, "学习学时（按名册顺序，不排名）")
    _sheet(
        wb,
        "党费收缴",
        ["姓名", *[f"{m}月" for m in range(1, 13)], "应交", "实交"],
        [*ledger.dues, *ledger.dues_totals] if ledger.dues else [],
        "党费收缴（按月）",
    )
    _sheet(
        wb, "组织生活日历", ["组织", "事项", "期间", "截止日期", "完成日期", "状态"], ledger.calendar, "组织生活日历"
    )
    wb.save(path)
