"""Personal channels through the outbox (#19): a member 3 months in arrears gets exactly one SMS
and one 企业微信 message, the SMS at 08:00 when the scan ran at night, also when the worker is
killed mid-send and the token expired in between; retry on busy, permanent failure on an invalid
user, opt-outs, the monthly SMS budget."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from members.dues.services.fixings import dues_fixing_create
from notifications.models import (
    ChannelAddress,
    Notification,
    OutboxMessage,
    OutboxStatus,
    SmsBudget,
)
from notifications.rules import MEMBER, RULES
from notifications.services import personal
from notifications.services.inbox import preference_update
from notifications.services.outbox import outbox_deliver
from notifications.services.runs import reminder_run_inline
from notifications.services.sweep import notifications_sweep
from tests.notifications.conftest import sms_settings, wecom_settings

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
RULE = "dues_arrears_warning"


@pytest.fixture
def fake(vendors, settings):
    settings.PB_SMS = sms_settings(vendors, transient_pattern=r'"code": "100[12]"')
    settings.PB_WECOM = wecom_settings(vendors)
    return vendors


@pytest.fixture
def member(cast):
    record = cast.member_a_record
    record.set_phone("13800138000")
    record.save()
    ChannelAddress.objects.create(user=cast.users["member_a"], wecom_userid="zhangsan")
    dues_fixing_create(member=record, year=2025, category="employed", base=Decimal("5100"), fixed_on=date(2025, 1, 5))
    return record


def member_rows(cast) -> dict[str, OutboxMessage]:
    rows = OutboxMessage.objects.filter(notification__recipient=cast.users["member_a"], notification__rule=RULE)
    return {row.channel: row for row in rows}


def deliver_all() -> list[str]:
    ids = OutboxMessage.objects.filter(status=OutboxStatus.PENDING).values_list("pk", flat=True)
    return [outbox_deliver(message_id=pk).status for pk in ids]


def crash_mid_send(row: OutboxMessage) -> None:
    """A worker claims the row, the vendor accepts the message, the worker dies before recording."""
    claimed = OutboxMessage.objects.filter(pk=row.pk, status=OutboxStatus.PENDING).update(
        status=OutboxStatus.SENDING, claimed_at=timezone.now(), attempts=1
    )
    assert claimed == 1
    personal.send_personal(OutboxMessage.objects.select_related("notification").get(pk=row.pk))


def test_night_scan_one_sms_at_eight_and_one_wecom_despite_crash_and_expired_token(cast, member, fake, clock):
    clock.set(2025, 4, 1, 22, 30)
    reminder_run_inline(on=date(2025, 4, 1))
    rows = member_rows(cast)
    assert set(rows) == {"email", "sms", "wecom"} or set(rows) >= {"sms", "wecom"}
    assert rows["sms"].next_attempt_at == datetime(2025, 4, 2, 8, 0, tzinfo=SHANGHAI)
    assert rows["sms"].segments == 1 and "党费" in rows["sms"].body

    crash_mid_send(rows["wecom"])  # the 企业微信 message went out, the worker died
    assert outbox_deliver(message_id=rows["sms"].pk).status == "skipped"  # the night: held
    assert fake.delivered["sms"] == []

    clock.set(2025, 4, 2, 8, 0, 30)
    fake.expire_tokens()
    assert notifications_sweep().outbox_reset == 1  # the dead worker's row back to PENDING
    crash_mid_send(member_rows(cast)["sms"])  # the SMS went out at 08:00, that worker died too
    clock.advance(minutes=15)
    notifications_sweep()
    deliver_all()

    rows = member_rows(cast)
    assert rows["sms"].status == rows["wecom"].status == OutboxStatus.SENT
    assert len(fake.delivered["sms"]) == 1 and len(fake.delivered["wecom"]) == 1
    assert fake.delivered["sms"][0]["mobile"] == "13800138000"
    assert fake.delivered["wecom"][0]["user"] == "zhangsan"
    assert len(fake.calls("/cgi-bin/gettoken")) == 2  # refreshed after the expiry code

    reminder_run_inline(on=date(2025, 4, 2))  # the next scan adds nothing
    assert len(member_rows(cast)) == len(rows)


def test_sms_scan_in_the_day_sent_at_once(cast, member, fake, clock):
    clock.set(2025, 4, 1, 10, 0)
    reminder_run_inline(on=date(2025, 4, 1))
    assert member_rows(cast)["sms"].next_attempt_at == clock.now
    assert member_rows(cast)["sms"].to_address == "138****8000"  # the number stays in the member record
    deliver_all()
    assert len(fake.delivered["sms"]) == 1


def test_busy_gateway_retried_with_backoff_then_sent(cast, member, fake, clock):
    reminder_run_inline(on=date(2025, 4, 1))
    fake.fail("sms", 1001)
    row = member_rows(cast)["sms"]
    result = outbox_deliver(message_id=row.pk)
    assert result.status == "retry" and result.retry_in > 0
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and row.attempts == 1 and "繁忙" in row.last_error
    clock.advance(seconds=result.retry_in + 1)
    assert outbox_deliver(message_id=row.pk).status == "sent"
    assert len(fake.delivered["sms"]) == 1


def test_retry_falling_in_the_night_waits_for_the_morning(cast, member, fake, clock):
    clock.set(2025, 4, 1, 20, 59)
    reminder_run_inline(on=date(2025, 4, 1))
    row = member_rows(cast)["sms"]
    fake.fail("sms", 1002)
    result = outbox_deliver(message_id=row.pk)
    assert result.status == "retry"
    clock.set(2025, 4, 1, 21, 5)  # the retry comes due in the quiet hours
    assert outbox_deliver(message_id=row.pk).status == "held"
    row.refresh_from_db()
    assert row.next_attempt_at == datetime(2025, 4, 2, 8, 0, tzinfo=SHANGHAI) and row.attempts == 1


def test_invalid_wecom_user_fails_permanently_with_reason(cast, member, fake, clock):
    fake.wecom_users = {"someone_else"}
    reminder_run_inline(on=date(2025, 4, 1))
    row = member_rows(cast)["wecom"]
    assert outbox_deliver(message_id=row.pk).status == "failed"
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and "企业微信账号无效" in row.last_error
    assert Notification.objects.filter(recipient=cast.users["member_a"], rule=RULE).count() == 1  # inbox kept


def test_person_switches_sms_off(cast, member, fake, clock):
    preference_update(user=cast.users["member_a"], email_enabled=True, muted_rules=[], sms_enabled=False)
    reminder_run_inline(on=date(2025, 4, 1))
    assert "sms" not in member_rows(cast) and "wecom" in member_rows(cast)


def test_no_personal_rows_without_configured_channels(cast, member, settings, clock):
    settings.PB_SMS, settings.PB_WECOM, settings.PB_DINGTALK = {}, {}, {}
    reminder_run_inline(on=date(2025, 4, 1))
    assert not set(member_rows(cast)) & {"sms", "wecom", "dingtalk"}


def test_monthly_budget_warns_at_80_percent_and_stops_at_100(cast, member, fake, clock, settings):
    settings.PB_SMS_MONTHLY_BUDGET = 1
    reminder_run_inline(on=date(2025, 4, 1))
    first = member_rows(cast)["sms"]
    assert outbox_deliver(message_id=first.pk).status == "sent"
    budget = SmsBudget.objects.get(organization=cast.P)
    assert budget.used == 1 and budget.warned_at is not None
    warning = Notification.objects.get(recipient=cast.users["org_admin_p"], rule="sms_budget")
    assert "1/1" in warning.title
    second = OutboxMessage.objects.create(
        channel="sms",
        organization=cast.A,
        to_address="13800138000",
        subject="x",
        body="x",
        segments=1,
        next_attempt_at=timezone.now(),
    )
    assert outbox_deliver(message_id=second.pk).status == "failed"
    second.refresh_from_db()
    assert "额度已用完" in second.last_error
    assert len(fake.delivered["sms"]) == 1


def test_reminders_about_one_person_never_go_to_a_group():
    assert [r.code for r in RULES if MEMBER in r.audience and r.webhook] == []


def test_long_title_fits_one_sms_segment():
    text = personal.sms_text("很长的标题" * 30)
    assert len(text) <= 70 and text.startswith("【党建提醒】")


def test_organization_chooses_channels_per_rule(cast, member, fake, clock):
    from django.core.exceptions import ValidationError

    from notifications.services.reminder_settings import reminder_setting_update

    with pytest.raises(ValidationError, match="未知的消息渠道"):
        reminder_setting_update(user=cast.users["org_admin_p"], organization=cast.P, rule=RULE, channels=["fax"])
    reminder_setting_update(user=cast.users["org_admin_p"], organization=cast.P, rule=RULE, channels=["wecom"])
    reminder_setting_update(user=cast.users["org_admin_p"], organization=cast.P, rule=RULE, offset=3)  # kept
    reminder_run_inline(on=date(2025, 4, 1))
    assert "wecom" in member_rows(cast) and "sms" not in member_rows(cast)
