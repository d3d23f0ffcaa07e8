"""Kernel tasks: thin, idempotent."""

from celery import shared_task
from django.utils import timezone

from core.models import Heartbeat

BEAT_HEARTBEAT = "beat"


@shared_task(name="core.purge_idempotency_records", acks_late=True, time_limit=600, soft_time_limit=540)
def purge_idempotency_records() -> int:
    """Delete idempotency records older than a day (#17.2); safe to run twice."""
    from core.idempotency import idempotency_purge

    return idempotency_purge()


@shared_task(name="core.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """The beat sends it, a worker runs it: a fresh mark proves both are alive (/readyz)."""
    Heartbeat.objects.update_or_create(name=BEAT_HEARTBEAT, defaults={"beat_at": timezone.now()})
