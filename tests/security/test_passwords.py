"""AUTH-1 password policy, AUTH-4 forced change, SESS-2 password change ends the session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import AccountSecurity, PasswordHistory
from audit.models import AuditEvent
from core.roles import Role
from tests.factories import UserFactory, assign
from tests.security.conftest import PASSWORD, login, set_password

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "password,ok",
    [
        ("Abcdef1!", True),  # 8 chars, 4 classes
        ("abcdefg1!", True),  # 3 classes
        ("ABCDEFG12", False),  # 2 classes
        ("abcdefgh", False),  # 1 class
        ("Ab1!xyz", False),  # 7 chars
        ("党建Abc123", True),  # CJK counts as neither class; 3 classes present
        ("12345678", False),
    ],
)
def test_password_validators(cast, password, ok):
    user = cast.users["secretary_a"]
    if ok:
        validate_password(password, user)
    else:
        with pytest.raises(ValidationError):
            validate_password(password, user)


def test_no_reuse_of_last_five(cast):
    user = cast.users["secretary_a"]
    passwords = [f"Pw{i}!abcdef" for i in range(7)]
    for password in passwords:
        validate_password(password, user)
        set_password(user, password)
    assert PasswordHistory.objects.filter(user=user).count() == 7
    for recent in passwords[-5:]:
        with pytest.raises(ValidationError, match="最近 5 次"):
            validate_password(recent, user)
    validate_password(passwords[0], user)  # the 7th-last is allowed again


def test_password_change_records_history_and_time(cast):
    user = cast.users["member_a"]
    set_password(user)
    state = AccountSecurity.objects.get(user=user)
    assert state.password_changed_at is not None and not state.must_change_password


def test_expired_password_forces_a_change_on_day_91(cast):
    user = cast.users["member_a"]
    set_password(user)
    client = Client()
    login(client, "member_a")
    assert client.get("/").status_code == 200
    # time travel: the password was set 91 days ago
    AccountSecurity.objects.filter(user=user).update(password_changed_at=timezone.now() - timedelta(days=91))
    client = Client()
    login(client, "member_a")
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/account/password/")
    assert client.get("/organizations/").status_code == 302
    assert "超过有效期" in client.get("/account/password/").content.decode()
    # day 89 is still fine
    AccountSecurity.objects.filter(user=user).update(password_changed_at=timezone.now() - timedelta(days=89))
    client = Client()
    login(client, "member_a")
    assert client.get("/").status_code == 200


def test_api_token_refused_while_a_change_is_forced(cast):
    user = cast.users["member_a"]
    set_password(user)
    AccountSecurity.objects.filter(user=user).update(must_change_password=True)
    response = Client().post("/api/v1/auth/token/", {"username": "member_a", "password": PASSWORD})
    assert response.status_code == 403


def test_password_change_ends_the_session_and_tokens(cast):
    user = cast.users["secretary_a"]
    set_password(user)
    AuthToken.objects.create(user=user)
    client = Client()
    login(client, "secretary_a")
    other_device = Client()
    login(other_device, "secretary_a")
    old_cookie = client.cookies["sessionid"].value
    assert client.get("/").status_code == 200
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": "N3w!password", "new_password2": "N3w!password"},
    )
    assert response.status_code == 302 and response["Location"] == "/login/"
    replay = Client()
    replay.cookies["sessionid"] = old_cookie
    assert replay.get("/").status_code == 302  # the old session is gone server-side
    assert other_device.get("/").status_code == 302  # every other session ends too
    assert not AuthToken.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(event="password_change", username="secretary_a").count() == 1
    fresh = Client()
    login(fresh, "secretary_a", "N3w!password")
    assert fresh.get("/").status_code == 200


def test_password_change_form_refuses_weak_and_reused(cast):
    user = cast.users["secretary_a"]
    set_password(user)
    client = Client()
    login(client, "secretary_a")
    weak = client.post(
        "/account/password/", {"old_password": PASSWORD, "new_password1": "abcdefgh", "new_password2": "abcdefgh"}
    )
    assert weak.status_code == 200 and "至少 3 类" in weak.content.decode()
    reused = client.post(
        "/account/password/", {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD}
    )
    assert reused.status_code == 200 and "最近 5 次" in reused.content.decode()


@override_settings(PB_PASSWORD_MAX_AGE_DAYS=30)
def test_max_age_is_a_setting(cast):
    user = cast.users["member_a"]
    set_password(user)
    AccountSecurity.objects.filter(user=user).update(password_changed_at=timezone.now() - timedelta(days=31))
    client = Client()
    login(client, "member_a")
    assert client.get("/")["Location"].startswith("/account/password/")


def test_the_forms_state_the_rules_in_force(cast):
    """The hint under the password fields follows the validators and the secadmin's history count."""
    from accounts.services import security_policy_update

    client = cast.client("secretary_a")
    assert "至少 8 位" in client.get("/account/password/").content.decode()
    secadmin = UserFactory(username="sec_hint")
    assign(secadmin, cast.P, Role.SECADMIN)
    security_policy_update(actor=secadmin, password_history_count=7)
    page = client.get("/account/password/").content.decode()
    assert "不能与最近 7 次的密码相同" in page and "最近 5 次" not in page
