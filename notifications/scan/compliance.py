"""The compliance calendar (activities: ``compliance_items_for``): upcoming, due today, overdue
and escalated 三会一课 items, once per root over its whole subtree."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from activities.choices import ComplianceStatus
from activities.compliance import RuleBook, compliance_items_for, grace_days
from notifications.scan.context import Candidate, OrgInfo, ScanContext, cn, url_to
from organizations.models import Organization

COMPLIANCE_RULES = ("compliance_upcoming", "compliance_due_today", "compliance_overdue", "compliance_escalation")


def compliance(ctx: ScanContext) -> Iterator[Candidate]:
    """Items and their statuses come from the activities app's compliance calendar
    (``compliance_items_for``); this only decides when to remind about them. Runs once per root
    over its whole subtree: the calendar loads a subtree's facts in a fixed number of queries."""
    org_ids = ctx.org_ids_with(*COMPLIANCE_RULES)
    if not org_ids or ctx.root is None:
        return
    on = ctx.on
    lead = max((ctx.setting(ctx.orgs[pk], "compliance_upcoming").offset or 0) for pk in org_ids)
    grace = max((ctx.setting(ctx.orgs[pk], "compliance_escalation").grace_days or 0) for pk in org_ids)
    window = (on - timedelta(days=grace + 1), on + timedelta(days=lead))
    if not _deadline_in(window, grace_days()):
        return  # every period ends on a month end: none of their deadlines falls in the window
    orgs = list(Organization.objects.filter(pk__in=org_ids).order_by("path"))
    book = RuleBook.load()
    open_states = (ComplianceStatus.UPCOMING, ComplianceStatus.DUE)
    for year in sorted({window[0].year, window[1].year}):
        items = compliance_items_for(root=ctx.root, orgs=orgs, year=year, window=window, on=on, book=book)
        for org_id, org_items in items.items():
            org = ctx.orgs[org_id]
            for item in org_items:
                if window[0] <= item.deadline <= window[1]:
                    yield from _compliance_candidates(ctx, org, item, open_states, ComplianceStatus.OVERDUE)


def _deadline_in(window: tuple[date, date], grace: int) -> bool:
    """Does a month end (plus the calendar's grace days) fall inside ``window``?"""
    day = window[0] - timedelta(days=grace)
    last = window[1] - timedelta(days=grace)
    while day <= last:
        if (day + timedelta(days=1)).day == 1:
            return True
        day += timedelta(days=1)
    return False


def _period_label(start: date, end: date) -> str:
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months == 1:
        return f"{start.year}年{start.month}月"
    if months == 3:
        return f"{start.year}年第{(start.month - 1) // 3 + 1}季度"
    return f"{start.year}年度"


def _compliance_candidates(ctx: ScanContext, org: OrgInfo, item, open_states, overdue) -> Iterator[Candidate]:  # noqa: ANN001
    on, deadline = ctx.on, item.deadline
    period = f"{item.kind}:{item.period_start.isoformat()}"
    what = f"{item.label}（{_period_label(item.period_start, item.period_end)}）"
    link = url_to("activities:compliance", org.pk)  # cached: cheap
    progress = f"要求 {item.required} 次，已开 {item.held} 次。"
    upcoming = ctx.setting(org, "compliance_upcoming")
    if (
        item.status in open_states
        and upcoming.enabled
        and deadline - timedelta(days=upcoming.offset or 0) <= on < deadline
    ):
        yield Candidate(
            "compliance_upcoming",
            org,
            "compliance",
            org.pk,
            period,
            f"{org.name}：{what}将于 {deadline.month}月{deadline.day}日 截止",
            f"{progress}请按时组织并及时录入会议记录。",
            link,
        )
    if item.status in open_states and on == deadline and ctx.enabled(org, "compliance_due_today"):
        yield Candidate(
            "compliance_due_today",
            org,
            "compliance",
            org.pk,
            period,
            f"{org.name}：{what}今天截止",
            f"{progress}今天是截止日期。",
            link,
        )
    if item.status == overdue:
        if ctx.enabled(org, "compliance_overdue"):
            yield Candidate(
                "compliance_overdue",
                org,
                "compliance",
                org.pk,
                period,
                f"{org.name}：{what}已逾期",
                f"截止日期 {cn(deadline)}，{progress}请尽快补开并录入。",
                link,
            )
        escalation = ctx.setting(org, "compliance_escalation")
        if escalation.enabled and on >= deadline + timedelta(days=escalation.grace_days or 0):
            yield Candidate(
                "compliance_escalation",
                org,
                "compliance",
                org.pk,
                period,
                f"下级组织逾期未完成：{org.name} {what}",
                f"截止日期 {cn(deadline)}，逾期已超过 {escalation.grace_days} 天，{progress}请督促落实。",
                link,
            )
