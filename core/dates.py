"""Calendar helpers shared by every app. Dates are Asia/Shanghai (settings.TIME_ZONE)."""

from __future__ import annotations

import calendar
from datetime import date

from django.utils import timezone


def today() -> date:
    """Today's date in the project's time zone (never the server's UTC date)."""
    return timezone.localdate()


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)
