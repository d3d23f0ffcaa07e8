"""Kernel tasks: thin, idempotent."""

from celery import shared_task


@shared_task(name="core.purge_idempotency_records", acks_late=True, time_limit=600, soft_time_limit=540)
def purge_idempotency_records() -> int:
    """Delete idempotency records older than a day (#17.2); safe to run twice."""
    from core.idempotency import idempotency_purge

    return idempotency_purge()
