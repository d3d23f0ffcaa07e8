"""Channels chosen per reminder rule (#19 item 2): the org_admin picks on the rule form (and the
API) which outside channels a rule uses — the inbox always, e-mail, SMS, 企业微信, 钉钉 — inherited
down the tree, nearest choice wins, and the scan writes outbox rows for the chosen ones only."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from members.dues.services.fixings import dues_fixing_create
from notifications.models import ChannelAddress, Notification, OutboxMessage, ReminderSetting
from notifications.services.reminder_settings import reminder_setting_update
from notifications.services.runs import reminder_run_inline
from tests.notifications.conftest import dingtalk_settings, sms_settings, wecom_settings

pytestmark = pytest.mark.django_db
RULE = "dues_arrears_warning"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def fake(vendors, settings, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: datetime(2025, 4, 1, 10, 0, tzinfo=SHANGHAI))
    settings.PB_SMS = sms_settings(vendors)
    settings.PB_WECOM = wecom_settings(vendors)
    settings.PB_DINGTALK = dingtalk_settings(vendors)
    return vendors


@pytest.fixture
def member(cast):
    user = cast.users["member_a"]
    user.email = "member_a@example.org"
    user.save()
    record = cast.member_a_record
    record.set_phone("13800138000")
    record.save()
    ChannelAddress.objects.create(user=user, wecom_userid="zhangsan", dingtalk_userid="ding-zs")
    dues_fixing_create(member=record, year=2025, category="employed", base=Decimal("5100"), fixed_on=date(2025, 1, 5))
    return record


def member_channels(cast) -> set[str]:
    return set(
        OutboxMessage.objects.filter(
            notification__recipient=cast.users["member_a"], notification__rule=RULE
        ).values_list("channel", flat=True)
    )


def test_default_every_configured_channel(cast, member, fake):
    reminder_run_inline(on=date(2025, 4, 1))
    assert member_channels(cast) == {"email", "sms", "wecom", "dingtalk"}


def test_inbox_only_when_nothing_chosen(cast, member, fake):
    reminder_setting_update(user=cast.users["org_admin_p"], organization=cast.P, rule=RULE, channels=[])
    reminder_run_inline(on=date(2025, 4, 1))
    assert member_channels(cast) == set()
    assert Notification.objects.filter(recipient=cast.users["member_a"], rule=RULE).count() == 1


def test_nearest_choice_wins_down_the_tree(cast, member, fake):
    admin = cast.users["org_admin_p"]
    reminder_setting_update(user=admin, organization=cast.P, rule=RULE, channels=["email", "wecom"])
    reminder_setting_update(user=admin, organization=cast.A, rule=RULE, channels=["dingtalk", "sms"])
    reminder_run_inline(on=date(2025, 4, 1))
    assert member_channels(cast) == {"sms", "dingtalk"}  # A's own choice, not P's


def test_inherited_choice_without_own(cast, member, fake):
    reminder_setting_update(user=cast.users["org_admin_p"], organization=cast.P, rule=RULE, channels=["email"])
    reminder_run_inline(on=date(2025, 4, 1))
    assert member_channels(cast) == {"email"}  # P's choice reaches member A's branch


def test_rule_form_chooses_channels_and_shows_them_inherited(cast):
    client = cast.client("org_admin_p")
    url = f"/notifications/rules/{cast.P.pk}/{RULE}/"
    page = client.get(url).content.decode()
    for label in ("发送渠道", "邮件", "短信", "企业微信", "钉钉", "站内消息始终发送"):
        assert label in page
    response = client.post(url, {"channel_mode": "choose", "channels": ["wecom", "email"]})
    assert response.status_code == 302
    assert ReminderSetting.objects.get(organization=cast.P, rule=RULE).channels == ["email", "wecom"]
    again = client.get(url).content.decode()
    checked = set(re.findall(r'name="channels" value="(\w+)" id="id_channels_\d" checked', again))
    assert checked == {"email", "wecom"} and '<option value="choose" selected>' in again
    child = client.get(f"/notifications/rules/{cast.A.pk}/").content.decode()
    assert "站内消息、邮件、企业微信" in child  # inherited by the branch
    assert "站内消息及全部已开通渠道" in child  # the other rules: default


def test_rule_form_inbox_only_then_back_to_inheritance(cast):
    client = cast.client("org_admin_p")
    url = f"/notifications/rules/{cast.P.pk}/{RULE}/"
    assert client.post(url, {"channel_mode": "choose"}).status_code == 302
    assert ReminderSetting.objects.get(organization=cast.P, rule=RULE).channels == []
    assert "站内消息</td>" in client.get(f"/notifications/rules/{cast.P.pk}/").content.decode().replace("\n", "")
    assert client.post(url, {"channel_mode": ""}).status_code == 302
    assert not ReminderSetting.objects.filter(rule=RULE).exists()  # nothing left: inherits again


def test_rule_form_refuses_unknown_channel_in_chinese(cast):
    client = cast.client("org_admin_p")
    response = client.post(f"/notifications/rules/{cast.P.pk}/{RULE}/", {"channel_mode": "choose", "channels": ["fax"]})
    assert response.status_code == 200 and "fax" in response.content.decode()
    assert "选择一个有效的选项" in response.content.decode()
    assert not ReminderSetting.objects.exists()
    assert cast.client("secretary_a").post(f"/notifications/rules/{cast.A.pk}/{RULE}/", {}).status_code == 403


def test_api_sets_keeps_and_clears_channels(cast):
    admin = cast.api("org_admin_p")

    def row(response):
        return next(r for r in response.json() if r["rule"] == RULE)

    first = admin.post(
        "/api/v1/reminder-settings/",
        {"organization": cast.P.pk, "rule": RULE, "channels": ["sms", "email"]},
        format="json",
    )
    assert first.status_code == 200 and row(first)["channels"] == ["email", "sms"]
    kept = admin.post(
        "/api/v1/reminder-settings/", {"organization": cast.P.pk, "rule": RULE, "offset": 3}, format="json"
    )
    assert row(kept)["channels"] == ["email", "sms"] and row(kept)["offset"] == 3
    child = admin.get("/api/v1/reminder-settings/", {"organization": cast.A.pk})
    assert row(child)["channels"] == ["email", "sms"]
    bad = admin.post(
        "/api/v1/reminder-settings/", {"organization": cast.P.pk, "rule": RULE, "channels": ["fax"]}, format="json"
    )
    assert bad.status_code == 400 and "channels" in bad.json()
    cleared = admin.post(
        "/api/v1/reminder-settings/",
        {"organization": cast.P.pk, "rule": RULE, "channels": None, "offset": 3},
        format="json",
    )
    assert row(cleared)["channels"] is None
    assert ReminderSetting.objects.get(organization=cast.P, rule=RULE).channels is None
