"""Whether the summary tables are complete: full builds, requests for one, and their progress.

The facts are *complete* when a full build of the current ``FACTS_VERSION`` has finished and no
request for a rebuild was made since it started. A request is a ``DashboardBuild`` row without
``started_at``: a migration that changes what facts mean (bump ``FACTS_VERSION`` or add a data
migration calling ``request_rebuild``), a tree move, a database that holds organizations but was
never built. Until then a dashboard shows "统计数据生成中" with the running build's progress
instead of numbers. The nightly rebuild is not a request: the figures it replaces are complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from core.compiled import compiled_rows
from dashboard.models import DashboardBuild
from dashboard.tasks import dashboard_rebuild
from organizations.models import Organization

# Bump when a change of code alters what the stored facts mean: the next migrate requests a rebuild.
FACTS_VERSION = 1
NIGHTLY = "nightly"


@dataclass(frozen=True)
class FactsState:
    ready: bool
    building: bool = False
    progress: int | None = None  # percent of the running build, when known
    started_at: datetime | None = None
    requested_at: datetime | None = None

    @property
    def message(self) -> str:
        if self.ready:
            return ""
        if self.building:
            done = f"，已完成 {self.progress}%" if self.progress is not None else ""
            return f"统计数据生成中{done}，请稍后刷新。"
        return "统计数据生成中（已排队等待生成），请稍后刷新。"

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": "ready" if self.ready else "building",
            "message": self.message,
            "progress": self.progress,
            "started_at": self.started_at.isoformat() if self.started_at else None,
        }


def _last_complete_build() -> DashboardBuild | None:
    """The newest finished build of the current facts version, annotated ``pending``: whether a
    rebuild was requested after it started (one small query, read by every dashboard: its SQL is
    compiled once per process, ``core.compiled``)."""
    rows = compiled_rows("dashboard.last_complete_build", _last_complete_build_query)
    return rows[0] if rows else None


def _last_complete_build_query() -> QuerySet[DashboardBuild]:
    complete = DashboardBuild.objects.filter(
        finished_at__isnull=False, version=FACTS_VERSION, started_at__isnull=False
    ).order_by("-started_at")
    return (
        DashboardBuild.objects.filter(pk=Subquery(complete.values("pk")[:1]))
        .annotate(pending=Exists(_rebuild_requests().filter(requested_at__gt=OuterRef("started_at"))))
        .order_by("pk")[:1]
    )


def _rebuild_requests() -> QuerySet[DashboardBuild]:
    return DashboardBuild.objects.filter(finished_at__isnull=True).exclude(reason=NIGHTLY)


def facts_ready() -> bool:
    """The summary tables are complete for the current facts version (one small query)."""
    last = _last_complete_build()
    return last is not None and not last.pending


def facts_state() -> FactsState:
    """Complete (one small query), or being (re)built (three)."""
    requests = _rebuild_requests()
    last = _last_complete_build()
    if last is not None and not last.pending:
        return FactsState(ready=True, started_at=last.started_at)
    pending = requests if last is None else requests.filter(requested_at__gt=last.started_at)
    running = (
        DashboardBuild.objects.filter(finished_at__isnull=True, started_at__isnull=False)
        .order_by("-started_at")
        .first()
    )
    if running is None:
        oldest = pending.order_by("requested_at").first()
        return FactsState(ready=False, requested_at=oldest.requested_at if oldest else None)
    progress = running.steps_done * 100 // running.steps_total if running.steps_total else None
    return FactsState(ready=False, building=True, progress=progress, started_at=running.started_at)


def request_rebuild(reason: str, *, queue: bool = True) -> DashboardBuild:
    """Mark the facts incomplete until a full rebuild runs; the rebuild is queued after the commit
    (and, should that message be lost, by the sweeper ``dashboard.sweep``)."""
    row = DashboardBuild.objects.create(reason=reason, version=FACTS_VERSION)
    if queue:
        transaction.on_commit(lambda: dashboard_rebuild.delay(reason=reason))
    return row


def rebuild_wanted(*, running_for: timedelta) -> bool:
    """A request is pending and no build started within ``running_for`` (the rebuild's time limit)."""
    if facts_state().ready:
        return False
    since = timezone.now() - running_for
    return not DashboardBuild.objects.filter(finished_at__isnull=True, started_at__gte=since).exists()


def after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """``post_migrate``: an empty database is complete as it is; one with organizations whose
    facts were never built by this version of the code gets a rebuild."""
    if using != DEFAULT_DB_ALIAS or DashboardBuild._meta.db_table not in connection.introspection.table_names():
        return
    if facts_state().ready:
        return
    if DashboardBuild.objects.filter(finished_at__isnull=True).exclude(reason=NIGHTLY).exists():
        transaction.on_commit(lambda: dashboard_rebuild.delay(reason="migration"))
        return
    if not Organization.objects.exists():
        now = timezone.now()
        DashboardBuild.objects.create(
            reason="empty", version=FACTS_VERSION, requested_at=now, started_at=now, finished_at=now
        )
        return
    request_rebuild("migration")


class Progress:
    """Counts the steps of a build. On PostgreSQL, when the build row is committed, each step is
    written through a second connection so pages see it while the build's transaction runs."""

    def __init__(self, build: DashboardBuild) -> None:
        self.build = build
        self.done = 0
        self.side: Any = None

    def __enter__(self) -> Progress:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)
        return self

    def step(self) -> None:
        self.done += 1
        if self.side is None:
            return
        table = DashboardBuild._meta.db_table
        with self.side.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET steps_done = %s WHERE id = %s", [self.done, self.build.pk])  # noqa: S608

    def __exit__(self, *exc: Any) -> None:
        if self.side is not None:
            self.side.close()
