"""Readiness checks beyond django-health-check's own (Database, Cache, Celery ping).

Each check is a django-health-check ``HealthCheck`` dataclass: ``run`` raises ServiceUnavailable
(or ServiceWarning) with a message that never carries credentials.
"""

from __future__ import annotations

import dataclasses
import datetime

from celery import current_app
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.contrib.celery import Ping
from health_check.exceptions import ServiceUnavailable, ServiceWarning

from core.models import Heartbeat
from core.replica import REPLICA_ALIAS, replica_status
from core.tasks import BEAT_HEARTBEAT


@dataclasses.dataclass
class Migrations(HealthCheck):
    """Every migration in the code is applied to the primary."""

    timeout = datetime.timedelta(seconds=5)

    def run(self) -> None:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            raise ServiceUnavailable(f"{len(pending)} migrations not applied")


@dataclasses.dataclass
class Replica(HealthCheck):
    """The read replica answers and lags less than PB_REPLICA_MAX_LAG_SECONDS.

    A replica that is down or behind is a warning, not a failure: heavy reads fall back to the
    primary (core.replica), so the deployment keeps serving.
    """

    timeout = datetime.timedelta(seconds=5)

    def run(self) -> None:
        status = replica_status(refresh=True)
        if not status.configured:
            return
        if not status.reachable:
            raise ServiceWarning("replica unreachable; reads served by the primary")
        if not status.usable:
            raise ServiceWarning(f"replica lag {status.lag_seconds:.1f}s; reads served by the primary")


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection."""

    timeout = datetime.timedelta(seconds=5)

    def run(self) -> None:
        try:
            with current_app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=3)
        except Exception as exc:  # kombu raises transport-specific errors
            raise ServiceUnavailable(f"broker unreachable ({type(exc).__name__})") from exc


@dataclasses.dataclass
class BeatHeartbeat(HealthCheck):
    """The beat's heartbeat (run by a worker) is younger than three of its periods."""

    timeout = datetime.timedelta(seconds=5)

    def run(self) -> None:
        period = settings.PB_HEARTBEAT_SECONDS
        mark = Heartbeat.objects.filter(name=BEAT_HEARTBEAT).values_list("beat_at", flat=True).first()
        if mark is None:
            raise ServiceUnavailable("no heartbeat yet: is exactly one beat and a worker running?")
        age = (timezone.now() - mark).total_seconds()
        if age > 3 * period:
            raise ServiceUnavailable(f"last heartbeat {age:.0f}s ago (period {period}s)")


def readiness_checks() -> list:
    """The /readyz list; the Celery ping is skipped where tasks run eagerly (tests)."""
    checks: list = [Database(alias=DEFAULT_DB_ALIAS), Migrations(), Cache(), Broker(), BeatHeartbeat()]
    if REPLICA_ALIAS in connections.settings:
        checks.insert(1, Replica())
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        checks.append(Ping(timeout=datetime.timedelta(seconds=settings.PB_HEALTH_PING_SECONDS), limit=1))
    return checks
