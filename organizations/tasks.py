"""Celery tasks of the foundation. Tasks are thin: they call a service or a management command."""

from celery import shared_task
from django.core.management import call_command


@shared_task(name="organizations.clear_expired_sessions", acks_late=True, time_limit=600, soft_time_limit=540)
def clear_expired_sessions() -> None:
    """Delete expired sessions (idempotent; safe to run twice)."""
    call_command("clearsessions")
