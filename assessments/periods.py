"""Reporting periods: a quarter or a year, as inclusive date ranges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    year: int
    quarter: int | None = None

    @property
    def label(self) -> str:
        if self.quarter:
            return f"{self.year}年第{self.quarter}季度"
        return f"{self.year}年度"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def elapsed_share(self, on: date) -> float:
        """How much of the year has passed on ``on`` (for pro-rata paces such as 学时)."""
        year_start = date(self.year, 1, 1)
        year_end = date(self.year, 12, 31)
        if on <= year_start:
            return 0.0
        if on >= year_end:
            return 1.0
        return ((on - year_start).days + 1) / ((year_end - year_start).days + 1)


def quarter_period(year: int, quarter: int) -> Period:
    if quarter not in (1, 2, 3, 4):
        raise ValueError("quarter must be 1..4")
    start = date(year, 3 * (quarter - 1) + 1, 1)
    end = (
        date(year + 1, 1, 1) - timedelta(days=1) if quarter == 4 else date(year, 3 * quarter + 1, 1) - timedelta(days=1)
    )
    return Period(start=start, end=end, year=year, quarter=quarter)


def year_period(year: int) -> Period:
    return Period(start=date(year, 1, 1), end=date(year, 12, 31), year=year)


def previous_quarter(on: date) -> tuple[int, int]:
    """The quarter before the one containing ``on`` (the beat job reports on it)."""
    quarter = (on.month - 1) // 3 + 1
    if quarter == 1:
        return on.year - 1, 4
    return on.year, quarter - 1
