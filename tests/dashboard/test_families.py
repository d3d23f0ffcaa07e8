"""The organizational-life and dues figures of the dashboard equal the owning apps' own roll-ups
(their definitions of "done on time", collection rate and arrears), after changes made through
the apps' services, and after a full rebuild."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from activities.compliance import compliance_rollup
from activities.selectors import meeting_roster
from activities.services.inputs import AttendanceInput, MeetingInput
from activities.services.meetings import meeting_save
from core.dates import today
from dashboard.facts import facts_rebuild
from dashboard.selectors import Period, dashboard_data
from members.dues.selectors import dues_arrears, dues_rollup
from members.dues.services.fixings import dues_fixing_create
from members.dues.services.payments import dues_payment_record
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _meeting(org, kind: str, held_on: date, user) -> None:
    roster = meeting_roster(organization=org, on=held_on, meeting_type=kind)
    attendance = [AttendanceInput(member_id=p.member_id, status="present") for p in roster.expected if p.member_id]
    meeting_save(
        user=user,
        organization=org,
        finish=True,
        attendance=attendance,
        resolutions=[],
        data=MeetingInput(meeting_type=kind, title=f"{held_on:%m}月{kind}", held_on=held_on),
    )


def _compare(cast, on: date) -> None:
    user = cast.users["org_admin_p"]
    for quarter in range(1, (on.month - 1) // 3 + 2):
        period = Period(on.year, quarter, on)
        data = dashboard_data(user=user, org=cast.P, period=period)
        rollup = compliance_rollup(organization=cast.P, year=on.year, quarter=quarter, on=on).total
        ours = data["life"]["total"]
        assert (ours["done"], ours["late"], ours["overdue"], ours["waived"]) == (
            rollup.done,
            rollup.late,
            rollup.overdue,
            rollup.waived,
        ), f"quarter {quarter}"
        assert ours["share_on_time"] == rollup.share
        for row in compliance_rollup(organization=cast.P, year=on.year, quarter=quarter, on=on).by_child:
            child, tally = row
            mine = next(c for c in data["children"] if c["id"] == child.pk)["life"]
            assert (mine["done"], mine["late"], mine["overdue"]) == (tally.done, tally.late, tally.overdue)
    period = Period(on.year, (on.month - 1) // 3 + 1, on)
    data = dashboard_data(user=user, org=cast.P, period=period)
    ytd = {"due_count": 0, "paid_count": 0, "due_total": Decimal("0"), "paid_total": Decimal("0")}
    for month in range(1, on.month + 1):
        total = dues_rollup(user=user, root=cast.P, month=date(on.year, month, 1))["total"]
        for key in ytd:
            ytd[key] += getattr(total, key)
        if month == on.month:
            this = data["dues"]["this_month"]
            assert (this["due_count"], this["paid_count"], this["due_total"], this["paid_total"]) == (
                total.due_count,
                total.paid_count,
                total.due_total,
                total.paid_total,
            )
            assert this["rate"] == total.rate
    mine = data["dues"]["ytd"]
    assert {k: mine[k] for k in ytd} == ytd
    arrears = [status for org in (cast.A, cast.B) for _, status in dues_arrears(organization=org, on=on)]
    figures = {row["code"]: row["count"] for row in data["dues"]["arrears"]}
    assert figures["warning"] == sum(1 for s in arrears if s.warning)
    assert figures["lapse"] == sum(1 for s in arrears if s.lapse)


def test_life_and_dues_figures_match_the_apps_rollups(cast, django_capture_on_commit_callbacks):
    on = today()
    year = on.year
    secretary = cast.users["secretary_a"]
    with django_capture_on_commit_callbacks(execute=True):
        a_members = [cast.member_a_record, *MemberFactory.create_batch(4, organization=cast.A)]
        b_members = [cast.member_b_record, *MemberFactory.create_batch(2, organization=cast.B)]
        for member in a_members + b_members:
            dues_fixing_create(
                member=member, year=year, category="employed", fixed_on=date(year, 1, 5), base=Decimal("6000")
            )
    facts_rebuild()
    _compare(cast, on)

    with django_capture_on_commit_callbacks(execute=True):
        for month in range(1, on.month + 1, 2):
            held = date(year, month, 10)
            if held <= on:
                _meeting(cast.A, "theme_day", held, secretary)
        _meeting(cast.B, "general_assembly", date(year, 1, 20), cast.users["secretary_b"])
        months = [date(year, m, 1) for m in range(max(1, on.month - 5), on.month + 1)]
        for member in a_members[:3]:
            dues_payment_record(member=member, months=months, paid_on=on)
        dues_payment_record(member=b_members[0], months=months[-1:], paid_on=on)
    _compare(cast, on)  # incremental path
    facts_rebuild()
    _compare(cast, on)  # same figures after a full rebuild
