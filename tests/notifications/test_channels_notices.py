"""Notices (通知) through the personal channels (#19 item 3): the sender ticks SMS / 企业微信 / 钉钉,
each recipient gets one outbox row per channel (same rows, idempotency key, opt-outs, SMS quiet
hours and monthly budget as reminders), and a re-submitted form sends nothing twice."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from notifications.models import ChannelAddress, Notice, OutboxMessage, OutboxStatus
from notifications.services import personal
from notifications.services.inbox import preference_update
from notifications.services.notices import notice_send
from notifications.services.outbox import outbox_deliver
from notifications.services.sweep import notifications_sweep
from tests.notifications.conftest import sms_settings, wecom_settings

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def fake(vendors, settings):
    settings.PB_SMS = sms_settings(vendors)
    settings.PB_WECOM = wecom_settings(vendors)
    return vendors


@pytest.fixture
def member(cast):
    record = cast.member_a_record
    record.set_phone("13800138000")
    record.save()
    ChannelAddress.objects.create(user=cast.users["member_a"], wecom_userid="zhangsan")
    return record


def send(cast, **kw) -> Notice:
    values = {
        "sender": cast.users["secretary_a"],
        "organization": cast.A,
        "title": "周五主题党日",
        "body": "下午三点，三楼会议室。" * 100,  # a long notice: the work apps get its start
        "channels": ["sms", "wecom"],
    }
    values.update(kw)
    return notice_send(**values)


def rows(notice: Notice) -> dict[str, OutboxMessage]:
    return {row.channel: row for row in OutboxMessage.objects.filter(notification__notice=notice)}


def deliver_all() -> None:
    for pk in OutboxMessage.objects.filter(status=OutboxStatus.PENDING).values_list("pk", flat=True):
        outbox_deliver(message_id=pk)


def test_notice_reaches_the_member_once_by_sms_and_wecom(cast, member, fake, clock):
    token = uuid.uuid4()
    notice = send(cast, client_token=token)
    assert send(cast, client_token=token).pk == notice.pk  # re-submitted: nothing new
    found = rows(notice)
    assert set(found) == {"sms", "wecom"} and notice.channels == ["sms", "wecom"]
    assert found["sms"].body.startswith("【党建通知】") and found["sms"].segments == 1
    assert found["sms"].to_address == "138****8000"
    assert len(found["wecom"].body) == personal.WORK_APP_BODY_CHARS and found["wecom"].body.endswith("…")
    deliver_all()
    assert [d["mobile"] for d in fake.delivered["sms"]] == ["13800138000"]
    [card] = fake.delivered["wecom"]
    assert card["user"] == "zhangsan" and card["title"].startswith("【工作安排】周五主题党日")
    assert card["url"].endswith(f"/notifications/notices/{notice.pk}/read/")


def test_notice_resent_after_a_killed_worker_is_delivered_once(cast, member, fake, clock):
    notice = send(cast)
    for row in rows(notice).values():  # claimed, sent, the worker died before recording
        OutboxMessage.objects.filter(pk=row.pk).update(status=OutboxStatus.SENDING, claimed_at=clock.now, attempts=1)
        personal.send_personal(OutboxMessage.objects.select_related("notification").get(pk=row.pk))
    clock.now += timedelta(minutes=15)
    assert notifications_sweep().outbox_reset == 2
    deliver_all()
    assert {r.status for r in rows(notice).values()} == {OutboxStatus.SENT}
    assert len(fake.delivered["sms"]) == 1 and len(fake.delivered["wecom"]) == 1  # the same idempotency key


def test_notice_sms_at_night_waits_for_eight(cast, member, fake, clock):
    clock.now = datetime(2025, 4, 1, 22, 15, tzinfo=SHANGHAI)
    found = rows(send(cast))
    assert found["sms"].next_attempt_at == datetime(2025, 4, 2, 8, 0, tzinfo=SHANGHAI)
    assert found["wecom"].next_attempt_at == clock.now


def test_notice_respects_the_persons_switches(cast, member, fake, clock):
    preference_update(user=cast.users["member_a"], email_enabled=True, muted_rules=[], sms_enabled=False)
    assert set(rows(send(cast))) == {"wecom"}


def test_notice_sms_counts_against_the_monthly_budget(cast, member, fake, clock, settings):
    settings.PB_SMS_MONTHLY_BUDGET = 0
    sms_row = rows(send(cast))["sms"]
    assert outbox_deliver(message_id=sms_row.pk).status == "failed"
    sms_row.refresh_from_db()
    assert "额度已用完" in sms_row.last_error and fake.delivered["sms"] == []


def test_no_channels_ticked_inbox_only(cast, member, fake, clock):
    assert rows(send(cast, channels=[])) == {}


def test_unknown_or_unconfigured_channel_refused(cast, member, fake, clock):
    with pytest.raises(ValidationError, match="钉钉尚未开通"):
        send(cast, channels=["dingtalk"])
    with pytest.raises(ValidationError, match="未知的消息渠道"):
        send(cast, channels=["fax"])
    assert not Notice.objects.exists()


def test_notice_form_offers_configured_channels_only(cast, member, fake, clock, settings):
    client = cast.client("secretary_a")
    page = client.get("/notifications/notices/new/").content.decode()
    assert "同时发送到个人" in page and 'value="sms"' in page and 'value="wecom"' in page
    assert 'value="dingtalk"' not in page
    response = client.post(
        "/notifications/notices/new/",
        {
            "organization": cast.A.pk,
            "target": "organization",
            "audience": "members",
            "kind": "work_arrangement",
            "title": "周五主题党日",
            "body": "下午三点。",
            "channels": ["wecom"],
            "client_token": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    assert set(rows(Notice.objects.get())) == {"wecom"}
    settings.PB_SMS, settings.PB_WECOM = {}, {}
    assert "同时发送到个人" not in client.get("/notifications/notices/new/").content.decode()


def test_api_notice_with_channels(cast, member, fake, clock):
    api = cast.api("secretary_a")
    payload = {"organization": cast.A.pk, "title": "学习通知", "body": "第一章", "channels": ["sms"]}
    response = api.post("/api/v1/notices/", payload, format="json")
    assert response.status_code == 201 and response.json()["channels"] == ["sms"]
    assert set(rows(Notice.objects.get())) == {"sms"}
    bad = api.post("/api/v1/notices/", {**payload, "channels": ["fax"]}, format="json")
    assert bad.status_code == 400 and "channels" in bad.json()


def test_notice_with_robot_and_personal_channels_together(cast, member, fake, clock):
    from notifications.models import WebhookEndpoint

    WebhookEndpoint.objects.create(organization=cast.A, url="https://robot.example.org/hook")
    notice = send(cast, send_webhook=True)
    assert set(rows(notice)) == {"sms", "wecom"}
    robot = OutboxMessage.objects.get(notice=notice, channel="webhook")
    assert robot.max_attempts == 6 and robot.notification_id is None
