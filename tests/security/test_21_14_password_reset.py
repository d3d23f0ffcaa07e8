"""#21.14: a sysadmin's password reset never yields a password the sysadmin sees or can use.

The attack: the sysadmin resets a member's password, is shown the new one, logs in as the member.
Now the reset sends the member a one-time link (digest stored, 30 minutes, single use); the
sysadmin's pages show no secret and the member's password is unchanged until the member sets one.
Privileged accounts need a second person, a secadmin. Every step is audited.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import PasswordReset, ResetStatus
from audit.models import AuditEvent
from core.roles import Role
from tests.factories import UserFactory, assign
from tests.security.conftest import PASSWORD, code_for, enrol_device, login, set_password

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Xin-Mima!2026"
LINK_RE = re.compile(r"/account/reset/([A-Za-z0-9_-]{20,})/")


@pytest.fixture
def secadmin(cast):
    user = UserFactory(username="secadmin")
    assign(user, cast.P, Role.SECADMIN)
    return user


def with_email(user, address: str):
    user.email = address
    user.save(update_fields=["email"])
    return user


def link_in_mail() -> str:
    assert len(mail.outbox) == 1
    return LINK_RE.search(mail.outbox[0].body).group(0)


def candidate_secrets(text: str) -> set[str]:
    """Every string on a page that could be a password or a token."""
    return set(re.findall(r"[A-Za-z0-9!@#$%^&*_\-]{8,}", text))


def test_21_14_sysadmin_reset_does_not_let_the_sysadmin_log_in_as_the_member(cast):
    member = with_email(cast.users["member_a"], "member_a@example.cn")
    set_password(member)
    old_hash = member.password
    sysadmin = cast.client("sysadmin")
    before = sysadmin.get(f"/account/users/{member.pk}/").content.decode()
    confirm = sysadmin.get(f"/account/users/{member.pk}/reset-password/")
    assert confirm.status_code == 200 and "确定" in confirm.content.decode()
    done = sysadmin.post(f"/account/users/{member.pk}/reset-password/", follow=True)
    page = done.content.decode() + sysadmin.get(f"/account/users/{member.pk}/").content.decode()
    assert "已向 m***@example.cn 发送一次性重置链接" in page
    assert "临时密码" not in page
    # The attack: every new string the sysadmin was shown, tried as the member's password → no login.
    guesses = candidate_secrets(page) - candidate_secrets(before)
    for guess in guesses:
        attempt = Client()
        assert login(attempt, "member_a", guess).status_code in (200, 429)  # the form again, or locked out
        assert "_auth_user_id" not in attempt.session
    from axes.utils import reset as axes_reset

    axes_reset()
    member.refresh_from_db()
    assert member.password == old_hash  # nothing changed yet: the member's own password still works
    # The link went to the member only, and the database cannot give it back.
    link = link_in_mail()
    assert mail.outbox[0].to == ["member_a@example.cn"]
    token = LINK_RE.search(link).group(1)
    assert token not in page
    reset = PasswordReset.objects.get(user=member)
    assert reset.token_digest == hashlib.sha256(token.encode()).hexdigest() and token not in str(reset.__dict__)
    assert reset.expires_at - reset.sent_at == timedelta(minutes=30)
    # The member sets a new password; the sysadmin still has nothing that logs in.
    browser = Client()
    assert browser.get(link).status_code == 302
    form = browser.get("/account/reset/set/")
    assert form.status_code == 200 and "设置新密码" in form.content.decode()
    saved = browser.post("/account/reset/set/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert saved.status_code == 302 and saved["Location"] == "/login/"
    assert Client().login(username="member_a", password=NEW_PASSWORD)
    assert not Client().login(username="member_a", password=PASSWORD)
    events = list(
        AuditEvent.objects.filter(event__startswith="password_reset").order_by("id").values_list("event", "username")
    )
    assert events == [
        ("password_reset_requested", "sysadmin"),
        ("password_reset_sent", "sysadmin"),
        ("password_reset_completed", "member_a"),
    ]


def test_21_14_the_link_works_once_and_expires(cast):
    member = with_email(cast.users["member_a"], "m@example.cn")
    set_password(member)
    cast.client("sysadmin").post(f"/account/users/{member.pk}/reset-password/")
    link = link_in_mail()
    first = Client()
    first.get(link)
    first.post("/account/reset/set/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = Client()
    again.get(link)
    reused = again.post("/account/reset/set/", {"new_password1": "Another!Pass9", "new_password2": "Another!Pass9"})
    assert reused.status_code == 400 and "无效" in reused.content.decode()
    assert Client().login(username="member_a", password=NEW_PASSWORD)
    # A second reset's link, past its 30 minutes, is refused too.
    mail.outbox.clear()
    cast.client("sysadmin").post(f"/account/users/{member.pk}/reset-password/")
    late = link_in_mail()
    PasswordReset.objects.filter(status=ResetStatus.SENT).update(expires_at=timezone.now() - timedelta(seconds=1))
    browser = Client()
    browser.get(late)
    assert browser.get("/account/reset/set/").status_code == 400
    assert AuditEvent.objects.filter(event="password_reset_failed", detail__why="invalid_link").count() == 2


def test_21_14_a_newer_reset_voids_the_older_link(cast):
    member = with_email(cast.users["member_a"], "m@example.cn")
    sysadmin = cast.client("sysadmin")
    sysadmin.post(f"/account/users/{member.pk}/reset-password/")
    old = link_in_mail()
    mail.outbox.clear()
    sysadmin.post(f"/account/users/{member.pk}/reset-password/")
    browser = Client()
    browser.get(old)
    assert browser.get("/account/reset/set/").status_code == 400


def test_21_14_privileged_reset_needs_a_secadmins_approval(cast, secadmin):
    target = with_email(cast.users["org_admin_p"], "org@example.cn")
    sysadmin = cast.client("sysadmin")
    done = sysadmin.post(f"/account/users/{target.pk}/reset-password/", follow=True)
    assert "须由安全管理员批准" in done.content.decode()
    assert mail.outbox == []  # nothing sent yet
    reset = PasswordReset.objects.get(user=target)
    assert reset.status == ResetStatus.PENDING_APPROVAL and reset.token_digest is None
    # The sysadmin cannot approve (not a secadmin).
    assert sysadmin.post(f"/account/resets/{reset.pk}/approve/").status_code == 403
    sec = Client()
    sec.force_login(secadmin)
    assert target.username in sec.get("/account/users/").content.decode()  # listed as waiting
    confirm = sec.get(f"/account/resets/{reset.pk}/approve/")
    assert confirm.status_code == 200 and "确定" in confirm.content.decode()
    assert sec.post(f"/account/resets/{reset.pk}/approve/").status_code == 302
    assert mail.outbox[0].to == ["org@example.cn"]
    reset.refresh_from_db()
    assert reset.status == ResetStatus.SENT and reset.approved_by == secadmin
    for event in ("password_reset_requested", "password_reset_approved", "password_reset_sent"):
        assert AuditEvent.objects.filter(event=event).count() == 1


def test_21_14_a_secadmin_cannot_approve_the_reset_of_their_own_account(cast, secadmin):
    with_email(secadmin, "sec@example.cn")
    cast.client("sysadmin").post(f"/account/users/{secadmin.pk}/reset-password/")
    reset = PasswordReset.objects.get(user=secadmin)
    sec = Client()
    sec.force_login(secadmin)
    assert sec.post(f"/account/resets/{reset.pk}/approve/").status_code == 404
    other = UserFactory(username="secadmin2")
    assign(other, cast.A, Role.SECADMIN)
    second = Client()
    second.force_login(other)
    assert second.post(f"/account/resets/{reset.pk}/reject/").status_code == 302
    reset.refresh_from_db()
    assert reset.status == ResetStatus.REJECTED and mail.outbox == []


def test_21_14_an_enrolled_second_factor_is_needed_on_the_link(cast):
    member = with_email(cast.users["member_a"], "m@example.cn")
    device = enrol_device(member)
    cast.client("sysadmin").post(f"/account/users/{member.pk}/reset-password/")
    browser = Client()
    browser.get(link_in_mail())
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert browser.post("/account/reset/set/", data).status_code == 400
    assert browser.post("/account/reset/set/", {**data, "otp": "000001"}).status_code == 400
    assert not Client().login(username="member_a", password=NEW_PASSWORD)
    assert browser.post("/account/reset/set/", {**data, "otp": code_for(device)}).status_code == 302
    assert Client().login(username="member_a", password=NEW_PASSWORD)


def test_21_14_completing_a_reset_ends_sessions_and_tokens(cast):
    member = with_email(cast.users["member_a"], "m@example.cn")
    set_password(member)
    signed_in = Client()
    login(signed_in, "member_a")
    assert signed_in.get("/").status_code == 200
    AuthToken.objects.create(user=member)
    cast.client("sysadmin").post(f"/account/users/{member.pk}/reset-password/")
    browser = Client()
    browser.get(link_in_mail())
    browser.post("/account/reset/set/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert signed_in.get("/")["Location"].startswith("/login/")
    assert not AuthToken.objects.filter(user=member).exists()


def test_21_14_weak_password_on_the_link_is_refused(cast):
    member = with_email(cast.users["member_a"], "m@example.cn")
    cast.client("sysadmin").post(f"/account/users/{member.pk}/reset-password/")
    browser = Client()
    browser.get(link_in_mail())
    refused = browser.post("/account/reset/set/", {"new_password1": "Admin@123", "new_password2": "Admin@123"})
    assert refused.status_code == 400
    assert PasswordReset.objects.get(user=member).status == ResetStatus.SENT  # still usable


def test_21_14_no_address_no_reset(cast):
    member = cast.users["member_a"]
    done = cast.client("sysadmin").post(f"/account/users/{member.pk}/reset-password/", follow=True)
    assert "未登记电子邮箱" in done.content.decode()
    assert not PasswordReset.objects.exists() and mail.outbox == []
    assert AuditEvent.objects.filter(event="password_reset_refused", detail__why="no_email").count() == 1


def test_21_14_django_admin_offers_no_set_password_form(cast):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("breakglass", password=PASSWORD)
    admin = Client()
    admin.force_login(root)
    member = cast.users["member_a"]
    assert admin.get(f"/django-admin/auth/user/{member.pk}/password/").status_code == 403
    assert (
        admin.post(
            f"/django-admin/auth/user/{member.pk}/password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
        ).status_code
        == 403
    )
    assert admin.get("/django-admin/auth/user/add/").status_code == 403
    assert admin.get("/django-admin/knox/authtoken/add/").status_code == 403
    assert not Client().login(username="member_a", password=NEW_PASSWORD)
