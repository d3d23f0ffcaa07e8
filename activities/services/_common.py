"""Small helpers shared by the activities services (private to the package)."""

from __future__ import annotations

import datetime as dt


def fmt_day(day: dt.date) -> str:
    """A date as it appears in error messages and audit details (2026-03-10)."""
    return f"{day:%Y-%m-%d}"
