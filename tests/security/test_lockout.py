"""AUTH-2: lockout after 5 failures per account and per address, same message for unknown users,
cool-off, and the audit records of each step."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from tests.security.conftest import PASSWORD, login, set_password

pytestmark = pytest.mark.django_db


def _fail(client: Client, username: str, times: int, ip: str = "10.0.0.1") -> None:
    for n in range(1, times + 1):
        response = login(client, username, "wrong-password", REMOTE_ADDR=ip)
        if n < 5:
            assert response.status_code == 200  # the form again, generic message
            assert "用户名或密码不正确" in response.content.decode()
        else:
            assert response.status_code == 429  # the 5th failure locks


def _normalise(html: str, username: str) -> str:
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return html.replace(username, "X")


def test_sixth_try_with_the_right_password_is_refused_then_allowed_after_cooloff(cast):
    set_password(cast.users["secretary_a"])
    client = Client()
    _fail(client, "secretary_a", 5)
    refused = login(client, "secretary_a", PASSWORD, REMOTE_ADDR="10.0.0.2")  # even from another address
    assert refused.status_code == 429
    assert "临时锁定" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(event="lockout").count() >= 1
    # cool-off (30 min): time travel the attempt records
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    allowed = login(Client(), "secretary_a", PASSWORD, REMOTE_ADDR="10.0.0.2")
    assert allowed.status_code == 302 and allowed["Location"] == "/"


def test_four_failures_do_not_lock(cast):
    set_password(cast.users["secretary_a"])
    _fail(Client(), "secretary_a", 4)
    assert login(Client(), "secretary_a", PASSWORD).status_code == 302


def test_unknown_user_gets_the_same_messages(cast):
    set_password(cast.users["secretary_a"])
    known, unknown = Client(), Client()
    known_pages = [login(known, "secretary_a", "bad", REMOTE_ADDR="10.1.0.1") for _ in range(6)]
    unknown_pages = [login(unknown, "nobody_here", "bad", REMOTE_ADDR="10.2.0.1") for _ in range(6)]
    for a, b in zip(known_pages, unknown_pages, strict=True):
        assert a.status_code == b.status_code
        assert _normalise(a.content.decode(), "secretary_a") == _normalise(b.content.decode(), "nobody_here")
    assert known_pages[-1].status_code == 429


def test_per_address_lockout_across_usernames(cast):
    set_password(cast.users["member_a"])
    client = Client()
    for name in ["a1", "a2", "a3", "a4", "a5"]:
        login(client, name, "bad", REMOTE_ADDR="10.9.9.9")
    assert login(client, "member_a", PASSWORD, REMOTE_ADDR="10.9.9.9").status_code == 429
    assert login(Client(), "member_a", PASSWORD, REMOTE_ADDR="10.9.9.10").status_code == 302


def test_api_token_endpoint_is_locked_too(cast):
    set_password(cast.users["secretary_a"])
    client = Client()
    for n in range(1, 6):
        bad = client.post("/api/v1/auth/token/", {"username": "secretary_a", "password": "x"}, REMOTE_ADDR="10.3.0.1")
        assert bad.status_code == (400 if n < 5 else 429)
    locked = client.post(
        "/api/v1/auth/token/", {"username": "secretary_a", "password": PASSWORD}, REMOTE_ADDR="10.3.0.2"
    )
    assert locked.status_code == 429 and "token" not in locked.json()


def test_sysadmin_unlocks(cast):
    set_password(cast.users["secretary_a"])
    _fail(Client(), "secretary_a", 5)
    assert login(Client(), "secretary_a", PASSWORD, REMOTE_ADDR="10.4.0.1").status_code == 429
    admin = cast.client("sysadmin")
    response = admin.post(f"/account/users/{cast.users['secretary_a'].pk}/unlock/")
    assert response.status_code == 302
    assert AuditEvent.objects.filter(event="account_unlock").count() == 1
    AccessAttempt.objects.filter(ip_address="10.0.0.1").delete()  # the address lock is separate
    assert login(Client(), "secretary_a", PASSWORD, REMOTE_ADDR="10.4.0.1").status_code == 302


def test_failures_and_success_are_audited(cast):
    set_password(cast.users["member_a"])
    login(Client(), "member_a", "bad")
    login(Client(), "member_a", PASSWORD)
    assert AuditEvent.objects.filter(event="login_failed", outcome="failure").count() == 1
    assert AuditEvent.objects.filter(event="login", username="member_a").count() == 1
