"""Template helpers for organizational life: status badges and the panels other pages include."""

from __future__ import annotations

from typing import Any

from django import template

from activities.selectors import my_attendance, my_study, open_follow_ups
from core.access import CHANGE, VIEW, user_can
from core.dates import today

register = template.Library()

STATUS_CLASS = {
    "done": "badge-ok",
    "late": "badge-warning",
    "overdue": "badge-danger",
    "due": "badge-due",
    "upcoming": "badge-muted",
    "waived": "badge-muted",
    "met": "badge-ok",
    "not_met": "badge-danger",
    "passed": "badge-ok",
    "rejected": "badge-warning",
    "invalid": "badge-danger",
    "recorded": "badge-muted",
    "open": "badge-warning",
    "in_progress": "badge-due",
    "cancelled": "badge-muted",
    "draft": "badge-warning",
    "final": "badge-ok",
}


@register.filter
def status_class(status: str) -> str:
    return STATUS_CLASS.get(str(status), "badge-muted")


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.inclusion_tag("activities/_org_panel.html", takes_context=True)
def org_activity_panel(context: Any, org: Any) -> dict[str, Any]:
    """The organization page's 组织生活 section: links and open follow-up items (one query)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    visible = user is not None and user_can(user, VIEW, org, for_org_model=False)
    return {
        "org": org,
        "visible": visible,
        "can_change": visible and user_can(user, CHANGE, org),
        "follow_ups": open_follow_ups(organization=org)[:10] if visible else [],
        "is_committee_org": org.org_type in ("committee", "general_branch"),
        "is_branch": org.org_type in ("branch", "joint_branch", "temporary_branch"),
    }


@register.simple_tag(takes_context=True)
def member_meetings(context: Any, member: Any, limit: int = 20) -> list[Any]:
    """A member's own attendance rows, read through the gate as the current user."""
    request = context.get("request")
    if request is None or member is None:
        return []
    return my_attendance(user=request.user, member=member, limit=limit)


@register.simple_tag(takes_context=True)
def member_study(context: Any, member: Any) -> dict[str, Any]:
    request = context.get("request")
    if request is None or member is None:
        return {}
    return my_study(user=request.user, member=member, year=today().year, limit=10)
