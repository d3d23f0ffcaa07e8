"""The secretary's 工作台: what is due or overdue in their branch, with one-tap links."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from activities.choices import ComplianceKind, ComplianceStatus
from activities.compliance import Item, compliance_items
from activities.selectors import open_follow_ups
from assessments.choices import RatingStatus, RectificationStatus
from assessments.selectors import rating_list, rectification_open_items
from dashboard.workbench.items import Entry, Progress, QuickAction, RoleBoard, Section, first
from members.development.selectors import development_pipeline
from members.dues.selectors import dues_arrears
from organizations.models import Organization

STEP_HORIZON_DAYS = 30
PENDING = (ComplianceStatus.OVERDUE, ComplianceStatus.DUE)
DONE = (ComplianceStatus.DONE, ComplianceStatus.LATE, ComplianceStatus.WAIVED)


def record_url(org: Organization, item: Item, on: dt.date) -> str:
    """Where an item is recorded: the meeting form pre-filled with its type and a date inside its
    period (today, or the period's last day when the period is over)."""
    if item.kind == ComplianceKind.TALK:
        return reverse("activities:talks", args=[org.pk])
    if item.kind == ComplianceKind.STUDY_HOURS:
        return reverse("activities:study", args=[org.pk])
    if item.kind == ComplianceKind.SECRETARY_LECTURE:
        return reverse("activities:compliance", args=[org.pk])
    held_on = min(on, item.period_end)
    query = urlencode({"type": item.kind, "date": held_on.isoformat()})
    return f"{reverse('activities:meeting_new', args=[org.pk])}?{query}"


def quarter_start(on: dt.date) -> dt.date:
    return dt.date(on.year, (on.month - 1) // 3 * 3 + 1, 1)


def _compliance(org: Organization, items: list[Item], on: dt.date, prefix: str) -> Section:
    """This period's items not yet done: those running now, and those overdue since the quarter
    began (older overdue items are one line pointing to the calendar)."""
    since = quarter_start(on)
    started = [i for i in items if i.status in PENDING and i.period_start <= on]
    pending = sorted(
        (i for i in started if i.status == ComplianceStatus.DUE or i.deadline >= since),
        key=lambda i: (i.status != ComplianceStatus.OVERDUE, i.deadline),
    )
    older = len(started) - len(pending)
    entries = [
        Entry(
            title=f"{prefix}{item.label}",
            detail=f"{item.period_start:%m-%d} 至 {item.period_end:%m-%d} · 已开 {item.held}/{item.required}",
            when=f"{'已逾期' if item.status == ComplianceStatus.OVERDUE else '截止'} {item.deadline:%Y-%m-%d}",
            url=record_url(org, item, on),
            action="去办理" if item.kind in (ComplianceKind.TALK, ComplianceKind.STUDY_HOURS) else "去记录",
            level="danger" if item.status == ComplianceStatus.OVERDUE else "warning",
        )
        for item in pending
    ]
    shown, total = first(entries)
    if older:
        shown.append(
            Entry(
                title=f"{prefix}往期逾期 {older} 项",
                detail="本季度以前到期而未完成的事项",
                url=reverse("activities:compliance", args=[org.pk]),
                action="查看",
                level="danger",
            )
        )
    return Section(
        key="compliance",
        title="本期组织生活",
        icon="calendar-check",
        empty="本期组织生活均已按期完成",
        entries=shown,
        total=total,
        more_url=reverse("activities:compliance", args=[org.pk]),
        more_label="合规日历",
    )


def _quarter_progress(items: list[Item], on: dt.date) -> Progress:
    quarter = (on.month - 1) // 3
    start = quarter_start(on)
    in_quarter = [i for i in items if i.period_start <= on and i.period_end >= start]
    done = sum(1 for i in in_quarter if i.status in DONE)
    return Progress(label=f"{on.year} 年第 {quarter + 1} 季度组织生活", done=done, total=len(in_quarter))


def _arrears(org: Organization, on: dt.date) -> Section:
    rows = [(m, s) for m, s in dues_arrears(organization=org, on=on) if s.warning]
    entries = [
        Entry(
            title=member.name,
            detail=status.label,
            when=f"欠交 {status.unpaid_count} 个月 · ¥{status.owed_total}",
            url=reverse("dues:member", args=[member.pk]),
            action="处理",
            level=status.level,
        )
        for member, status in rows
    ]
    shown, total = first(entries)
    return Section(
        key="arrears",
        title="党费欠交 3 个月以上",
        icon="cash-coin",
        empty="没有连续欠交 3 个月以上的党员",
        entries=shown,
        total=total,
        more_url=reverse("dues:arrears", args=[org.pk]),
        more_label="欠交名单",
    )


def _development(org: Organization, on: dt.date) -> Section:
    horizon = on + dt.timedelta(days=STEP_HORIZON_DAYS)
    entries = []
    for pipeline_entry in development_pipeline(organization=org, on=on):
        for action in pipeline_entry.actions:
            if not (action.level or (action.due and action.due <= horizon)):
                continue
            entries.append(
                Entry(
                    title=f"{pipeline_entry.member.name}：{action.label}",
                    detail=pipeline_entry.member.get_stage_display(),
                    when=f"应于 {action.due:%Y-%m-%d} 前" if action.due else "",
                    url=reverse("development:person", args=[pipeline_entry.member.pk]),
                    action="去办理",
                    level=action.level,
                )
            )
    entries.sort(key=lambda e: (e.level != "danger", e.level != "warning", e.when))
    shown, total = first(entries)
    return Section(
        key="development",
        title="发展党员待办",
        icon="person-plus",
        empty=f"未来 {STEP_HORIZON_DAYS} 天没有到期的发展步骤",
        entries=shown,
        total=total,
        more_url=reverse("development:pipeline", args=[org.pk]),
        more_label="发展名单",
    )


def _follow_ups(org: Organization, on: dt.date) -> Section:
    entries = [
        Entry(
            title=f.title,
            detail=f"责任人 {f.owner_name}" if f.owner_name else "",
            when=f"时限 {f.due_on:%Y-%m-%d}" if f.due_on else "",
            url=reverse("activities:follow_ups", args=[org.pk]),
            action="更新进展",
            level="danger" if f.due_on and f.due_on < on else "",
        )
        for f in open_follow_ups(organization=org)
    ]
    entries += [
        Entry(
            title=f"整改：{item.problem[:40]}",
            detail=f"责任人 {item.owner_name}",
            when=f"时限 {item.deadline:%Y-%m-%d}",
            url=reverse("assessments:rectification-detail", args=[item.pk]),
            action="去整改",
            level="danger" if item.is_overdue else "",
        )
        for item in rectification_open_items(org, on).filter(status=RectificationStatus.OPEN)
    ]
    entries.sort(key=lambda e: (e.level != "danger", e.when))
    shown, total = first(entries)
    return Section(
        key="follow_ups",
        title="待落实事项与整改",
        icon="list-check",
        empty="会议决定事项和整改问题均已落实",
        entries=shown,
        total=total,
        more_url=reverse("activities:follow_ups", args=[org.pk]),
        more_label="落实台账",
    )


def _ratings(user: Any, org: Organization) -> Section:
    entries = [
        Entry(
            title=f"{rating.year} 年度星级评定：待自评",
            detail=rating.round.organization.name if rating.round_id else "",
            url=reverse("assessments:rating-detail", args=[rating.pk]),
            action="去自评",
            level="warning",
        )
        for rating in rating_list(user=user, status=RatingStatus.DRAFT, organization=org)
        if rating.organization_id == org.pk
    ]
    return Section(
        key="ratings",
        title="星级评定自评",
        icon="star",
        empty="没有等待自评的星级评定",
        entries=entries,
    )


def secretary_board(*, user: Any, organizations: list[Organization], on: dt.date) -> RoleBoard:
    board = RoleBoard(role="secretary", title="支部工作")
    several = len(organizations) > 1
    for org in organizations:
        prefix = f"{org.short_name or org.name} · " if several else ""
        items = compliance_items(organization=org, year=on.year, on=on)
        board.progress.append(_quarter_progress(items, on))
        if several:
            board.progress[-1].label = f"{org.short_name or org.name} {board.progress[-1].label}"
        board.sections += [
            _compliance(org, items, on, prefix),
            _arrears(org, on),
            _development(org, on),
            _follow_ups(org, on),
            _ratings(user, org),
        ]
    if organizations:
        org = organizations[0]
        board.actions = [
            QuickAction("记录会议", reverse("activities:meeting_new", args=[org.pk]), "journal-plus"),
            QuickAction("登记党费", reverse("dues:record", args=[org.pk]), "cash-stack"),
            QuickAction("发通知", reverse("notifications:notice-create"), "megaphone"),
        ]
    return board
