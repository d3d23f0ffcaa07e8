"""Fixtures shared by the notification tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    """``timezone.now`` under the test's control: 2025-04-01 10:00 Shanghai until set or advanced."""

    def __init__(self, monkeypatch) -> None:
        self.now = datetime(2025, 4, 1, 10, 0, tzinfo=SHANGHAI)
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, *args: int) -> None:
        self.now = datetime(*args, tzinfo=SHANGHAI)

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def vendors(settings):
    """The fake SMS gateway, 企业微信 and 钉钉 servers on loopback, allowed as channel hosts; no
    channel configured until the test says so (``sms_settings`` …); the token cache emptied."""
    from django.core.cache import cache

    from notifications.channels.fakes import FakeVendors

    server = FakeVendors.start()
    settings.PB_CHANNEL_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.PB_SMS, settings.PB_WECOM, settings.PB_DINGTALK = {}, {}, {}
    cache.clear()
    yield server
    server.stop()
    cache.clear()


def sms_settings(server, **extra) -> dict:
    return {"url": f"{server.base_url}/sms/send", "secret": "gw", **extra}


def wecom_settings(server, **extra) -> dict:
    return {"base_url": server.base_url, "corp_id": "ww1", "secret": "wsecret", "agent_id": "1000002", **extra}


def dingtalk_settings(server, **extra) -> dict:
    return {"base_url": server.base_url, "app_key": "dk", "app_secret": "dsecret", "agent_id": "7", **extra}
