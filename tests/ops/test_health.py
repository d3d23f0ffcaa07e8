"""/healthz and /readyz (#18.2): JSON per check with status and time; 503 when not ready."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from core.models import Heartbeat
from core.tasks import BEAT_HEARTBEAT, heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response["Cache-Control"].startswith("max-age=0")


def test_readyz_fails_until_the_beat_heartbeat_has_run(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["beatheartbeat"]["status"] == "fail"
    assert "heartbeat" in body["checks"]["beatheartbeat"]["detail"]
    for name in ("database", "migrations", "cache", "broker"):
        assert body["checks"][name]["status"] == "ok", (name, body["checks"][name])
        assert body["checks"][name]["ms"] >= 0


def test_readyz_is_green_with_a_fresh_heartbeat(client):
    heartbeat()  # what a worker does for the beat's message
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ok"


def test_readyz_fails_on_a_stale_heartbeat(client, settings):
    Heartbeat.objects.create(
        name=BEAT_HEARTBEAT, beat_at=timezone.now() - timedelta(seconds=3 * settings.PB_HEARTBEAT_SECONDS + 5)
    )
    body = client.get("/readyz").json()
    assert body["checks"]["beatheartbeat"]["status"] == "fail"
    assert "ago" in body["checks"]["beatheartbeat"]["detail"]


def test_readyz_fails_on_unapplied_migrations(client, monkeypatch):
    heartbeat()
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("app", False)])
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == {
        "status": "fail",
        "ms": response.json()["checks"]["migrations"]["ms"],
        "detail": "1 migrations not applied",
    }


def test_readyz_reports_an_unreachable_broker(client, settings, monkeypatch):
    heartbeat()
    from kombu import Connection

    from core.health import checks

    monkeypatch.setattr(checks.current_app, "connection_for_write", lambda: Connection("redis://127.0.0.1:1/0"))
    body = client.get("/readyz").json()
    assert body["checks"]["broker"]["status"] == "fail"
    assert "127.0.0.1" not in body["checks"]["broker"]["detail"]  # no addresses or credentials


def test_readyz_fails_when_the_cache_does_not_keep_a_value(client, settings):
    """The cache check is a coroutine in django-health-check: it must actually run."""
    heartbeat()
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"]["status"] == "fail"


def test_probes_are_exempt_from_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/organizations/").status_code == 301


def test_the_request_log_line_never_resolves_the_user_itself(rf):
    """A request that never looked at its user (or whose session store is down) logs no user:
    resolving it for a log line would query, or fail after the response was built."""
    from django.utils.functional import SimpleLazyObject

    from audit.logging import request_context_fields

    def unreachable():
        raise AssertionError("the log line resolved the user")

    request = rf.get("/healthz")
    request.user = SimpleLazyObject(unreachable)
    assert request_context_fields(request) == {"user_id": None}
