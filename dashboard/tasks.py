"""Celery tasks of the dashboards: thin wrappers over ``dashboard.facts``."""

from celery import shared_task


@shared_task(name="dashboard.rebuild", acks_late=True, time_limit=3000, soft_time_limit=2700)
def dashboard_rebuild(families: list[str] | None = None, reason: str = "nightly") -> int:
    """Rewrite the summary tables for the whole tree (nightly; idempotent, safe to run twice)."""
    from dashboard.facts import facts_rebuild

    return facts_rebuild(families=families, reason=reason)


@shared_task(name="dashboard.refresh", acks_late=True, time_limit=600, soft_time_limit=540)
def dashboard_refresh(org_ids: list[int], families: list[str]) -> int:
    """Recompute a few organizations' facts (ids only in the message, no personal data)."""
    from dashboard.facts import facts_refresh

    return facts_refresh(org_ids=org_ids, families=families)
