"""Read replica routing (operations issue #18.7).

With ``DATABASE_REPLICA_URL`` set, the ``replica`` alias exists and heavy reads — code run inside
``heavy_reads()`` (dashboards, drill-down lists, exports, inspection reports, 台账, statistics) —
go to it; everything else, and every write, goes to the primary. Reads fall back to the primary
when:

- the request writes, or its user wrote within ``PB_REPLICA_STICKY_SECONDS`` (read-your-writes:
  ReplicaStickinessMiddleware leaves a per-user cache mark after a successful unsafe request);
- the replica is unreachable or its replay lags more than ``PB_REPLICA_MAX_LAG_SECONDS`` (checked at
  most every ``PB_REPLICA_CHECK_SECONDS`` per process).

Without a replica the router is not installed and nothing changes.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import DatabaseError
from django.urls import Resolver404, resolve

log = logging.getLogger("core.replica")

REPLICA_ALIAS = "replica"
_heavy = contextvars.ContextVar("pb_heavy_reads", default=False)
_request = contextvars.ContextVar("pb_replica_request", default=None)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class ReplicaStatus:
    configured: bool
    reachable: bool = False
    lag_seconds: float = 0.0

    @property
    def usable(self) -> bool:
        return self.configured and self.reachable and self.lag_seconds <= settings.PB_REPLICA_MAX_LAG_SECONDS


_cache: dict = {"at": 0.0, "status": None}
# Reads routed per alias in this process (the replica drill reports the replica's share).
ROUTED: Counter = Counter()

# Replay lag on the standby: zero when everything received is replayed (an idle primary sends
# nothing, so "time since the last replayed transaction" alone would grow without real lag).
LAG_SQL = (
    "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)


def replica_configured() -> bool:
    return REPLICA_ALIAS in connections.settings


def replica_status(*, refresh: bool = False) -> ReplicaStatus:
    """Whether the replica answers and how far behind it is (cached per process for a few seconds)."""
    if not replica_configured():
        return ReplicaStatus(configured=False)
    now = time.monotonic()
    if not refresh and _cache["status"] is not None and now - _cache["at"] < settings.PB_REPLICA_CHECK_SECONDS:
        return _cache["status"]
    try:
        with connections[REPLICA_ALIAS].cursor() as cur:
            if connections[REPLICA_ALIAS].vendor == "postgresql":
                cur.execute(LAG_SQL)
                lag = float(cur.fetchone()[0] or 0)
            else:
                cur.execute("SELECT 1")
                lag = 0.0
        status = ReplicaStatus(configured=True, reachable=True, lag_seconds=lag)
    except DatabaseError:
        log.warning("replica unreachable; heavy reads served by the primary")
        connections[REPLICA_ALIAS].close()
        status = ReplicaStatus(configured=True, reachable=False)
    _cache.update(at=now, status=status)
    return status


@contextmanager
def heavy_reads():
    """Reads inside go to the replica when it is usable (never for writes)."""
    token = _heavy.set(True)
    try:
        yield
    finally:
        _heavy.reset(token)


def heavy_read_view(view):
    """Decorator for views whose reads are reporting reads (dashboards, exports, reports)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        with heavy_reads():
            return view(*args, **kwargs)

    return wrapped


def _wrote_key(user_id) -> str:
    return f"pb:replica:wrote:{user_id}"


def note_write(user_id) -> None:
    """Remember that this user just wrote: their heavy reads stay on the primary for a while."""
    cache.set(_wrote_key(user_id), time.time(), timeout=settings.PB_REPLICA_STICKY_SECONDS)


def _must_read_own_writes() -> bool:
    request = _request.get()
    if request is None:
        return False
    if request.method in UNSAFE_METHODS:
        return True
    user = getattr(request, "user", None)  # resolved by now (DRF sets it on the Django request)
    if user is None or not user.is_authenticated:
        return False
    return cache.get(_wrote_key(user.pk)) is not None


class ReplicaRouter:
    """Heavy reads → replica when usable; everything else → primary."""

    def db_for_read(self, model, **hints):
        alias = DEFAULT_DB_ALIAS
        if _heavy.get() and replica_status().usable and not _must_read_own_writes():
            alias = REPLICA_ALIAS
        ROUTED[alias] += 1
        return alias

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def _is_heavy_view(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.view_name in settings.PB_REPLICA_VIEWS


def task_heavy_reads_start(task=None, **kwargs) -> None:
    """Celery task_prerun: report and document tasks read like the pages that show them."""
    if task is not None and task.name in settings.PB_REPLICA_TASKS:
        task.request.pb_heavy_token = _heavy.set(True)


def task_heavy_reads_end(task=None, **kwargs) -> None:
    token = getattr(getattr(task, "request", None), "pb_heavy_token", None)
    if token is not None:
        _heavy.reset(token)
        task.request.pb_heavy_token = None


class ReplicaStickinessMiddleware:
    """Sends GETs of the views in PB_REPLICA_VIEWS to heavy_reads(). Read-your-writes: after a successful unsafe request, the user's heavy reads stay on the
    primary for PB_REPLICA_STICKY_SECONDS (a cache mark per user: sessions and API tokens alike)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            if request.method in ("GET", "HEAD") and _is_heavy_view(request.path_info):
                with heavy_reads():
                    response = self.get_response(request)
            else:
                response = self.get_response(request)
        finally:
            _request.reset(token)
        if request.method in UNSAFE_METHODS and response.status_code < 400:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                note_write(user.pk)
        return response
