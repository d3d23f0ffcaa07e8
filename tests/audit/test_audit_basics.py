"""Audit log basics: authentication events, hash chain, scrubbing of personal data."""
import pytest
from django.test import Client

from audit.models import AuditEvent
from audit.services import audit_log, audit_verify
from tests.security.helpers import audit_trigger_disabled

pytestmark = pytest.mark.django_db


def test_login_success_failure_and_logout_each_write_one_row(cast):
    user = cast.users["secretary_a"]
    user.set_password("Login!test1")
    user.save()
    client = Client()
    client.post("/login/", {"username": "secretary_a", "password": "wrong"})
    assert AuditEvent.objects.filter(event="login_failed", outcome="failure").count() == 1
    client.post("/login/", {"username": "secretary_a", "password": "Login!test1"})
    row = AuditEvent.objects.get(event="login")
    assert row.username == "secretary_a" and row.roles == "secretary" and row.ip_address == "127.0.0.1"
    assert len(row.request_id) == 32
    client.post("/logout/")
    assert AuditEvent.objects.filter(event="logout").count() == 1


def test_chain_detects_edited_and_deleted_rows(cast):
    rows = [audit_log(event="test", user=cast.users["org_admin_p"], detail={"n": i}) for i in range(5)]
    assert audit_verify() == []
    with audit_trigger_disabled():  # the application itself cannot edit rows (tests/security)
        AuditEvent.objects.filter(pk=rows[2].pk).update(detail={"n": 99})
        assert audit_verify() == [rows[2].pk]
        AuditEvent.objects.filter(pk=rows[2].pk).update(detail={"n": 2})
        AuditEvent.objects.filter(pk=rows[3].pk).delete()
    assert audit_verify() == [rows[4].pk]


def test_no_full_id_numbers_phones_or_passwords_in_records(cast):
    record = audit_log(event="test", detail={"note": "身份证 11010119900307123X 电话 13812345678", "password": "x"})
    text = str(record.detail)
    assert "11010119900307123X" not in text and "11**************3X" in text
    assert "13812345678" not in text and "138****5678" in text
    assert "password" not in record.detail
