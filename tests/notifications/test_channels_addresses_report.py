"""Channel addresses imported from a spreadsheet (preview, then all or nothing) and the delivery
report page for the org_admin (#19.2, #19.3)."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from openpyxl import Workbook

from notifications.models import ChannelAddress, OutboxMessage, OutboxStatus
from notifications.services.addresses import COLUMNS, channel_address_import

pytestmark = pytest.mark.django_db


def sheet(*rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(COLUMNS))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_preview_then_commit_saves_addresses(cast):
    data = sheet(("member_a", "zhangsan", "ding-001"))
    preview = channel_address_import(user=cast.users["org_admin_p"], organization=cast.P, data=data, commit=False)
    assert preview.errors == [] and len(preview.rows) == 1 and not ChannelAddress.objects.exists()
    done = channel_address_import(user=cast.users["org_admin_p"], organization=cast.P, data=data, commit=True)
    assert done.saved == 1
    address = ChannelAddress.objects.get(user=cast.users["member_a"])
    assert (address.wecom_userid, address.dingtalk_userid) == ("zhangsan", "ding-001")


def test_bad_rows_listed_and_nothing_saved(cast):
    data = sheet(
        ("member_a", "zhang san", ""),  # a space: 企业微信 rejects it
        ("secretary_a", "x", ""),  # no member record in the subtree
        ("member_a", "", "d1"),  # repeated
    )
    preview = channel_address_import(user=cast.users["org_admin_p"], organization=cast.P, data=data, commit=False)
    assert any("企业微信账号只能包含" in e for e in preview.errors)
    assert any("不存在或不是本组织的党员" in e for e in preview.errors)
    assert any("重复" in e for e in preview.errors)
    with pytest.raises(ValidationError):
        channel_address_import(user=cast.users["org_admin_p"], organization=cast.P, data=data, commit=True)
    assert not ChannelAddress.objects.exists()


def test_wrong_header_and_not_xlsx_refused(cast):
    wb = Workbook()
    wb.active.append(["姓名", "手机"])
    out = io.BytesIO()
    wb.save(out)
    result = channel_address_import(
        user=cast.users["org_admin_p"], organization=cast.P, data=out.getvalue(), commit=False
    )
    assert "表头应为" in result.errors[0]
    as_csv = channel_address_import(user=cast.users["org_admin_p"], organization=cast.P, data=b"name,id", commit=False)
    assert "表头应为" in as_csv.errors[0]  # a CSV with the wrong header
    for junk in (b"%PDF-1.4\x00\xff\xfe", b"", b"PK\x03\x04broken zip"):
        with pytest.raises(ValidationError, match="XLSX"):
            channel_address_import(user=cast.users["org_admin_p"], organization=cast.P, data=junk, commit=False)


def test_only_org_admin_imports(cast):
    with pytest.raises(PermissionDenied):
        channel_address_import(user=cast.users["secretary_a"], organization=cast.A, data=sheet(), commit=False)


def outbox(org, channel, status, error="") -> OutboxMessage:
    return OutboxMessage.objects.create(
        channel=channel, organization=org, status=status, subject="s", last_error=error, next_attempt_at=timezone.now()
    )


def test_delivery_report_page_for_org_admin(cast, django_assert_max_num_queries):
    outbox(cast.A, "sms", OutboxStatus.SENT)
    outbox(cast.A, "sms", OutboxStatus.FAILED, "短信网关拒绝：号码无效")
    outbox(cast.B, "wecom", OutboxStatus.SENT)
    outbox(cast.Q, "sms", OutboxStatus.SENT)  # another unit: not counted
    client = cast.client("org_admin_p")
    url = f"/notifications/rules/{cast.P.pk}/deliveries/"
    client.get(url)  # warm session/caches
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.status_code == 200
    report = response.context["report"]
    by_channel = {(r["channel"], r["sent"], r["failed"]) for r in report.rows}
    assert by_channel == {("sms", 1, 1), ("wecom", 1, 0)}
    assert "号码无效" in response.content.decode()
    assert cast.client("secretary_a").get(f"/notifications/rules/{cast.A.pk}/deliveries/").status_code == 403


def test_preferences_page_switches_personal_channels(cast):
    from notifications.models import NotificationPreference

    client = cast.client("member_a")
    page = client.get("/notifications/settings/").content.decode()
    assert "同时通过短信接收提醒" in page and "企业微信" in page
    assert client.post("/notifications/settings/", {"email_enabled": "on", "wecom_enabled": "on"}).status_code == 302
    pref = NotificationPreference.objects.get(user=cast.users["member_a"])
    assert (pref.sms_enabled, pref.wecom_enabled, pref.dingtalk_enabled) == (False, True, False)
