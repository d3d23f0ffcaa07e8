"""Reminder runs and batches: the day's scan split into batches of organizations (plus one
tree-wide batch per root), each claimed by a conditional UPDATE, scanned and written; a run
finishes when its last batch does.

The scan task is imported here at module level (this module enqueues it); the tasks import
services only inside their bodies, so the import goes one way and never circles."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from notifications.models import ReminderBatch, ReminderRun, RunStatus
from notifications.scan.context import ORGS, TREE, ScanContext
from notifications.scan.registry import evaluate
from notifications.services.reminders import reminder_candidates_write
from notifications.tasks import scan_batch  # no circle: tasks import services only in their bodies
from organizations.models import Organization

logger = logging.getLogger(__name__)

BATCH_SIZE_DEFAULT = 500
BATCH_MAX_ATTEMPTS = 5


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def reminder_run_create(
    *, on: date, trigger: str, batch_size: int | None = None, enqueue: bool = True, queue: str | None = None
) -> ReminderRun:
    """System: split the tree into batches of organizations (in path order) and, after commit,
    enqueue one scan task per batch. Trusts its caller (the daily task, ``run_reminders``)."""
    batch_size = batch_size or _setting("PB_REMINDER_BATCH_SIZE", BATCH_SIZE_DEFAULT)
    if batch_size < 1:
        raise ValidationError({"batch_size": "每批组织数至少为 1"})
    org_ids = list(Organization.objects.order_by("path").values_list("pk", flat=True))
    chunks = [(ORGS, org_ids[i : i + batch_size]) for i in range(0, len(org_ids), batch_size)]
    # Tree-wide rules (the compliance calendar): one batch per root, over its whole subtree.
    chunks += [
        (TREE, [pk]) for pk in Organization.objects.filter(depth=1).order_by("path").values_list("pk", flat=True)
    ]
    with transaction.atomic():
        run = ReminderRun.objects.create(
            on_date=on,
            trigger=trigger[:20],
            batch_size=batch_size,
            batch_count=len(chunks),
            status=RunStatus.RUNNING if chunks else RunStatus.DONE,
            finished_at=None if chunks else timezone.now(),
        )
        batches = ReminderBatch.objects.bulk_create(
            [
                ReminderBatch(run=run, number=n, scope=scope, org_ids=chunk)
                for n, (scope, chunk) in enumerate(chunks, start=1)
            ]
        )
        if enqueue:
            ids = (
                [b.pk for b in batches]
                if all(b.pk for b in batches)
                else list(run.batches.order_by("number").values_list("pk", flat=True))
            )

            def enqueue_batches() -> None:
                _enqueue_batches(ids, queue)

            transaction.on_commit(enqueue_batches, robust=True)
    return run


def _enqueue_batches(batch_ids: list[int], queue: str | None) -> None:
    for batch_id in batch_ids:
        if queue:
            scan_batch.apply_async((batch_id,), queue=queue)
        else:
            scan_batch.delay(batch_id)


@dataclass
class BatchResult:
    status: str
    created: int = 0


def reminder_batch_process(*, batch_id: int) -> BatchResult:
    """System: claim a batch (conditional UPDATE), scan its organizations, write the reminders.
    Trusts its caller (the scan task, ``reminder_run_inline``).

    A batch already DONE is skipped. A batch found RUNNING (its worker died, or the message was
    redelivered) is run again: writes are idempotent, so a second run adds nothing twice."""
    now = timezone.now()
    claimed = ReminderBatch.objects.filter(pk=batch_id, status__in=[RunStatus.PENDING, RunStatus.RUNNING]).update(
        status=RunStatus.RUNNING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return BatchResult("skipped")
    batch = ReminderBatch.objects.select_related("run").get(pk=batch_id)
    if batch.attempts > BATCH_MAX_ATTEMPTS:
        ReminderBatch.objects.filter(pk=batch_id).update(status=RunStatus.FAILED, error="重试次数已用尽")
        logger.error("reminder batch %s failed after %s attempts", batch_id, batch.attempts - 1)
        _finish_run(batch.run_id)
        return BatchResult("failed")
    _fault_point("before_scan")
    if batch.scope == TREE:
        created = reminder_scan_tree(root_id=batch.org_ids[0], on=batch.run.on_date)
    else:
        created = reminder_scan_orgs(org_ids=batch.org_ids, on=batch.run.on_date)
    ReminderBatch.objects.filter(pk=batch_id, status=RunStatus.RUNNING).update(
        status=RunStatus.DONE, finished_at=timezone.now(), created_count=F("created_count") + created, error=""
    )
    _finish_run(batch.run_id)
    return BatchResult("done", created)


def reminder_scan_orgs(*, org_ids: list[int], on: date) -> int:
    """System: scan a batch of organizations and write what is due. Trusts its caller."""
    ctx = ScanContext.for_org_ids(org_ids, on)
    return reminder_candidates_write(candidates=evaluate(ctx, ORGS), on=on)


def reminder_scan_tree(*, root_id: int, on: date) -> int:
    """System: scan the tree-wide rules over one root's subtree and write what is due. Trusts its
    caller."""
    root = Organization.objects.filter(pk=root_id).first()
    if root is None:  # deleted since the run was planned
        return 0
    ctx = ScanContext.for_subtree(root, on)
    return reminder_candidates_write(candidates=evaluate(ctx, TREE), on=on)


def _finish_run(run_id: int) -> None:
    if not ReminderBatch.objects.filter(run_id=run_id).exclude(status__in=[RunStatus.DONE, RunStatus.FAILED]).exists():
        failed = ReminderBatch.objects.filter(run_id=run_id, status=RunStatus.FAILED).exists()
        ReminderRun.objects.filter(pk=run_id, finished_at__isnull=True).update(
            status=RunStatus.FAILED if failed else RunStatus.DONE, finished_at=timezone.now()
        )


def reminder_run_inline(*, on: date, trigger: str = "command", batch_size: int | None = None) -> ReminderRun:
    """System: the whole scan in this process. Trusts its caller (operators' ``run_reminders``,
    tests, the benchmark)."""
    run = reminder_run_create(on=on, trigger=trigger, batch_size=batch_size, enqueue=False)
    for batch_id in run.batches.order_by("number").values_list("pk", flat=True):
        reminder_batch_process(batch_id=batch_id)
    run.refresh_from_db()
    return run


def _fault_point(name: str) -> None:
    """A pause the fault tests use to kill a worker mid-batch (``PB_NOTIFY_FAULT_PAUSE`` seconds;
    0 in every real deployment)."""
    pause = _setting("PB_NOTIFY_FAULT_PAUSE", 0.0)
    if pause:
        time.sleep(pause)
