"""The read-replica router (#18.7) without a server: which alias a read goes to, and when not."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from core import replica
from core.replica import REPLICA_ALIAS, ReplicaRouter, ReplicaStatus, ReplicaStickinessMiddleware, heavy_reads

router = ReplicaRouter()


@pytest.fixture
def replica_up(monkeypatch):
    state = {"status": ReplicaStatus(configured=True, reachable=True, lag_seconds=0.2)}
    monkeypatch.setattr(replica, "replica_status", lambda refresh=False: state["status"])
    cache.clear()
    return state


def test_only_heavy_reads_go_to_the_replica(replica_up):
    assert router.db_for_read(None) == "default"
    with heavy_reads():
        assert router.db_for_read(None) == REPLICA_ALIAS
    assert router.db_for_write(None) == "default"
    assert router.allow_migrate(REPLICA_ALIAS, "members") is False


@pytest.mark.parametrize(
    "status",
    [ReplicaStatus(configured=True, reachable=False), ReplicaStatus(configured=True, reachable=True, lag_seconds=31)],
    ids=["down", "lagging"],
)
def test_reads_fall_back_to_the_primary_when_the_replica_is_down_or_behind(replica_up, status, settings):
    settings.PB_REPLICA_MAX_LAG_SECONDS = 30
    replica_up["status"] = status
    with heavy_reads():
        assert router.db_for_read(None) == "default"


@pytest.mark.django_db
def test_a_user_reads_their_own_writes_from_the_primary(replica_up, django_user_model, settings):
    settings.PB_REPLICA_STICKY_SECONDS = 5
    user = django_user_model.objects.create(username="writer")
    other = django_user_model.objects.create(username="reader")
    seen = []

    def view(request):
        with heavy_reads():
            seen.append((request.method, request.user.username, router.db_for_read(None)))
        return type("R", (), {"status_code": 201 if request.method == "POST" else 200})()

    middleware = ReplicaStickinessMiddleware(view)
    factory = RequestFactory()

    def call(method, who):
        request = getattr(factory, method.lower())("/x")
        request.user = who
        middleware(request)

    call("GET", user)
    call("POST", user)  # the write itself reads from the primary
    call("GET", user)  # and so do this user's reads for the next seconds
    call("GET", other)  # nobody else's
    assert seen == [
        ("GET", "writer", REPLICA_ALIAS),
        ("POST", "writer", "default"),
        ("GET", "writer", "default"),
        ("GET", "reader", REPLICA_ALIAS),
    ]


def test_without_a_replica_nothing_is_routed(settings):
    assert replica.replica_status() == ReplicaStatus(configured=False)
    assert "core.replica.ReplicaRouter" not in getattr(settings, "DATABASE_ROUTERS", [])


def test_reporting_views_and_tasks_are_heavy_reads(replica_up, settings):
    from django.urls import reverse

    from core.replica import _is_heavy_view, task_heavy_reads_end, task_heavy_reads_start

    assert _is_heavy_view(reverse("dashboard:page", args=[1]))
    assert _is_heavy_view(reverse("api-dashboard", args=[1]))
    assert not _is_heavy_view(reverse("members:list"))
    assert not _is_heavy_view("/no/such/path/")

    class Task:
        name = "assessments.report_generate"
        request = type("Req", (), {})()

    task_heavy_reads_start(task=Task)
    assert router.db_for_read(None) == REPLICA_ALIAS
    task_heavy_reads_end(task=Task)
    assert router.db_for_read(None) == "default"
