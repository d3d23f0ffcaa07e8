"""AUD-1..5: events, append-only storage, hash chain verification, retention purge, atomicity;
the auditor's search page and its audited, watermarked export (DATA-5)."""

from __future__ import annotations

import io
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from openpyxl import load_workbook

from audit.models import AuditChainHead, AuditEvent
from audit.services import audit_log, audit_purge, audit_verify
from organizations.choices import OrgType
from organizations.models import Organization
from tests.factories import make_org
from tests.security.helpers import audit_trigger_disabled

pytestmark = pytest.mark.django_db


def test_update_and_delete_of_audit_rows_are_refused_by_the_database(cast):
    row = audit_log(event="probe", detail={"n": 1})
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        AuditEvent.objects.filter(pk=row.pk).update(detail={"n": 2})
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET username = 'x' WHERE id = %s", [row.pk])
    if connection.vendor == "postgresql":  # on SQLite DELETE stays open for the test flush (see migration)
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=row.pk).delete()
    assert AuditEvent.objects.get(pk=row.pk).detail == {"n": 1}


def test_deleting_users_and_organizations_leaves_audit_rows_untouched(cast):
    empty = make_org("空支部", OrgType.BRANCH, parent=cast.P)
    audit_log(event="probe", user=cast.users["outsider"], organization=empty)
    from organizations.services import organization_delete

    organization_delete(org=empty)
    cast.users["outsider"].delete()
    assert audit_verify() == []
    assert AuditEvent.objects.filter(event="probe", username="outsider").exists()


def test_verify_command_reports_tampered_rows_and_exits_non_zero(cast):
    rows = [audit_log(event="probe", detail={"n": i}) for i in range(4)]
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "校验通过" in out.getvalue()
    with audit_trigger_disabled():
        AuditEvent.objects.filter(pk=rows[1].pk).update(username="mallory")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("audit_verify", stdout=out)
    assert f"id={rows[1].pk}" in out.getvalue()


def test_purge_keeps_rows_within_retention_and_the_chain_verifies(cast):
    old = [audit_log(event="old", detail={"n": i}) for i in range(3)]
    recent = [audit_log(event="recent", detail={"n": i}) for i in range(2)]
    with audit_trigger_disabled():  # time travel: the first three rows are 200 days old
        AuditEvent.objects.filter(pk__in=[r.pk for r in old]).update(created_at=timezone.now() - timedelta(days=200))
        AuditEvent.objects.filter(pk__lte=old[-1].pk).exclude(pk__in=[r.pk for r in old]).update(
            created_at=timezone.now() - timedelta(days=200)
        )
    # re-chain after the time travel (the test edited rows; production never does)
    _rechain()
    assert audit_verify() == []
    assert audit_purge(now=timezone.now() - timedelta(days=20)) == 0  # 180 days: nothing is old enough
    deleted = audit_purge()
    assert deleted >= 3
    assert not AuditEvent.objects.filter(event="old").exists()
    assert AuditEvent.objects.filter(event="recent").count() == 2
    purge = AuditEvent.objects.get(event="audit_purge")
    assert purge.detail["deleted"] == deleted and purge.detail["retention_days"] == 190
    assert audit_verify() == []  # verifiable from the first remaining row
    # deleting the head of the chain without a purge record is detected
    with audit_trigger_disabled():
        AuditEvent.objects.filter(pk=recent[0].pk).delete()
    assert audit_verify() == [recent[1].pk]


def test_purge_anchor_hash_that_looks_like_a_mobile_number_is_kept_and_the_chain_verifies(cast):
    """About one purge in a hundred: the anchor's prev_hash (a hex digest) holds an 11-digit run
    starting with 1. The purge record must keep it as written, not mask it as a phone number."""
    from audit.services import _PHONE_RE, _hash

    old = [audit_log(event="old", detail={"n": i}) for i in range(2)]
    audit_log(event="recent")
    with audit_trigger_disabled():
        AuditEvent.objects.filter(pk__lte=old[-1].pk).update(created_at=timezone.now() - timedelta(days=200))
    _rechain()
    last_old = AuditEvent.objects.get(pk=old[-1].pk)
    for n in range(100_000):  # choose the last purged row's content so that its hash looks like one
        last_old.detail = {"n": n}
        if _PHONE_RE.search(_hash(last_old.prev_hash, last_old)):
            break
    with audit_trigger_disabled():
        AuditEvent.objects.filter(pk=last_old.pk).update(detail=last_old.detail)
    _rechain()
    anchor_prev_hash = AuditEvent.objects.get(pk=old[-1].pk).row_hash
    assert _PHONE_RE.search(anchor_prev_hash)
    assert audit_purge() >= 2
    assert AuditEvent.objects.get(event="audit_purge").detail["anchor_prev_hash"] == anchor_prev_hash
    assert audit_verify() == []


def test_a_purge_record_written_with_the_masked_anchor_still_anchors_the_chain(cast):
    """Before the fix the purge record held the masked hash; chains purged then still verify."""
    from audit.services import _PHONE_RE, _scrub

    audit_log(event="old")
    for n in range(100_000):
        row = audit_log(event="first-kept", detail={"n": n})
        if _PHONE_RE.search(row.prev_hash):
            break
    with audit_trigger_disabled():  # what an old purge left: rows before the anchor gone, a masked anchor
        AuditEvent.objects.filter(pk__lt=row.pk).delete()
    masked = _scrub(row.prev_hash)
    assert masked != row.prev_hash
    audit_log(event="audit_purge", detail={"deleted": 1, "anchor_id": row.pk, "anchor_prev_hash": masked})
    assert audit_verify() == []


def test_personal_numbers_in_the_detail_are_still_masked_beside_system_fields(cast):
    row = audit_log(event="probe", detail={"note": "13812345678"}, system_detail={"digest": "ab13812345678cd"})
    stored = AuditEvent.objects.get(pk=row.pk).detail
    assert stored == {"note": "138****5678", "digest": "ab13812345678cd"}
    assert audit_verify() == []


def _rechain() -> None:
    from audit.services import _hash

    prev = ""
    with audit_trigger_disabled():
        for row in AuditEvent.objects.order_by("id"):
            row.prev_hash = prev
            row.row_hash = _hash(prev, row)
            AuditEvent.objects.filter(pk=row.pk).update(prev_hash=row.prev_hash, row_hash=row.row_hash)
            prev = row.row_hash
    AuditChainHead.objects.filter(pk=1).update(last_hash=prev)  # the head follows the rewritten chain


def test_retention_cannot_go_below_190_days(cast, settings):
    audit_log(event="probe")
    with audit_trigger_disabled():
        AuditEvent.objects.update(created_at=timezone.now() - timedelta(days=100))
    _rechain()
    assert audit_purge(retention_days=30) == 0


def test_purge_task_is_scheduled_and_runs(cast):
    from audit.tasks import purge_expired

    assert purge_expired.delay().get() == 0


def test_business_write_rolls_back_when_the_audit_insert_fails(cast):
    """AUD-5: the audit insert is part of the action's transaction."""
    before = Organization.objects.count()
    failing = mock.patch.object(AuditEvent, "save", side_effect=DatabaseError("audit store down"))
    with failing, pytest.raises(DatabaseError):
        make_org("不该存在的支部", OrgType.BRANCH, parent=cast.P)
    assert Organization.objects.count() == before
    assert not Organization.objects.filter(name="不该存在的支部").exists()


def test_audit_records_carry_time_user_role_address_and_request_id(cast):
    client = cast.client("auditor_p")
    client.get("/audit/", REMOTE_ADDR="192.0.2.7")
    row = AuditEvent.objects.get(event="audit_query")
    assert row.username == "auditor_p" and row.roles == "auditor" and row.ip_address == "192.0.2.7"
    assert row.created_at and len(row.request_id) == 32 and row.outcome == "success"


def test_client_address_from_the_proxy_header(cast, settings):
    settings.PB_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    cast.client("auditor_p").get("/audit/", HTTP_X_REAL_IP="198.51.100.4", REMOTE_ADDR="127.0.0.1")
    assert AuditEvent.objects.get(event="audit_query").ip_address == "198.51.100.4"


# Written the way a client, a proxy or an IPv6 stack may write them; PostgreSQL's inet column gives
# each back in one form, and Django's IPv6 cleaning on the way in another; the form hashed is a
# fixed point of both (otherwise the row never verifies).
ADDRESS_SPELLINGS = [
    ("192.0.2.7", "192.0.2.7"),
    ("2001:0DB8::0001", "2001:db8::1"),
    ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
    ("fe80::1%eth0", "fe80::1"),
    ("::ffff:198.51.100.4", "198.51.100.4"),
    ("::ffff:c633:6404", "198.51.100.4"),
    ("::1", "::1"),
    ("::1:2", "0.1.0.2"),
    ("::192.0.2.9", "192.0.2.9"),
    ("::ffff", "::ffff"),
    ("0:0:0:0:1::", "::1:0:0:0"),
]


@pytest.mark.parametrize("written,canonical", ADDRESS_SPELLINGS)
def test_an_address_written_any_way_is_stored_as_read_back_and_the_chain_verifies(cast, written, canonical):
    from django.utils.ipv6 import clean_ipv6_address

    from audit.request_context import canonical_ip

    assert canonical_ip(written) == canonical
    assert ":" not in canonical or clean_ipv6_address(canonical) == canonical
    if connection.vendor == "postgresql":  # the rule follows PostgreSQL's own output for inet
        with connection.cursor() as cursor:
            cursor.execute("SELECT host(%s::inet)", [canonical])  # a fixed point of inet
            assert cursor.fetchone()[0] == canonical
    cast.client("auditor_p").get("/audit/", REMOTE_ADDR=written)
    row = AuditEvent.objects.get(event="audit_query")
    assert row.ip_address == canonical
    assert audit_verify() == []


def test_a_proxy_header_that_is_no_address_gives_none_and_no_error(cast, settings):
    settings.PB_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    response = cast.client("auditor_p").get("/audit/", HTTP_X_REAL_IP="<script>", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert AuditEvent.objects.get(event="audit_query").ip_address is None
    assert audit_verify() == []


def test_one_address_written_two_ways_is_one_lockout_key(rf, settings):
    from audit.request_context import client_ip

    settings.PB_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    spelled = [rf.get("/", HTTP_X_REAL_IP=ip) for ip in ("2001:db8::1", "2001:0DB8:0:0::0001", "2001:db8::1%25x")]
    assert {client_ip(request) for request in spelled} == {"2001:db8::1"}


def test_auditor_search_filters_and_scope(cast):
    audit_log(event="probe", organization=cast.A, detail={"x": 1})
    audit_log(event="probe", organization=cast.Q, detail={"x": "Q-only"})
    audit_log(event="other", organization=cast.B)
    client = cast.client("auditor_p")  # auditor of P: sees P's subtree and org-less events (P is a root)
    html = client.get("/audit/", {"event": "probe"}).content.decode()
    assert "Q-only" not in html and "&#x27;x&#x27;: 1" in html
    assert "共 1 条" in html
    assert client.get("/audit/", {"org": cast.B.code, "event": "other"}).content.decode().count("<tr>") == 2
    assert client.get("/audit/", {"start": "2020-01-02", "end": "2020-01-01"}).status_code == 400
    assert client.get("/audit/", {"start": "not-a-date"}).status_code == 400
    today = timezone.localdate().isoformat()
    assert "共" in client.get("/audit/", {"start": today, "end": today, "username": "auditor_p"}).content.decode()


def test_audit_page_paginates_with_constant_queries(cast):
    from django.test.utils import CaptureQueriesContext

    client = cast.client("auditor_p")
    client.get("/audit/")
    with CaptureQueriesContext(connection) as small:
        client.get("/audit/")
    for i in range(120):
        audit_log(event="probe", organization=cast.A, detail={"i": i})
    with CaptureQueriesContext(connection) as large:
        response = client.get("/audit/", {"page": 2})
    assert len(small) == len(large)
    assert "第 2 / " in response.content.decode()


def test_export_is_watermarked_audited_and_scoped(cast):
    audit_log(event="probe", organization=cast.A, detail={"x": "in-scope"})
    audit_log(event="probe", organization=cast.Q, detail={"x": "泄露探针Q"})
    response = cast.client("auditor_p").get("/audit/export/", {"event": "probe"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.active
    text = "\n".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
    assert "in-scope" in text and "泄露探针Q" not in text
    assert "导出人：auditor_p" in sheet["A2"].value and "导出时间" in sheet["A2"].value
    assert "auditor_p" in sheet.oddHeader.center.text and "auditor_p" in book.properties.creator
    export = AuditEvent.objects.get(event="export")
    assert export.detail["rows"] == 1 and export.detail["masked"] is True and export.username == "auditor_p"


def test_export_helper_neutralises_formulas(cast, rf):
    from audit.exports import xlsx_response

    request = rf.get("/x")
    request.user = cast.users["secretary_a"]
    response = xlsx_response(
        rows=[['=HYPERLINK("http://evil")', 1]], headers=["a", "b"], filename="测试.xlsx", request=request, title="t"
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A4"].value.startswith("'=")
    assert "filename*=UTF-8''%E6%B5%8B%E8%AF%95.xlsx" in response["Content-Disposition"]


# AUD-1: one test per event type, exactly one record each. Domain CUD events (members, dues,
# meetings, ratings) and view_full_id are covered by the helpers that emit them.
def _login_events(cast):
    from django.test import Client

    from tests.security.conftest import login, set_password

    set_password(cast.users["member_a"])
    client = Client()
    login(client, "member_a", "bad")
    login(client, "member_a")
    client.post("/logout/")


@pytest.mark.parametrize("event", ["login", "login_failed", "logout"])
def test_each_login_event_is_one_record(cast, event):
    _login_events(cast)
    assert AuditEvent.objects.filter(event=event).count() == 1


def test_access_denied_is_recorded(cast):
    assert cast.client("secretary_a").get("/audit/").status_code == 403
    assert AuditEvent.objects.filter(event="access_denied", outcome="failure").count() == 1


def test_audit_query_is_recorded(cast):
    cast.client("auditor_p").get("/audit/", {"username": "x"})
    assert AuditEvent.objects.filter(event="audit_query").count() == 1


def test_exports_are_recorded_with_row_count(cast):
    cast.client("auditor_p").get("/audit/export/")
    assert AuditEvent.objects.filter(event="export").count() == 1


def test_no_full_id_numbers_in_any_record(cast):
    import re

    audit_log(event="probe", detail={"id": "110101199003071234", "note": "电话13912345678"})
    pattern = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)|(?<!\d)1[3-9]\d{9}(?!\d)")
    for row in AuditEvent.objects.values_list("detail", "object_id", "username"):
        assert not pattern.search(str(row))
