"""Periodic liveness task: the beat schedules it, a worker runs it, /readyz reads its mark."""

from celery import shared_task
from django.utils import timezone

from core.models import Heartbeat

BEAT_HEARTBEAT = "beat"


@shared_task(name="core.heartbeat", ignore_result=True)
def heartbeat() -> None:
    # Written by a worker for a message the beat sent: a fresh mark proves both are alive.
    Heartbeat.objects.update_or_create(name=BEAT_HEARTBEAT, defaults={"beat_at": timezone.now()})
