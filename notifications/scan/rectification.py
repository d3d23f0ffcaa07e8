"""Rectification items (assessments): N days before the deadline, then once overdue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from assessments.choices import RectificationStatus
from assessments.models import RectificationItem
from notifications.scan.context import Candidate, ScanContext, cn, url_to


def rectifications(ctx: ScanContext) -> Iterator[Candidate]:
    """Open items (not yet reported done): N days before the deadline, then once overdue. An item
    the organization has reported (submitted) waits for the reviewer's sign-off, not for a reminder."""
    org_ids = ctx.org_ids_with("rectification_due", "rectification_overdue")
    if not org_ids:
        return
    rows = (
        RectificationItem.objects.filter(organization_id__in=org_ids, status=RectificationStatus.OPEN)
        .order_by()
        .values_list("pk", "organization_id", "problem", "deadline")
    )
    for item_id, org_id, problem, deadline in rows:
        org = ctx.orgs[org_id]
        link = url_to("assessments:rectification-detail", item_id)
        short = problem if len(problem) <= 30 else f"{problem[:30]}…"
        due = ctx.setting(org, "rectification_due")
        if due.enabled and deadline - timedelta(days=due.offset or 0) <= ctx.on <= deadline:
            yield Candidate(
                "rectification_due",
                org,
                "rectification",
                item_id,
                deadline.isoformat(),
                f"{org.name}整改事项将于 {cn(deadline)} 到期",
                f"问题：{short}。请按时完成整改并报送整改情况。",
                link,
            )
        if ctx.on > deadline and ctx.enabled(org, "rectification_overdue"):
            yield Candidate(
                "rectification_overdue",
                org,
                "rectification",
                item_id,
                deadline.isoformat(),
                f"{org.name}整改事项已于 {cn(deadline)} 逾期",
                f"问题：{short}。整改时限已过，尚未报送整改情况。",
                link,
            )
