"""Audit tasks: thin, idempotent."""

from celery import shared_task


@shared_task(name="audit.purge_expired", acks_late=True, time_limit=1800, soft_time_limit=1700)
def purge_expired() -> int:
    """Delete audit rows older than the retention period (AUD-4); safe to run twice."""
    from audit.services import audit_purge

    return audit_purge()


@shared_task(name="audit.checkpoint", acks_late=True, time_limit=300, soft_time_limit=240)
def checkpoint() -> int | None:
    """Write the daily signed checkpoint of the chain head outside the database (#21.10)."""
    from audit.services import audit_checkpoint

    line = audit_checkpoint()
    return line["head_id"] if line else None
