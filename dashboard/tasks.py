"""Celery tasks of the dashboards: thin wrappers over ``dashboard.facts`` and ``dashboard.outbox``.

Time limits are set from measurements (docs/dashboard.md): the full rebuild took 289 s at
1,000,000 members; a drain of one change takes well under a second. All are idempotent and
acknowledged late; the Redis visibility timeout exceeds every limit (``CELERY_VISIBILITY_TIMEOUT``).
"""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

REBUILD_TIME_LIMIT = settings.PB_DASHBOARD_REBUILD_SECONDS  # 1,500 s unless a large province sets more


@shared_task(
    name="dashboard.rebuild", acks_late=True, time_limit=REBUILD_TIME_LIMIT, soft_time_limit=REBUILD_TIME_LIMIT - 60
)
def dashboard_rebuild(families: list[str] | None = None, reason: str = "nightly") -> int:
    """Rewrite the summary tables for the whole tree (nightly; idempotent, safe to run twice)."""
    from dashboard.facts import facts_rebuild

    return facts_rebuild(families=families, reason=reason)


@shared_task(name="dashboard.refresh", acks_late=True, time_limit=600, soft_time_limit=540)
def dashboard_refresh(org_ids: list[int], families: list[str]) -> int:
    """Recompute a few organizations' facts (ids only in the message, no personal data)."""
    from dashboard.facts import facts_refresh

    return facts_refresh(org_ids=org_ids, families=families)


@shared_task(name="dashboard.drain", acks_late=True, time_limit=600, soft_time_limit=540)
def dashboard_drain() -> int:
    """Recompute the facts of the organizations marked dirty (queued after each commit)."""
    from dashboard.outbox import outbox_drain

    return outbox_drain()


@shared_task(name="dashboard.sweep", acks_late=True, time_limit=600, soft_time_limit=540)
def dashboard_sweep() -> int:
    """Beat, every few minutes: drain the marks a lost or failed drain left, and run a requested
    rebuild whose task was lost. Returns the number of marks processed."""
    from dashboard.builds import rebuild_wanted
    from dashboard.outbox import outbox_drain

    done = outbox_drain()
    if rebuild_wanted(running_for=timedelta(seconds=REBUILD_TIME_LIMIT)):
        dashboard_rebuild.delay(reason="sweep")
    return done
