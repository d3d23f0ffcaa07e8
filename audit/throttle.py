"""Per-user rate limits for reading personal data in bulk or in clear (#21.4, #21.17).

The count comes from the audit log itself: every reveal, exact-number search and export already
writes one audited row, so the number of this user's rows of those events in the last hour is the
rate — the same in every worker process and after a restart, and nothing else to keep. A refusal
is itself audited (``rate_limited``). Call it before the action, outside its transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_log

# action → (the setting with the per-hour limit, the audit events that count)
LIMITS: dict[str, tuple[str, tuple[str, ...]]] = {
    "reveal": ("PB_REVEAL_PER_HOUR", ("view_full_id", "view_full_phone")),
    "exact_search": ("PB_EXACT_SEARCH_PER_HOUR", ("member_exact_search",)),
    "export": ("PB_EXPORT_PER_HOUR", ("export", "member_export", "dues_export", "dashboard_export")),
}
LABELS = {"reveal": "查看完整号码", "exact_search": "按完整号码查找", "export": "导出"}


class RateLimited(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def recent_count(*, user: Any, events: Iterable[str], window: timedelta = timedelta(hours=1)) -> int:
    since = timezone.now() - window
    return AuditEvent.objects.filter(user_id=user.pk, event__in=list(events), created_at__gte=since).count()


def check_rate(*, user: Any, action: str) -> None:
    """Raise ``RateLimited`` (and audit it) when ``user`` reached the hourly limit of ``action``."""
    setting, events = LIMITS[action]
    limit = int(getattr(settings, setting))
    if user is None or not getattr(user, "is_authenticated", False):
        return
    if recent_count(user=user, events=events) < limit:
        return
    audit_log(event="rate_limited", user=user, outcome="failure", detail={"action": action, "limit": limit})
    raise RateLimited(f"{LABELS[action]}过于频繁（每小时最多 {limit} 次），请稍后再试")


def refused_page(request: Any, action: str) -> Any:
    """For page views: a 429 response when the limit is reached, else None."""
    from django.http import HttpResponse

    try:
        check_rate(user=request.user, action=action)
    except RateLimited as exc:
        return HttpResponse(exc.message, status=429, content_type="text/plain; charset=utf-8")
    return None
