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
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.compiled import compiled_rows
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
    next commit send one drain more than needed.)

    With a worker (not eager), commits also share drains (#20.3): the drain is sent
    ``PB_DASHBOARD_DRAIN_DELAY_SECONDS`` later, and a commit that finds one already queued and
    not yet started (the ``DRAIN_QUEUED_KEY`` flag, cleared by the drain before it reads the
    marks) sends none — that drain will read its marks. In a rush the worker refreshes each
    organization and its ancestors once per batch instead of once per meeting, and the web
    workers keep the CPU. A lost flag or message costs at most the sweeper's delay."""
    if not getattr(_local, "marks", 0):
        return
    _local.marks = 0
    delay = settings.PB_DASHBOARD_DRAIN_DELAY_SECONDS
    eager = bool(current_app.conf.task_always_eager)
    if not eager and delay and not _claim_drain_flag(delay):
        return  # a queued drain has not started yet: it will take these marks
    try:
        if eager or not delay:
            dashboard_drain.delay()
        else:
            dashboard_drain.apply_async(countdown=delay)
    except Exception:  # broker unreachable: the marks are committed, the sweeper drains them
        _clear_drain_flag()
        logger.exception("dashboard drain not queued; the sweeper will process the marks")


DRAIN_QUEUED_KEY = "pb:dashboard:drain-queued"


def _claim_drain_flag(delay: int) -> bool:
    """True when no drain is queued (the caller sends one); the flag outlives the countdown a
    little, so a drain held up by a busy worker is not joined by a second one at once."""
    try:
        return bool(cache.add(DRAIN_QUEUED_KEY, 1, delay + 30))
    except Exception:  # cache down: send the drain (one per commit, as without the flag)
        return True


def _clear_drain_flag() -> None:
    try:
        cache.delete(DRAIN_QUEUED_KEY)
    except Exception:  # the flag expires by itself
        logger.warning("dashboard drain flag not cleared; it expires on its own")


def outbox_drain(*, limit: int = DRAIN_BATCH) -> int:
    """Recompute the facts of the marked organizations; returns the number of marks processed.

    Marks whose refresh fails stay (logged) for the next drain or the sweeper."""
    _clear_drain_flag()  # before reading the marks: a commit from now on queues its own drain
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
    """Marks older than ``PB_DASHBOARD_STALE_MINUTES`` wait for ``org``'s subtree (one query, read
    by every dashboard: its SQL is compiled once per process, ``core.compiled``)."""
    cutoff = timezone.now() - timedelta(minutes=settings.PB_DASHBOARD_STALE_MINUTES)
    return bool(compiled_rows("dashboard.outbox_stale", _stale_marks, path=org.path, cutoff=cutoff))


def _stale_marks(path: str, cutoff: datetime) -> QuerySet[DashboardDirty]:
    subtree = Organization.objects.filter(path__startswith=path).values("pk")
    return DashboardDirty.objects.filter(created_at__lt=cutoff, organization_id__in=subtree).order_by()[:1]
