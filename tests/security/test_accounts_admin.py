"""AUTH-4 no default accounts, AUTH-5 dormant and departed accounts, AC-5 三员 separation of duties."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from accounts import services
from accounts.models import AccountSecurity
from audit.models import AuditEvent
from core.roles import Role
from tests.factories import UserFactory, assign
from tests.security.conftest import PASSWORD, login, set_password

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def secadmin(cast):
    user = UserFactory(username="secadmin")
    assign(user, cast.P, Role.SECADMIN)
    return user


# --- AUTH-4 -------------------------------------------------------------------------------------


def test_fresh_install_has_no_accounts():
    assert User.objects.count() == 0  # migrations create no user, so no default password exists


def test_create_first_admin_random_password_forced_change(capsys):
    call_command("create_first_admin", username="root")
    out = capsys.readouterr().out
    password = out.split("临时密码（只显示这一次）：")[1].split()[0]
    assert len(password) >= 20
    user = User.objects.get(username="root")
    assert user.is_superuser and user.check_password(password)
    assert AccountSecurity.objects.get(user=user).must_change_password
    client = Client()
    login(client, "root", password)
    assert client.get("/")["Location"].startswith("/account/password/")
    with pytest.raises(CommandError):
        call_command("create_first_admin", username="root2")


def test_two_first_admins_get_different_passwords(capsys):
    call_command("create_first_admin", username="a1")
    first = capsys.readouterr().out
    User.objects.all().delete()
    call_command("create_first_admin", username="a1")
    second = capsys.readouterr().out
    assert first.split("：")[-1] != second.split("：")[-1]


def test_sysadmin_creates_accounts_with_one_time_passwords(cast):
    user, password = services.user_create(actor=cast.users["sysadmin"], username="newbie", full_name="新人")
    assert AccountSecurity.objects.get(user=user).must_change_password
    assert AuditEvent.objects.filter(event="user_create", object_id=str(user.pk)).count() == 1
    client = Client()
    login(client, "newbie", password)
    assert client.get("/")["Location"].startswith("/account/password/")
    with pytest.raises(ValidationError):
        services.user_create(actor=cast.users["sysadmin"], username="NEWBIE")


# --- AUTH-5 -------------------------------------------------------------------------------------


def test_dormant_accounts_are_disabled_by_the_job(cast):
    now = timezone.now()
    stale, fresh = cast.users["secretary_b"], cast.users["member_a"]
    User.objects.filter(pk=stale.pk).update(last_login=now - timedelta(days=91))
    User.objects.filter(pk=fresh.pk).update(last_login=now - timedelta(days=89))
    never = UserFactory(username="never")
    User.objects.filter(pk=never.pk).update(date_joined=now - timedelta(days=100), last_login=None)
    from accounts.tasks import disable_dormant_accounts

    assert disable_dormant_accounts.delay().get() >= 2
    stale.refresh_from_db()
    fresh.refresh_from_db()
    never.refresh_from_db()
    assert not stale.is_active and not never.is_active and fresh.is_active
    assert AuditEvent.objects.filter(event="user_deactivate", detail__reason="dormant").count() >= 2
    before = AuditEvent.objects.filter(event="user_deactivate").count()
    call_command("disable_dormant_accounts")  # idempotent: nothing left to disable
    assert AuditEvent.objects.filter(event="user_deactivate").count() == before


def test_dormant_job_is_in_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"accounts.disable_dormant_accounts", "audit.purge_expired"} <= tasks


def test_member_transferred_out_loses_access(cast):
    user = cast.users["member_a"]
    set_password(user)
    client = Client()
    login(client, "member_a")
    assert client.get("/").status_code == 200
    record = cast.member_a_record
    record.membership_status = "transferred_out"
    record.save()
    user.refresh_from_db()
    assert not user.is_active
    assert client.get("/").status_code == 302  # the open session ends
    assert login(Client(), "member_a").status_code == 200  # the login form again


def test_backend_refuses_departed_member_even_if_still_active(cast):
    from members.models import Member

    user = cast.users["member_a"]
    set_password(user)
    Member.objects.filter(pk=cast.member_a_record.pk).update(membership_status="transferred_out")  # bulk: no signal
    assert User.objects.get(pk=user.pk).is_active
    assert login(Client(), "member_a").status_code == 200


# --- AC-5 三员 -----------------------------------------------------------------------------------


def test_no_user_holds_two_admin_roles_service(cast, secadmin):
    target = UserFactory(username="ops")
    services.role_grant(actor=secadmin, user=target, organization=cast.P, role=Role.AUDITOR)
    with pytest.raises(ValidationError, match="专人专岗|三员"):
        services.role_grant(actor=secadmin, user=target, organization=cast.A, role=Role.SYSADMIN)
    with pytest.raises(ValidationError):
        services.role_grant(actor=secadmin, user=target, organization=cast.A, role=Role.SECRETARY)
    with pytest.raises(ValidationError):
        services.role_grant(actor=secadmin, user=cast.users["secretary_a"], organization=cast.A, role=Role.SECADMIN)
    assert AuditEvent.objects.filter(event="role_grant").count() == 1


def test_no_user_holds_two_admin_roles_database(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        assign(cast.users["sysadmin"], cast.A, Role.AUDITOR)


def test_only_secadmin_grants_roles_and_not_to_itself(cast, secadmin):
    target = UserFactory(username="t1")
    with pytest.raises(PermissionDenied):
        services.role_grant(actor=cast.users["sysadmin"], user=target, organization=cast.A, role=Role.SECRETARY)
    with pytest.raises(PermissionDenied):
        services.role_grant(actor=cast.users["org_admin_p"], user=target, organization=cast.A, role=Role.SECRETARY)
    with pytest.raises(ValidationError):
        services.role_grant(actor=secadmin, user=secadmin, organization=cast.A, role=Role.SECRETARY)
    with pytest.raises(ValidationError):  # outside the secadmin's subtree
        services.role_grant(actor=secadmin, user=target, organization=cast.Q, role=Role.SECRETARY)
    assignment = services.role_grant(actor=secadmin, user=target, organization=cast.A, role=Role.SECRETARY)
    services.role_revoke(actor=secadmin, assignment=assignment)
    assert AuditEvent.objects.filter(event__in=["role_grant", "role_revoke"]).count() == 2


def test_sysadmin_cannot_read_member_data_or_the_audit_log(cast):
    client = cast.client("sysadmin")
    assert client.get("/audit/").status_code == 403
    from members.models import Member

    assert not Member.objects.visible_to(cast.users["sysadmin"]).exists()
    assert client.get("/account/users/").status_code == 200


def test_secadmin_cannot_browse_member_data_or_the_audit_log(cast, secadmin):
    from members.models import Member

    assert not Member.objects.visible_to(secadmin).exists()
    client = Client()
    client.force_login(secadmin)
    assert client.get("/audit/").status_code == 403
    assert client.get("/account/users/").status_code == 200
    assert client.post("/account/users/new/", {"username": "x"}).status_code == 403  # accounts are the sysadmin's


def test_auditor_reads_the_audit_log_but_not_accounts(cast):
    client = cast.client("auditor_p")
    assert client.get("/audit/").status_code == 200
    assert client.get("/account/users/").status_code == 403
    assert cast.client("org_admin_p").get("/audit/").status_code == 403
    assert cast.client("secretary_a").get("/audit/").status_code == 403


def test_user_pages_search_paginate_and_take_constant_queries(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = cast.client("sysadmin")
    client.get("/account/users/")
    with CaptureQueriesContext(connection) as small:
        client.get("/account/users/")
    for i in range(30):
        assign(UserFactory(username=f"bulk{i}"), cast.A, Role.SECRETARY)
    client.get("/account/users/")  # role changes retire the cached scopes (#20.1): warm again
    with CaptureQueriesContext(connection) as large:
        response = client.get("/account/users/")
    assert len(small) == len(large)
    assert "bulk29" in response.content.decode()
    found = client.get("/account/users/", {"q": "bulk1"}).content.decode()
    assert "bulk12" in found and "secretary_a" not in found
    assert client.get("/account/users/", {"page": "x"}).status_code == 400


def test_account_actions_through_the_pages(cast, secadmin):
    sysadmin = cast.client("sysadmin")
    target = cast.users["secretary_b"]
    confirm = sysadmin.get(f"/account/users/{target.pk}/deactivate/")
    assert confirm.status_code == 200 and "确定" in confirm.content.decode()
    assert sysadmin.post(f"/account/users/{target.pk}/deactivate/").status_code == 302
    target.refresh_from_db()
    assert not target.is_active
    reset = sysadmin.post(f"/account/users/{target.pk}/reset-password/", follow=True)
    page = reset.content.decode()
    assert "临时密码" not in page and "已停用" in page  # no password shown; a disabled account gets no link (#21.14)
    sec = Client()
    sec.force_login(secadmin)
    response = sec.post(f"/account/users/{target.pk}/roles/", {"role": "auditor", "org_code": cast.A.code})
    assert response.status_code == 400 and "专人专岗" in response.content.decode()
    ok = sec.post(f"/account/users/{target.pk}/roles/", {"role": "member", "org_code": cast.B.code})
    assert ok.status_code == 400  # no member record linked
    assert sec.post(f"/account/users/{target.pk}/deactivate/").status_code == 403


def test_security_parameters_set_by_secadmin_and_audited(cast, secadmin):
    client = Client()
    client.force_login(secadmin)
    page = client.get("/account/security/")
    assert page.status_code == 200
    data = {
        "password_max_age_days": 60,
        "password_history_count": 5,
        "lockout_failure_limit": 5,
        "lockout_cooloff_minutes": 20,
        "dormant_days": 90,
        "session_absolute_hours": 8,
        "audit_retention_days": 190,
    }
    assert client.post("/account/security/", {**data, "audit_retention_days": 100}).status_code == 200
    assert client.post("/account/security/", {**data, "password_max_age_days": 120}).status_code == 200
    assert client.post("/account/security/", data).status_code == 302
    event = AuditEvent.objects.get(event="security_setting_change")
    assert event.detail["changes"]["password_max_age_days"] == [90, 60]
    from accounts.policy import security_policy

    assert security_policy().lockout_cooloff_minutes == 20
    assert cast.client("sysadmin").post("/account/security/", data).status_code == 403


def test_password_never_in_audit_records(cast):
    set_password(cast.users["member_a"])
    login(Client(), "member_a", "Wr0ng!secret")
    login(Client(), "member_a", PASSWORD)
    for detail in AuditEvent.objects.values_list("detail", flat=True):
        assert PASSWORD not in str(detail) and "Wr0ng!secret" not in str(detail)
