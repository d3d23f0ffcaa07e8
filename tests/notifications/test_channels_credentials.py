"""Per-top-level-organization vendor credentials (#19 item 6): a unit's own 企业微信 / 钉钉 / SMS
account is used for its whole tree, stored encrypted (members.crypto), never shown or logged; the
settings are the fallback for other units and when the credential is switched off."""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from members.dues.services.fixings import dues_fixing_create
from notifications.models import ChannelAddress, ChannelCredential, OutboxMessage, OutboxStatus
from notifications.services.credentials import (
    ChannelAvailability,
    channel_config,
    channel_credential_remove,
    channel_credential_save,
)
from notifications.services.outbox import outbox_deliver
from notifications.services.runs import reminder_run_inline
from tests.notifications.conftest import wecom_settings

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
UNIT_SECRET = "unit-S3cret-wecom-7f2a"
RULE = "dues_arrears_warning"


@pytest.fixture
def fake(vendors, settings, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: datetime(2025, 4, 1, 10, 0, tzinfo=SHANGHAI))
    settings.PB_WECOM = wecom_settings(vendors, corp_id="ww-settings", secret="settings-secret", agent_id=1)
    return vendors


def save_wecom(cast, fake, **kw):
    values = {
        "user": cast.users["org_admin_p"],
        "organization": cast.P,
        "channel": "wecom",
        "config": {"corp_id": "ww-unit", "agent_id": "1000005", "base_url": fake.base_url},
        "secret": UNIT_SECRET,
    }
    values.update(kw)
    return channel_credential_save(**values)


@pytest.fixture
def member(cast):
    record = cast.member_a_record
    ChannelAddress.objects.create(user=cast.users["member_a"], wecom_userid="zhangsan", dingtalk_userid="ding-zs")
    dues_fixing_create(member=record, year=2025, category="employed", base=Decimal("5100"), fixed_on=date(2025, 1, 5))
    return record


def test_secret_stored_encrypted_and_never_shown_or_audited(cast, fake):
    credential = save_wecom(cast, fake)
    with connection.cursor() as cursor:
        cursor.execute("SELECT CAST(config AS TEXT), secret_cipher FROM notifications_channelcredential")  # both databases
        config_text, cipher = cursor.fetchone()
    assert UNIT_SECRET not in config_text and UNIT_SECRET not in cipher and cipher.startswith("v")
    assert UNIT_SECRET not in repr(credential) and UNIT_SECRET not in str(credential)
    assert UNIT_SECRET not in repr(channel_config("wecom", cast.A.pk))
    event = AuditEvent.objects.filter(event="channel_credential_save").latest("pk")
    assert UNIT_SECRET not in str(event.detail) and event.detail["secret_changed"] is True


def test_the_units_tree_uses_its_own_account_others_the_settings(cast, fake):
    save_wecom(cast, fake)
    mine, other = channel_config("wecom", cast.A1.pk), channel_config("wecom", cast.Q.pk)
    assert (mine.corp_id, mine.secret, mine.agent_id) == ("ww-unit", UNIT_SECRET, 1000005)
    assert (other.corp_id, other.secret) == ("ww-settings", "settings-secret")
    assert channel_config("wecom", None).corp_id == "ww-settings"


def test_reminder_sent_through_the_units_account(cast, fake, member, caplog):
    save_wecom(cast, fake)
    caplog.set_level(logging.DEBUG)
    reminder_run_inline(on=date(2025, 4, 1))
    row = OutboxMessage.objects.get(notification__recipient=cast.users["member_a"], channel="wecom")
    assert outbox_deliver(message_id=row.pk).status == "sent"
    [token_call] = fake.calls("/cgi-bin/gettoken")
    assert token_call["query"]["corpid"] == "ww-unit" and token_call["query"]["corpsecret"] == UNIT_SECRET
    assert UNIT_SECRET not in caplog.text


def test_a_unit_enables_a_channel_the_settings_do_not_have(cast, fake, member):
    channel_credential_save(
        user=cast.users["org_admin_p"],
        organization=cast.P,
        channel="dingtalk",
        config={"app_key": "ding-unit", "agent_id": 42, "base_url": fake.base_url},
        secret="ding-secret",
    )
    available = ChannelAvailability.load([cast.A.path, cast.Q.path])
    assert available.for_path(cast.A.path) == ["wecom", "dingtalk"] and available.for_path(cast.Q.path) == ["wecom"]
    reminder_run_inline(on=date(2025, 4, 1))
    row = OutboxMessage.objects.get(notification__recipient=cast.users["member_a"], channel="dingtalk")
    assert outbox_deliver(message_id=row.pk).status == "sent"
    assert fake.calls("/gettoken")[0]["query"]["appkey"] == "ding-unit"


def test_switched_off_or_removed_falls_back_to_the_settings(cast, fake):
    save_wecom(cast, fake, enabled=False)
    assert channel_config("wecom", cast.A.pk).corp_id == "ww-settings"
    save_wecom(cast, fake)
    assert channel_config("wecom", cast.A.pk).corp_id == "ww-unit"
    assert channel_credential_remove(user=cast.users["org_admin_p"], organization=cast.P, channel="wecom")
    assert channel_config("wecom", cast.A.pk).corp_id == "ww-settings"


def test_empty_secret_keeps_the_stored_one(cast, fake):
    save_wecom(cast, fake)
    save_wecom(cast, fake, secret="", config={"corp_id": "ww-unit", "agent_id": 7, "base_url": fake.base_url})
    config = channel_config("wecom", cast.A.pk)
    assert config.secret == UNIT_SECRET and config.agent_id == 7
    assert AuditEvent.objects.filter(event="channel_credential_save").latest("pk").detail["secret_changed"] is False


@pytest.mark.parametrize(
    ("config", "secret", "message"),
    [
        ({"corp_id": "ww-unit", "agent_id": 5, "base_url": "http://10.0.0.8/"}, "s", "内网"),
        ({"corp_id": "ww-unit", "agent_id": 5, "corpsecret": "x"}, "s", "密钥请填在"),
        ({"corp_id": "ww-unit", "agent_id": 5, "proxy": "x"}, "s", "不认识的配置项“proxy”"),
        ({"corp_id": "ww unit", "agent_id": 5}, "s", "企业 ID"),
        ({"corp_id": "ww-unit", "agent_id": "abc"}, "s", "agent_id"),
        ({"corp_id": "ww-unit", "agent_id": "²"}, "s", "agent_id"),  # isdigit() but not int(): was a 500
        ({"corp_id": "ww-unit", "agent_id": 5}, "", "请填写密钥"),
    ],
)
def test_bad_credentials_refused_in_chinese(cast, settings, config, secret, message):
    settings.PB_CHANNEL_ALLOWED_HOSTS = []
    with pytest.raises(ValidationError, match=message):
        channel_credential_save(
            user=cast.users["org_admin_p"], organization=cast.P, channel="wecom", config=config, secret=secret
        )
    assert not ChannelCredential.objects.exists()


def test_sms_gateway_template_checked(cast, settings):
    settings.PB_CHANNEL_ALLOWED_HOSTS = []
    with pytest.raises(ValidationError, match="变量“phone”不存在"):
        channel_credential_save(
            user=cast.users["org_admin_p"],
            organization=cast.P,
            channel="sms",
            config={"url": "https://sms.example.gov.cn/send", "params": {"to": "${phone}"}},
        )


def test_only_the_top_level_org_admin(cast, fake):
    with pytest.raises(PermissionDenied):
        save_wecom(cast, fake, organization=cast.A)  # not a top-level organization
    with pytest.raises(PermissionDenied):
        save_wecom(cast, fake, user=cast.users["secretary_a"])
    with pytest.raises(PermissionDenied):
        save_wecom(cast, fake, organization=cast.Q)  # another unit


def test_vendor_error_never_carries_the_secret(cast, fake, member):
    save_wecom(cast, fake)
    fake.fail("wecom_token", 40001)
    reminder_run_inline(on=date(2025, 4, 1))
    row = OutboxMessage.objects.get(notification__recipient=cast.users["member_a"], channel="wecom")
    assert outbox_deliver(message_id=row.pk).status == "failed"
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and "40001" in row.last_error and UNIT_SECRET not in row.last_error


def test_credentials_page_saves_and_never_shows_the_secret(cast, fake):
    client = cast.client("org_admin_p")
    url = f"/notifications/rules/{cast.P.pk}/credentials/"
    page = client.get(url).content.decode()
    assert "本单位消息渠道账号" in page and "沿用系统设置" in page and "未开通" in page
    bad = client.post(url, {"channel": "wecom", "config": "{not json", "secret": UNIT_SECRET, "enabled": "on"})
    assert bad.status_code == 200 and "不是有效的 JSON" in bad.content.decode()
    assert UNIT_SECRET not in bad.content.decode()  # not even echoed back into the form
    config = f'{{"corp_id": "ww-unit", "agent_id": 1000005, "base_url": "{fake.base_url}"}}'
    saved = client.post(url, {"channel": "wecom", "config": config, "secret": UNIT_SECRET, "enabled": "on"})
    assert saved.status_code == 302 and channel_config("wecom", cast.A.pk).secret == UNIT_SECRET
    page = client.get(url).content.decode()
    assert "本单位账号" in page and "ww-unit" in page and "已设置（加密保存）" in page and UNIT_SECRET not in page
    assert client.post(url, {"remove": "wecom"}).status_code == 302 and not ChannelCredential.objects.exists()
    assert client.get(f"/notifications/rules/{cast.A.pk}/credentials/").status_code == 403  # a branch
    assert cast.client("secretary_a").get(url).status_code == 404
