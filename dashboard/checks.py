"""``manage.py check --deploy``: the broker must not hand a running nightly rebuild to a second worker."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.compatibility, deploy=True)
def rebuild_within_visibility_timeout(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    rebuild = settings.PB_DASHBOARD_REBUILD_SECONDS
    timeout = settings.PB_BROKER_VISIBILITY_TIMEOUT
    if not settings.CELERY_BROKER_URL.startswith("redis") or timeout >= rebuild + 60:
        return []
    return [
        Error(
            f"CELERY_VISIBILITY_TIMEOUT ({timeout} s) does not exceed PB_DASHBOARD_REBUILD_SECONDS ({rebuild} s) "
            "by 60 s: Redis would hand a nightly rebuild still running to a second worker.",
            hint="Leave CELERY_VISIBILITY_TIMEOUT unset (it follows the rebuild's limit) or raise it (docs/configuration.md).",
            id="dashboard.E001",
        )
    ]
