"""Celery tasks for reminders and deliveries. Thin: they take ids, call services, and have
explicit names, time limits, ``acks_late`` with ``reject_on_worker_lost`` and finite retries
with backoff for transient errors only (a lost database connection, a broker hiccup).

Every task is idempotent (reminders are deduplicated; outbox rows are claimed), which is what
makes late acknowledgement and redelivery safe (security.md Q-1, Q-2).

A task is an interface: it takes ids, imports its service inside the body and calls it. The
services that enqueue (``services.outbox``, ``services.runs``, ``services.sweep``) import these
tasks at module level; importing the services here only inside the bodies keeps that one
direction free of an import circle."""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from celery.signals import beat_init
from django.conf import settings
from django.db import InterfaceError, OperationalError

from core.dates import today

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError)
RELIABLE = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="notifications.run_daily", time_limit=300, soft_time_limit=270, **RELIABLE)
def run_daily(on: str | None = None, trigger: str = "beat") -> int:
    """Fan the day's scan out in batches of organizations (``PB_REMINDER_BATCH_SIZE``)."""
    from notifications.services.runs import reminder_run_create

    run = reminder_run_create(on=date.fromisoformat(on) if on else today(), trigger=trigger)
    return run.pk


@shared_task(name="notifications.scan_batch", time_limit=600, soft_time_limit=540, **RELIABLE)
def scan_batch(batch_id: int) -> int:
    from notifications.services.runs import reminder_batch_process

    return reminder_batch_process(batch_id=batch_id).created


@shared_task(name="notifications.deliver", time_limit=60, soft_time_limit=45, **RELIABLE)
def deliver(message_id: int) -> str:
    """Send one outbox message. A transient failure is retried after the backoff the service
    computed (the outbox row stays PENDING, so the sweeper covers a lost retry message)."""
    from notifications.services.outbox import outbox_deliver

    result = outbox_deliver(message_id=message_id)
    if result.retry_in is not None:
        deliver.apply_async((message_id,), countdown=result.retry_in)
    return result.status


@shared_task(name="notifications.deliver_batch", time_limit=600, soft_time_limit=540, **RELIABLE)
def deliver_batch(message_ids: list[int]) -> int:
    from notifications.services.outbox import outbox_deliver

    sent = 0
    for message_id in message_ids:
        result = outbox_deliver(message_id=message_id)
        if result.retry_in is not None:
            deliver.apply_async((message_id,), countdown=result.retry_in)
        sent += result.status == "sent"
    return sent


@shared_task(name="notifications.sweep", time_limit=120, soft_time_limit=100, **RELIABLE)
def sweep() -> dict[str, int]:
    from notifications.services.sweep import notifications_sweep

    return notifications_sweep().__dict__


@beat_init.connect
def scan_when_beat_starts(sender: object = None, **kwargs: object) -> None:
    """Run the day's scan right after the (single) beat starts, so a reminder due today reaches
    the inbox within a minute of start-up. Idempotent like every scan."""
    if not getattr(settings, "PB_REMINDER_SCAN_ON_START", True):
        return
    try:
        run_daily.apply_async(kwargs={"trigger": "startup"}, countdown=3)
    except Exception:  # the broker may be down at start-up; the schedule retries later
        logger.exception("could not enqueue the start-up reminder scan")
