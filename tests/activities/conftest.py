"""Helpers for organizational-life tests: branches with members of known standing, committees."""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
from datetime import date, datetime, time
from typing import Any

import pytest
from django.utils import timezone

from activities.services.inputs import AttendanceInput, MeetingInput
from members.choices import Stage
from organizations import services as org_services
from organizations.choices import PositionCode
from tests.factories import MemberFactory

MEETING_DAY = date(2026, 3, 10)


def add_members(org: Any, *, full: int = 0, probationary: int = 0, prefix: str = "党员") -> list[Any]:
    """Create ``full`` 正式党员 and ``probationary`` 预备党员 on the roster since 2020."""
    people = [
        MemberFactory(name=f"{prefix}正式{i:02d}", organization=org, roster=date(2020, 1, 1)) for i in range(full)
    ]
    people += [
        MemberFactory(
            name=f"{prefix}预备{i:02d}",
            organization=org,
            stage=Stage.PROBATIONARY,
            joined_on=date(2025, 9, 1),
            full_on=None,
            roster=date(2025, 9, 1),
        )
        for i in range(probationary)
    ]
    return people


def add_committee(org: Any, members: list[Any], *, elected_on: date = date(2024, 1, 5)) -> Any:
    """A committee term with the given members in committee seats (书记 first)."""
    term = org_services.committee_term_start(org=org, elected_on=elected_on)
    codes = [
        PositionCode.SECRETARY,
        PositionCode.ORGANIZATION,
        PositionCode.PROPAGANDA,
        PositionCode.DISCIPLINE,
        PositionCode.MEMBER,
        PositionCode.MEMBER,
        PositionCode.MEMBER,
    ]
    for code, member in zip(codes, members, strict=False):
        org_services.position_assign(
            term=term, position=code, person_name=member.name, start_on=elected_on, member=member
        )
    return term


def attendance(people: list[Any], present: int, status: str = "absent") -> list[AttendanceInput]:
    """The first ``present`` people present, the rest ``status`` (with a reason)."""
    return [
        AttendanceInput(
            member_id=p.pk, status="present" if i < present else status, reason="" if i < present else "出差"
        )
        for i, p in enumerate(people)
    ]


def header_values(meeting_type: str = "general_assembly", **extra: Any) -> dict[str, Any]:
    """The header of the test meeting as plain values (what an API body carries)."""
    data = {
        "meeting_type": meeting_type,
        "title": "研究发展党员工作",
        "held_on": MEETING_DAY,
        "start_time": time(14, 30),
        "end_time": time(16, 0),
        "place": "党员活动室",
    }
    data.update(extra)
    return data


def header(meeting_type: str = "general_assembly", **extra: Any) -> MeetingInput:
    """The header of the test meeting as the service takes it."""
    return MeetingInput(**header_values(meeting_type, **extra))


def _modules_reading_today() -> list[str]:
    """The modules that call ``today()`` (imported from core.dates) or may: every activities
    service and page module, the compliance reads, the calendar and the demo builder."""
    names = ["activities.compliance", "activities.calendar", "demo.activities"]
    for package in ("activities.services", "activities.views"):
        path = importlib.import_module(package).__path__
        names += [f"{package}.{info.name}" for info in pkgutil.iter_modules(path)]
    return names


@pytest.fixture
def today_is(monkeypatch):
    """Pin "today" for services, selectors and compliance (core.dates.today)."""

    def _set(day: date) -> None:
        for module in _modules_reading_today():
            with contextlib.suppress(AttributeError, ImportError):
                monkeypatch.setattr(f"{module}.today", lambda: day)
        noon = timezone.make_aware(datetime.combine(day, time(12, 0)))
        monkeypatch.setattr("activities.services.meetings._now", lambda: noon)

    _set(date(2026, 6, 15))
    return _set


@pytest.fixture(autouse=True)
def _default_compliance_rules(db):
    """The §14 rules come from a data migration; reinstall them when the database was built
    without migrations (``--nomigrations``) or flushed by a transactional test."""
    from activities.defaults import compliance_defaults_install

    compliance_defaults_install()
