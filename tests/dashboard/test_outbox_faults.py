"""A Celery worker killed (kill -9) in the middle of a dashboard refresh, against a real Redis and
real worker processes (#17.4): its work is still done — by Redis redelivering the task it held,
within ``CELERY_VISIBILITY_TIMEOUT`` (plus the 10 s restore scan), or by the beat's sweeper within
``PB_DASHBOARD_SWEEP_SECONDS``, whichever comes first in production; each path is tested alone.

How the worker is caught mid-task: the test holds a lock on the summary table, so the worker's
drain takes its dirty marks (``FOR UPDATE``) and then waits inside the refresh, with its message
unacknowledged. The test kills it there, then lets go of the lock. Like the notification fault
tests, these start their own ``redis-server`` and kill only the processes they started.
"""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.db import connections, transaction

from dashboard.facts import facts_rebuild
from dashboard.models import DashboardDirty
from dashboard.verify import verify_facts
from tests.notifications.test_notifications_faults import (  # noqa: F401 - fixtures used by name
    LOGS,
    Workers,
    _env,
    _needs_services,
    manage,
    redis_server,
    wait_until,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

VISIBILITY = 60  # the smallest CELERY_VISIBILITY_TIMEOUT the settings accept
SWEEP = 10  # the smallest PB_DASHBOARD_SWEEP_SECONDS the settings accept
RESTORE_SCAN = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("unacked_restore_interval", 10)

CHANGE = """
from django.db import transaction
from organizations.models import Organization
from tests.factories import MemberFactory
with transaction.atomic():  # one commit: one drain queued
    MemberFactory(organization=Organization.objects.get(pk={org}))
"""


class BeatWorkers(Workers):
    """``Workers`` that may also run the beat (the dashboard sweep) inside the worker."""

    def start_with_beat(self, env: dict[str, str], schedule: str) -> subprocess.Popen:
        log = open(LOGS / f"{self.name}-worker{len(self.procs) + 1}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "-s", schedule,
             "-Q", ",".join(settings.PB_CELERY_QUEUES), "--pool", "prefork", "--concurrency", "1",
             "-n", f"fault-{uuid.uuid4().hex[:8]}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-l", "info"],
            env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.procs.append(proc)
        return proc


@pytest.fixture
def workers(request):
    group = BeatWorkers(request.node.name)
    yield group
    group.stop_all()


def _free_marks() -> int:
    """Marks no other transaction holds (a drain locks one family's marks at a time)."""
    with transaction.atomic():
        return len(DashboardDirty.objects.select_for_update(skip_locked=True).values_list("pk", flat=True))


def _marks_held_by_someone() -> bool:
    return _free_marks() < DashboardDirty.objects.count()


def _marks_free() -> bool:
    return DashboardDirty.objects.exists() and _free_marks() == DashboardDirty.objects.count()


def _kill_a_worker_mid_refresh(cast, redis_server, workers, env) -> None:  # noqa: F811
    """Commit a change whose refresh a worker takes, kill -9 that worker inside the refresh, and
    leave the marks and the unacknowledged task behind."""
    facts_rebuild()
    DashboardDirty.objects.all().delete()
    blocker = connections.create_connection("default")
    try:
        blocker.set_autocommit(False)
        with blocker.cursor() as cursor:  # the refresh writes this table: it waits here
            cursor.execute("LOCK TABLE dashboard_dashboardfact IN SHARE ROW EXCLUSIVE MODE")
        first = workers.start(env)
        manage(env, "shell", "-c", CHANGE.format(org=cast.A.pk))  # commits the change and queues the drain
        assert wait_until(_marks_held_by_someone, 60), "no worker took the marks"
        broker = redis_server.client()
        assert broker.hlen("unacked") == 1  # the drain, taken and not acknowledged …
        assert broker.llen("dashboard") == 0  # … and the only one: nothing else will do the work
        workers.kill(first)  # kill -9 in the middle of the refresh
    finally:
        blocker.rollback()
        blocker.close()
    # The dead worker's transaction is rolled back: the marks are free again, the figures behind.
    assert wait_until(_marks_free, 30)
    assert verify_facts() != []
    assert redis_server.client().hlen("unacked") == 1


def test_a_killed_workers_refresh_is_redelivered_within_the_visibility_timeout(
    cast,
    redis_server,  # noqa: F811
    workers,
):
    env = _env(redis_server, CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY))
    _kill_a_worker_mid_refresh(cast, redis_server, workers, env)
    workers.start(env)  # no beat: only the redelivered task can do the work
    assert wait_until(lambda: not DashboardDirty.objects.exists(), VISIBILITY + RESTORE_SCAN + 30), (
        "the task was not redelivered within the visibility timeout"
    )
    assert verify_facts() == []
    assert wait_until(lambda: redis_server.client().hlen("unacked") == 0, 15)  # acknowledged after it ran


def test_a_killed_workers_refresh_is_done_by_the_sweeper(cast, redis_server, workers, tmp_path):  # noqa: F811
    # Redelivery set far away (the production value): only the sweeper can do the work in time.
    env = _env(redis_server, CELERY_VISIBILITY_TIMEOUT="1920", PB_DASHBOARD_SWEEP_SECONDS=str(SWEEP))
    _kill_a_worker_mid_refresh(cast, redis_server, workers, env)
    workers.start_with_beat(env, str(tmp_path / "beat-schedule"))
    assert wait_until(lambda: not DashboardDirty.objects.exists(), 2 * SWEEP + 30), "the sweeper did not run"
    assert verify_facts() == []
