"""The outbox of the summary tables: dirty marks written with the change, drained after the commit.

``outbox_mark`` inserts ``DashboardDirty`` rows in the transaction of the change (rolled back with
it) and, once that transaction commits, queues ``dashboard.drain``. ``outbox_drain`` takes the
marks family by family, each in its own transaction: it locks the marks (``FOR UPDATE SKIP
LOCKED``, so two workers never take the same marks), recomputes those organizations' facts with
``facts_refresh`` and deletes the marks in the same transaction. A refresh that fails (database
restarted, worker killed) leaves its marks; the sweeper ``dashboard.sweep`` (beat, every
``PB_DASHBOARD_SWEEP_SECONDS``) drains whatever is left, so every committed change gets its
refresh within minutes. A dashboard whose subtree has marks older than
``PB_DASHBOARD_STALE_MINUTES`` says "数据更新中".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dashboard.facts import FAMILIES, facts_refresh
from dashboard.models import DashboardDirty
from dashboard.tasks import dashboard_drain
from organizations.models import Organization

logger = logging.getLogger(__name__)
_local = threading.local()
DRAIN_BATCH = 5000


def outbox_mark(*, org_ids: Iterable[int], families: Iterable[str]) -> None:
    """Write the marks in the current transaction; queue a drain once it commits."""
    ids = sorted({int(pk) for pk in org_ids if pk is not None})
    names = sorted({name for name in families if name in FAMILIES})
    if not ids or not names:
        return
    now = timezone.now()
    DashboardDirty.objects.bulk_create(
        [DashboardDirty(organization_id=pk, family=name, created_at=now) for name in names for pk in ids]
    )
    _local.marks = getattr(_local, "marks", 0) + 1
    transaction.on_commit(_queue_drain)


def _queue_drain() -> None:
    """One drain per commit however many marks it wrote: the first callback of the commit sends
    it, the others find the count at zero. (Marks of a rolled-back transaction only make the
    next commit send one drain more than needed.)"""
    if not getattr(_local, "marks", 0):
        return
    _local.marks = 0
    try:
        dashboard_drain.delay()
    except Exception:  # broker unreachable: the marks are committed, the sweeper drains them
        logger.exception("dashboard drain not queued; the sweeper will process the marks")


def outbox_drain(*, limit: int = DRAIN_BATCH) -> int:
    """Recompute the facts of the marked organizations; returns the number of marks processed.

    Marks whose refresh fails stay (logged) for the next drain or the sweeper."""
    pending = DashboardDirty.objects.order_by("family").values_list("family", flat=True).distinct()
    done = 0
    for family in list(pending):
        try:
            done += _drain_family(family, limit)
        except Exception:
            logger.exception("dashboard refresh of family %s failed; marks kept for the sweeper", family)
    return done


def _drain_family(family: str, limit: int) -> int:
    with transaction.atomic():
        marks = list(
            DashboardDirty.objects.filter(family=family)
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", "organization_id")[:limit]
        )
        if not marks:
            return 0
        if family in FAMILIES:
            facts_refresh(org_ids={org_id for _pk, org_id in marks}, families=[family])
        DashboardDirty.objects.filter(pk__in=[pk for pk, _org in marks]).delete()
    return len(marks)


def outbox_stale(org: Organization) -> bool:
    """Marks older than ``PB_DASHBOARD_STALE_MINUTES`` wait for ``org``'s subtree (one query)."""
    cutoff = timezone.now() - timedelta(minutes=settings.PB_DASHBOARD_STALE_MINUTES)
    subtree = Organization.objects.filter(path__startswith=org.path).values("pk")
    return DashboardDirty.objects.filter(created_at__lt=cutoff, organization_id__in=subtree).exists()
