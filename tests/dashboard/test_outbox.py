"""The outbox of the summary tables (#17.4): marks written with the change, drained after the
commit, and repaired by the sweeper when a refresh fails or its worker dies (a real worker killed
with kill -9: tests/dashboard/test_outbox_faults.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from config.celery import app
from dashboard import outbox
from dashboard.builds import facts_state, request_rebuild
from dashboard.facts import facts_rebuild
from dashboard.models import DashboardDirty
from dashboard.outbox import outbox_drain, outbox_stale
from dashboard.tasks import dashboard_sweep
from dashboard.verify import verify_facts
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(cast):
    facts_rebuild()
    DashboardDirty.objects.all().delete()
    return cast


def _marks(org) -> set[str]:
    return set(DashboardDirty.objects.filter(organization_id=org.pk).values_list("family", flat=True))


def test_marks_are_written_in_the_changes_transaction_and_rolled_back_with_it(built):
    with pytest.raises(RuntimeError), transaction.atomic():
        MemberFactory(organization=built.A)
        assert {"members", "flags", "life", "pipeline"} <= _marks(built.A)
        raise RuntimeError("the change fails")
    assert _marks(built.A) == set()
    assert verify_facts() == []


def test_committed_change_is_refreshed_and_its_marks_removed(built, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        MemberFactory(organization=built.A)
    assert not DashboardDirty.objects.exists()
    assert verify_facts() == []


@pytest.mark.services  # #17: runs in CI against PostgreSQL and Redis like the other write-path fault tests
def test_a_refresh_that_raises_after_commit_is_repaired_by_the_sweeper(
    built, monkeypatch, django_capture_on_commit_callbacks
):
    real_refresh = outbox.facts_refresh

    def database_restarted(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(outbox, "facts_refresh", database_restarted)
    with django_capture_on_commit_callbacks(execute=True):
        MemberFactory(organization=built.A)  # the change commits; its refresh fails
    assert "members" in _marks(built.A)
    assert verify_facts() != []  # the figures are behind
    client = built.client("org_admin_p")
    assert "数据更新中" not in client.get(f"/organizations/{built.P.pk}/dashboard/").content.decode()
    stale = timezone.now() - timedelta(minutes=settings.PB_DASHBOARD_STALE_MINUTES + 1)
    DashboardDirty.objects.update(created_at=stale)
    assert outbox_stale(built.P) and outbox_stale(built.A) and not outbox_stale(built.B)
    page = client.get(f"/organizations/{built.P.pk}/dashboard/")
    assert "数据更新中" in page.content.decode()
    api = built.api("org_admin_p").get(f"/api/v1/organizations/{built.P.pk}/dashboard/").json()
    assert api["facts"]["updating"] is True

    monkeypatch.setattr(outbox, "facts_refresh", real_refresh)
    assert dashboard_sweep() > 0  # the beat task, every PB_DASHBOARD_SWEEP_SECONDS
    assert not DashboardDirty.objects.exists()
    assert verify_facts() == []
    assert "数据更新中" not in client.get(f"/organizations/{built.P.pk}/dashboard/").content.decode()


def test_sweeper_queues_a_requested_rebuild_whose_task_was_lost(built, django_capture_on_commit_callbacks):
    request_rebuild("tree", queue=False)  # the request committed, its message lost
    assert not facts_state().ready
    dashboard_sweep()  # eager in tests: the rebuild runs now
    assert facts_state().ready


def test_every_task_ends_before_redis_would_hand_it_to_another_worker():
    """A task still running when the visibility timeout passes would run twice; a dead worker's
    task waits that long. Every hard time limit stays below it, the sweep runs well within the
    "数据更新中" delay."""
    timeout = settings.PB_BROKER_VISIBILITY_TIMEOUT
    app.loader.import_default_modules()
    limits = {
        name: task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        for name, task in app.tasks.items()
        if not name.startswith("celery.")
    }
    assert "dashboard.sweep" in limits
    assert all(limit + 60 <= timeout for limit in limits.values()), limits
    assert settings.PB_DASHBOARD_SWEEP_SECONDS * 2 <= settings.PB_DASHBOARD_STALE_MINUTES * 60
    assert settings.CELERY_BEAT_SCHEDULE["dashboard-sweep"]["task"] == "dashboard.sweep"


def _settings_with(**env: str) -> subprocess.CompletedProcess:
    """The rebuild's limit and the visibility timeout as a process started with ``env`` sees them."""
    code = (
        "import django; django.setup(); from django.conf import settings; from dashboard.tasks import dashboard_rebuild;"
        "print(settings.PB_DASHBOARD_REBUILD_SECONDS, settings.PB_BROKER_VISIBILITY_TIMEOUT,"
        " dashboard_rebuild.time_limit, dashboard_rebuild.soft_time_limit)"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("PB_DASHBOARD_REBUILD_SECONDS", "CELERY_VISIBILITY_TIMEOUT")}
    return subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_larger_province_raises_the_rebuild_limit_and_the_visibility_timeout_follows():
    """docs/scaling.md: at 3M the nightly rebuild took 1,241 s of its 1,500 s limit."""
    assert _settings_with().stdout.split() == ["1500", "1920", "1500", "1440"]
    assert _settings_with(PB_DASHBOARD_REBUILD_SECONDS="4500").stdout.split() == ["4500", "4920", "4500", "4440"]
    assert _settings_with(PB_DASHBOARD_REBUILD_SECONDS="4500", CELERY_VISIBILITY_TIMEOUT="6000").stdout.split()[1] == "6000"


def test_check_deploy_reports_a_visibility_timeout_below_the_rebuild(settings):
    from dashboard.checks import rebuild_within_visibility_timeout  # import-here: the check itself

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    settings.PB_DASHBOARD_REBUILD_SECONDS, settings.PB_BROKER_VISIBILITY_TIMEOUT = 4500, 2000
    assert [e.id for e in rebuild_within_visibility_timeout()] == ["dashboard.E001"]
    settings.PB_BROKER_VISIBILITY_TIMEOUT = 4560
    assert rebuild_within_visibility_timeout() == []
    settings.CELERY_BROKER_URL, settings.PB_BROKER_VISIBILITY_TIMEOUT = "filesystem://", 60  # no redelivery there
    assert rebuild_within_visibility_timeout() == []


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_drain_leaves_its_marks_for_the_sweeper(cast, monkeypatch):
    """PostgreSQL: a drain that dies holding its marks (FOR UPDATE) blocks nobody (others skip
    them) and loses nothing: once its connection is gone the marks are free and the sweeper
    processes them."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks, SKIP LOCKED)")
    facts_rebuild()
    DashboardDirty.objects.all().delete()
    monkeypatch.setattr(outbox.dashboard_drain, "delay", lambda: None)  # the drain's message: taken by the worker
    MemberFactory(organization=cast.A)  # committed with its marks
    assert "members" in _marks(cast.A)
    assert verify_facts() != []
    holding, killed = threading.Event(), threading.Event()

    def dying_worker():
        conn = connections.create_connection("default")
        try:
            conn.set_autocommit(False)
            with conn.cursor() as cursor:
                cursor.execute("SELECT id FROM dashboard_dashboarddirty FOR UPDATE")
            holding.set()
            killed.wait(30)
        finally:
            conn.close()  # kill -9: no commit, the server rolls back and frees the rows

    worker = threading.Thread(target=dying_worker)
    worker.start()
    assert holding.wait(30)
    assert outbox_drain() == 0  # taken by the (dying) worker: skipped, nobody waits
    killed.set()
    worker.join(30)
    # The server rolls the dead connection back on its own time (it notices the closed socket):
    # until then its marks are still locked and skipped. The beat sweeps again; so does this test.
    swept, deadline = 0, time.monotonic() + 15
    while not swept and time.monotonic() < deadline:
        swept = dashboard_sweep()
        if not swept:
            time.sleep(0.2)
    assert swept > 0
    assert not DashboardDirty.objects.exists()
    assert verify_facts() == []


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_refresh_holding_an_organization_lets_its_writers_commit_but_not_a_second_refresh(cast, monkeypatch):
    """PostgreSQL (#20.3): the refresh locks its organizations FOR NO KEY UPDATE. A change that
    inserts rows pointing at the organization commits meanwhile (its foreign-key checks take FOR
    KEY SHARE, at COMMIT: with FOR UPDATE every writer's COMMIT waited for the drain while holding
    the audit chain's head); a second refresh of the same organization still waits for the first."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row lock modes)")
    from dashboard import facts

    facts_rebuild()
    DashboardDirty.objects.all().delete()
    holding, release = threading.Event(), threading.Event()
    real_compute = facts._compute_own

    def slow_compute(*args, **kwargs):
        holding.set()
        release.wait(30)
        return real_compute(*args, **kwargs)

    monkeypatch.setattr(facts, "_compute_own", slow_compute)
    failures: list[BaseException] = []

    def refresh():
        try:
            facts.facts_refresh(org_ids=[cast.A.pk], families=["members"])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=refresh)
    worker.start()
    try:
        assert holding.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        with transaction.atomic():  # deferred foreign keys: checked at this COMMIT
            MemberFactory(organization=cast.A)
        with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM organizations_organization WHERE id = %s FOR NO KEY UPDATE", [cast.A.pk])
    finally:
        release.set()
        worker.join(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert not failures
