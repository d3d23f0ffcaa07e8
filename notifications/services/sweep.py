"""The sweeper: re-enqueue what the broker may have lost (stale outbox rows and scan batches).

The tasks are imported here at module level; they import services only inside their bodies."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from notifications.models import OutboxMessage, OutboxStatus, ReminderBatch, RunStatus
from notifications.tasks import deliver, scan_batch  # no circle: tasks import services only in their bodies

logger = logging.getLogger(__name__)


@dataclass
class SweepResult:
    outbox_requeued: int = 0
    outbox_reset: int = 0
    batches_requeued: int = 0


def notifications_sweep(
    *,
    pending_after: timedelta = timedelta(minutes=2),
    sending_after: timedelta = timedelta(minutes=10),
    batch_after: timedelta = timedelta(minutes=15),
    limit: int = 2000,
) -> SweepResult:
    """System: re-enqueue what the broker may have lost. Trusts its caller (the beat task,
    ``sweep_notifications``).

    - SENDING rows claimed longer ago than ``sending_after`` (beyond the task's hard time limit:
      their worker is dead) go back to PENDING;
    - PENDING rows due for longer than ``pending_after`` are enqueued again (a second message is
      harmless: the claim lets only one worker send);
    - scan batches PENDING or RUNNING for longer than ``batch_after`` are enqueued again (a
      second scan is harmless: reminders are deduplicated)."""
    now = timezone.now()
    result = SweepResult()
    result.outbox_reset = OutboxMessage.objects.filter(
        status=OutboxStatus.SENDING, claimed_at__lt=now - sending_after
    ).update(status=OutboxStatus.PENDING, next_attempt_at=now)
    due = list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lt=now - pending_after)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    stale_batches = list(
        ReminderBatch.objects.filter(
            Q(status=RunStatus.PENDING, created_at__lt=now - batch_after)
            | Q(status=RunStatus.RUNNING, claimed_at__lt=now - batch_after)
        ).values_list("pk", flat=True)[:limit]
    )
    for message_id in due:
        deliver.delay(message_id)
    for batch_id in stale_batches:
        scan_batch.delay(batch_id)
    result.outbox_requeued = len(due)
    result.batches_requeued = len(stale_batches)
    if due or stale_batches or result.outbox_reset:
        logger.info("notifications sweep: %s", result)
    return result
