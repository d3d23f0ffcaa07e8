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
