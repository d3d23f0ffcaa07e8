"""The #19 demo command: the day's reminders to the fake vendors, then the delivery report."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from members.dues.services.fixings import dues_fixing_create
from notifications.models import ChannelAddress, OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db


def test_demo_sends_to_the_fakes_and_prints_the_report(cast, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: datetime(2025, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    cache.clear()
    record = cast.member_a_record
    record.set_phone("13800138000")
    record.save()
    dues_fixing_create(member=record, year=2025, category="employed", base=Decimal("5100"), fixed_on=date(2025, 1, 5))
    out = io.StringIO()
    call_command("demo_channels", "--date", "2025-04-01", stdout=out)
    text = out.getvalue()
    address = ChannelAddress.objects.get(user=cast.users["member_a"])
    assert address.wecom_userid == f"demo-{cast.users['member_a'].pk}"
    rows = {r.channel: r for r in OutboxMessage.objects.filter(notification__recipient=cast.users["member_a"])}
    assert rows["dingtalk"].status == OutboxStatus.SENT
    assert rows["sms"].status == OutboxStatus.FAILED and "号码无效" in rows["sms"].last_error  # 200 + error body
    assert rows["wecom"].status == OutboxStatus.PENDING and "45009" in rows["wecom"].last_error  # to be retried
    assert "发送报告 · 中共测试委员会" in text and "党费" in text and "号码无效" in text
    assert "demo-secret" not in text and "demo-gateway-secret" not in text
    again = io.StringIO()
    call_command("demo_channels", "--date", "2025-04-01", stdout=again)
    assert "新提醒 0 条" in again.getvalue()  # deduplicated
    with pytest.raises(CommandError, match="日期格式"):
        call_command("demo_channels", "--date", "2025-13-01", stdout=io.StringIO())
    cache.clear()
