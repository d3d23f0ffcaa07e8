"""The organization pages' subtree member totals, read from the summary tables (#13.2, #20).

Counting every member of a subtree by path prefix grows with the subtree (the root page took
300 ms at 100,000 members); the cumulative ``stage`` facts hold the same figures — members in normal
standing by stage over the organization and all its descendants, the dashboard's 党员 — one row per
organization. They are used while the facts are complete and no change for the subtree has waited
longer than ``PB_DASHBOARD_STALE_MINUTES`` (the rule under which the dashboard shows its figures
without the "数据更新中" notice), so a page and the dashboard always show the same number; otherwise
the organizations app counts the members itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import BigIntegerField, Func, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from dashboard.builds import facts_ready
from dashboard.models import DashboardDirty, DashboardFact
from dashboard.outbox import outbox_stale
from dashboard.sources import NOW
from members.choices import Stage
from organizations.models import Organization


def _stale_anywhere() -> bool:
    cutoff = timezone.now() - timedelta(minutes=settings.PB_DASHBOARD_STALE_MINUTES)
    return DashboardDirty.objects.filter(created_at__lt=cutoff).exists()


def subtree_totals_from_facts(within: Organization | None) -> dict[str, Any] | None:
    """Annotations ``subtree_party_member_count`` / ``subtree_full_member_count`` over
    ``OuterRef("pk")`` from the cumulative facts, or None when the recount must be used (two
    small queries to decide)."""
    if not facts_ready():
        return None
    if outbox_stale(within) if within is not None else _stale_anywhere():
        return None
    stages = DashboardFact.objects.filter(
        organization=OuterRef("pk"), cumulative=True, period=NOW, metric="stage"
    ).order_by()

    def total(*dimensions: str) -> Coalesce:
        rows = stages.filter(dimension__in=dimensions).values(s=Func("value", function="SUM"))
        return Coalesce(Subquery(rows, output_field=BigIntegerField()), Value(0))

    return {
        "subtree_full_member_count": total(Stage.FULL),
        "subtree_party_member_count": total(Stage.PROBATIONARY, Stage.FULL),
    }
