"""The party member's 工作台: dues, study hours against the pace, meetings, notices, 公示."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.urls import reverse

from activities.calendar import calendar_entries
from activities.selectors import my_study
from assessments.selectors import publicity_ratings
from dashboard.workbench.items import Entry, Progress, RoleBoard, Section
from members.dues.selectors import member_dues_summary
from members.models import Member

MEETING_DAYS = 30


def study_pace(target: Decimal, on: dt.date) -> Decimal:
    """Hours one should have by ``on`` to reach the yearly target evenly."""
    start = dt.date(on.year, 1, 1)
    days = (dt.date(on.year + 1, 1, 1) - start).days
    return (target * ((on - start).days + 1) / days).quantize(Decimal("0.1"))


def _dues(member: Member, on: dt.date) -> Section:
    summary = member_dues_summary(member, on=on)
    owed = summary["owed_months"]
    entries = []
    if owed:
        months = "、".join(f"{r.month:%Y-%m}" for r in owed[:6]) + ("等" if len(owed) > 6 else "")
        entries.append(
            Entry(
                title=f"待交党费 {len(owed)} 个月，共 ¥{summary['owed_total']}",
                detail=months,
                url=reverse("dues:mine"),
                action="查看",
                level=summary["arrears"].level or "warning",
            )
        )
    return Section(key="dues", title="党费", icon="cash-coin", empty="党费已按月交清", entries=entries)


def _study(user: Any, member: Member, on: dt.date) -> tuple[Section, Progress]:
    data = my_study(user=user, member=member, year=on.year, limit=0)
    pace = study_pace(data["target"], on)
    entries = []
    if data["total"] < pace:
        entries.append(
            Entry(
                title=f"学时 {data['total']} / {data['target']}",
                detail=f"按进度今天应达 {pace} 学时",
                url=reverse("activities:my_study"),
                action="去学习",
                level="warning",
            )
        )
    section = Section(
        key="study", title="学习学时", icon="book", empty=f"学时已跟上进度（{data['total']} 学时）", entries=entries
    )
    progress = Progress(label=f"{on.year} 年学时", done=int(data["total"]), total=int(data["target"]))
    return section, progress


def _meetings(user: Any, on: dt.date) -> Section:
    rows = calendar_entries(user=user, start=on, end=on + dt.timedelta(days=MEETING_DAYS))
    entries = [
        Entry(
            title=e.title,
            detail=" · ".join(x for x in (e.organization, e.place) if x),
            when=f"{e.day:%m-%d}" + (f" {e.start_time:%H:%M}" if e.start_time else ""),
            url=e.url or reverse("activities:calendar"),
        )
        for e in rows
        if e.kind in ("meeting", "planned")
    ][:6]
    return Section(
        key="meetings",
        title=f"近 {MEETING_DAYS} 天的会议",
        icon="calendar-event",
        empty=f"近 {MEETING_DAYS} 天没有安排会议",
        entries=entries,
        more_url=reverse("activities:calendar"),
        more_label="日历",
    )


def _publicity(user: Any, on: dt.date) -> Section:
    entries = [
        Entry(
            title=f"{r.organization.name} {r.year} 年度星级评定公示",
            when=f"至 {r.publicity_end:%Y-%m-%d}" if r.publicity_end else "",
            url=reverse("assessments:publicity"),
            action="查看并提意见",
        )
        for r in publicity_ratings(user=user, on=on)[:6]
    ]
    return Section(key="publicity", title="公示中", icon="megaphone", empty="目前没有公示", entries=entries)


def member_board(*, user: Any, member: Member, on: dt.date) -> RoleBoard:
    board = RoleBoard(role="member", title="我的")
    study, progress = _study(user, member, on)
    board.progress.append(progress)
    board.sections = [_dues(member, on), study, _meetings(user, on), _publicity(user, on)]
    return board
