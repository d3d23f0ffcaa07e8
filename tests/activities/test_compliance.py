"""The compliance calendar: every status, deadlines and grace, versioned rules, waivers, roll-up."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activities.compliance import compliance_items, compliance_rollup, year_grid
from activities.models import ComplianceRule
from activities.services.compliance import compliance_rule_change, compliance_waive
from activities.services.meetings import meeting_save
from audit.models import AuditEvent
from tests.activities.conftest import add_committee, add_members, attendance, header
from tests.factories import make_org

pytestmark = pytest.mark.django_db


def record(cast, org, meeting_type, held_on, *, people, finish=True, **extra):
    return meeting_save(
        user=cast.users["org_admin_p"],
        organization=org,
        data=header(meeting_type, held_on=held_on, **extra),
        attendance=attendance(people, present=len(people)),
        resolutions=[],
        finish=finish,
    )


def item(items, kind, start):
    found = [i for i in items if i.kind == kind and i.period_start == start]
    assert len(found) == 1, [(i.kind, i.period_start) for i in items]
    return found[0]


@pytest.fixture
def people(cast):
    return [cast.member_a_record, *add_members(cast.A, full=4)]


def test_each_status(cast, people, today_is):
    today_is(date(2026, 3, 10))
    record(cast, cast.A, "general_assembly", date(2026, 3, 10), people=people)  # Q1 on time
    today_is(date(2026, 4, 2))
    record(cast, cast.A, "lecture", date(2026, 3, 28), people=people, study_hours=2)  # Q1, finished late
    today_is(date(2026, 6, 15))
    items = compliance_items(organization=cast.A, year=2026)
    assert item(items, "general_assembly", date(2026, 1, 1)).status == "done"
    lecture_q1 = item(items, "lecture", date(2026, 1, 1))
    assert (lecture_q1.status, lecture_q1.done_on) == ("late", date(2026, 4, 2))
    assert item(items, "general_assembly", date(2026, 4, 1)).status == "due"
    assert item(items, "general_assembly", date(2026, 7, 1)).status == "upcoming"
    assert item(items, "theme_day", date(2026, 1, 1)).status == "overdue"
    assert item(items, "theme_day", date(2026, 6, 1)).status == "due"
    compliance_waive(
        user=cast.users["org_admin_p"],
        organization=cast.A,
        kind="theme_day",
        period_start=date(2026, 2, 1),
        reason="春节假期，经党委同意合并至 3 月",
    )
    waived = item(compliance_items(organization=cast.A, year=2026), "theme_day", date(2026, 2, 1))
    assert waived.status == "waived" and "春节" in waived.waiver_reason
    assert AuditEvent.objects.filter(event="compliance_waive").count() == 1


def test_deadline_boundary_and_grace(cast, people, today_is, settings):
    today_is(date(2026, 3, 31))
    record(cast, cast.A, "general_assembly", date(2026, 3, 30), people=people)  # finished on the last day
    today_is(date(2026, 4, 1))
    record(cast, cast.A, "lecture", date(2026, 3, 30), people=people, study_hours=1)  # finished a day after
    items = compliance_items(organization=cast.A, year=2026, quarter=1)
    assert item(items, "general_assembly", date(2026, 1, 1)).status == "done"
    assert item(items, "lecture", date(2026, 1, 1)).status == "late"
    assert item(items, "theme_day", date(2026, 3, 1)).status == "overdue"  # deadline 03-31 has passed
    settings.PB_COMPLIANCE_GRACE_DAYS = 3
    items = compliance_items(organization=cast.A, year=2026, quarter=1)
    assert item(items, "lecture", date(2026, 1, 1)).status == "done"
    assert item(items, "theme_day", date(2026, 3, 1)).status == "due"  # deadline is now 04-03


def test_a_meeting_outside_the_period_or_a_draft_does_not_count(cast, people, today_is):
    record(cast, cast.A, "general_assembly", date(2026, 4, 1), people=people)
    record(cast, cast.A, "general_assembly", date(2026, 3, 5), people=people, finish=False)
    items = compliance_items(organization=cast.A, year=2026)
    assert item(items, "general_assembly", date(2026, 1, 1)).held == 0
    assert item(items, "general_assembly", date(2026, 4, 1)).status == "done"


def test_theme_day_counts_as_the_quarters_general_assembly_and_lecture(cast, people, today_is):
    today_is(date(2026, 5, 8))
    record(cast, cast.A, "theme_day", date(2026, 5, 8), people=people, also_counts_as=["general_assembly", "lecture"])
    items = compliance_items(organization=cast.A, year=2026, month=5)
    statuses = {i.kind: i.status for i in items if i.period_start.month in (4, 5)}
    assert statuses.items() >= {"general_assembly": "done", "lecture": "done", "theme_day": "done"}.items()
    assert all(i.period_start <= date(2026, 5, 31) and i.period_end >= date(2026, 5, 1) for i in items)


def test_committee_rule_applies_only_with_a_committee(cast, people, today_is):
    kinds = {i.kind for i in compliance_items(organization=cast.A, year=2026)}
    assert "committee" not in kinds
    add_committee(cast.A, people[:3], elected_on=date(2026, 2, 10))
    items = compliance_items(organization=cast.A, year=2026)
    months = [i.period_start.month for i in items if i.kind == "committee"]
    assert months == list(range(3, 13))  # from the first month that starts with a committee


def test_group_and_committee_organizations_get_their_own_rules(cast, today_is):
    group_kinds = {i.kind for i in compliance_items(organization=cast.A1, year=2026)}
    assert group_kinds == {"group"}
    assert {i.kind for i in compliance_items(organization=cast.P, year=2026)} <= {"secretary_lecture"}


def test_rule_change_keeps_past_periods(cast, people, today_is):
    today_is(date(2026, 3, 15))
    record(cast, cast.A, "general_assembly", date(2026, 3, 10), people=people)
    with pytest.raises(ValidationError) as exc:
        compliance_rule_change(
            user=cast.users["org_admin_p"],
            organization=cast.P,
            org_type="branch",
            kind="general_assembly",
            effective_from=date(2026, 1, 1),
            period="quarter",
            minimum=2,
        )
    assert "生效日期不能早于今天" in str(exc.value)
    with pytest.raises(ValidationError):
        compliance_rule_change(
            user=cast.users["secretary_a"],
            organization=cast.A,
            org_type="branch",
            kind="general_assembly",
            effective_from=date(2026, 4, 1),
            period="quarter",
            minimum=2,
        )
    compliance_rule_change(
        user=cast.users["org_admin_p"],
        organization=cast.P,
        org_type="branch",
        kind="general_assembly",
        effective_from=date(2026, 4, 1),
        period="quarter",
        minimum=2,
    )
    today_is(date(2026, 8, 1))
    record(cast, cast.A, "general_assembly", date(2026, 7, 10), people=people)
    items = compliance_items(organization=cast.A, year=2026)
    q1, q3 = item(items, "general_assembly", date(2026, 1, 1)), item(items, "general_assembly", date(2026, 7, 1))
    assert (q1.required, q1.status) == (1, "done")  # judged by the rule in force on 01-01
    assert (q3.required, q3.held, q3.status) == (2, 1, "due")
    # Organizations outside P keep the default.
    other = make_org("外单位支部", "branch", parent=cast.Q)
    assert item(compliance_items(organization=other, year=2026), "general_assembly", date(2026, 7, 1)).required == 1
    # Past versions are closed, never edited.
    default = ComplianceRule.objects.get(organization=None, org_type="branch", kind="general_assembly")
    assert default.effective_until is None and default.minimum == 1
    override = ComplianceRule.objects.get(organization=cast.P, kind="general_assembly")
    assert override.effective_from == date(2026, 4, 1)


def test_rule_versions_close_each_other_and_can_switch_a_rule_off(cast, people, today_is):
    admin = cast.users["org_admin_p"]
    first = compliance_rule_change(
        user=admin,
        organization=cast.P,
        org_type="branch",
        kind="theme_day",
        effective_from=date(2026, 7, 1),
        period="month",
        minimum=2,
    )
    compliance_rule_change(
        user=admin,
        organization=cast.P,
        org_type="branch",
        kind="theme_day",
        effective_from=date(2026, 9, 1),
        period="month",
        minimum=1,
        is_active=False,
    )
    first.refresh_from_db()
    assert first.effective_until == date(2026, 9, 1)
    items = [i for i in compliance_items(organization=cast.A, year=2026) if i.kind == "theme_day"]
    assert [i.period_start.month for i in items] == list(range(1, 9))
    assert [i.required for i in items] == [1] * 6 + [2, 2]


def test_waiver_needs_the_organization_above_and_a_reason(cast, today_is):
    with pytest.raises(ValidationError) as exc:
        compliance_waive(
            user=cast.users["secretary_a"],
            organization=cast.A,
            kind="theme_day",
            period_start=date(2026, 2, 1),
            reason="自己批准",
        )
    assert "上级党组织批准" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        compliance_waive(
            user=cast.users["org_admin_p"],
            organization=cast.A,
            kind="theme_day",
            period_start=date(2026, 2, 1),
            reason="  ",
        )
    assert "请填写免于原因" in str(exc.value)


def test_year_grid_spans_months(cast, people, today_is):
    grid = year_grid(compliance_items(organization=cast.A, year=2026))
    by_kind = {kind: cells for kind, _, cells in grid}
    assert [c.span for c in by_kind["general_assembly"]] == [3, 3, 3, 3]
    assert [c.span for c in by_kind["theme_day"]] == [1] * 12
    assert [c.span for c in by_kind["org_life"]] == [9, 3]  # year rule limited to Q4
    assert all(sum(c.span for c in cells) == 12 for cells in by_kind.values())


def test_rollup_share_on_time_by_type_and_child(cast, people, today_is):
    today_is(date(2026, 3, 20))
    record(cast, cast.A, "general_assembly", date(2026, 3, 10), people=people)
    people_b = [cast.member_b_record, *add_members(cast.B, full=2, prefix="乙")]
    today_is(date(2026, 4, 5))
    record(cast, cast.B, "general_assembly", date(2026, 3, 12), people=people_b)  # late
    today_is(date(2026, 6, 15))
    rollup = compliance_rollup(organization=cast.P, year=2026, quarter=1)
    by_type = {k: t for k, _, t in rollup.by_kind}
    assert (by_type["general_assembly"].done, by_type["general_assembly"].late) == (1, 1)
    assert by_type["general_assembly"].share == 50
    children = {o.pk: t for o, t in rollup.by_child}
    assert children[cast.A.pk].done >= 1 and children[cast.B.pk].late == 1
    # The group's monthly 党小组会 counts under its branch A.
    assert children[cast.A.pk].overdue >= 3 + 3  # theme_day ×3 + group ×3
    data = rollup.as_dict()
    assert data["total"]["judged"] == rollup.total.done + rollup.total.late + rollup.total.overdue


def test_rollup_takes_constant_queries(cast, people, today_is):
    def grow(n):
        for _ in range(n):
            branch = make_org(f"增补支部{grow.count}", "branch", parent=cast.P)
            grow.count += 1
            members = add_members(branch, full=3, prefix=f"增{grow.count}")
            add_committee(branch, members)
            record(cast, branch, "general_assembly", date(2026, 3, 3), people=members)

    grow.count = 0
    grow(2)
    with CaptureQueriesContext(connection) as small:
        compliance_rollup(organization=cast.P, year=2026)
    grow(6)
    with CaptureQueriesContext(connection) as large:
        rollup = compliance_rollup(organization=cast.P, year=2026)
    assert len(small) == len(large) <= 12, (len(small), len(large))
    assert rollup.org_count == 4 + 8


def test_default_rules_match_the_rule_table_and_can_be_reinstalled(cast):
    from activities.defaults import DEFAULT_RULES, compliance_defaults_install

    expected = sum(len(types) for types, *_ in DEFAULT_RULES)
    assert ComplianceRule.objects.filter(organization=None).count() == expected
    assert compliance_defaults_install() == 0
    ComplianceRule.objects.filter(kind="lecture").delete()
    assert compliance_defaults_install() == 3


def test_demo_activities_fill_the_calendar(cast, today_is):
    from django.core.management import call_command

    from activities.models import Meeting

    add_members(cast.A, full=6)
    add_members(cast.B, full=4, prefix="乙")
    call_command("seed_activities_demo", "--seed", "3")
    meetings = Meeting.objects.filter(organization__in=[cast.A, cast.B])
    assert meetings.count() >= 10 and not meetings.filter(status="draft").exists()
    statuses = {i.status for i in compliance_items(organization=cast.A, year=2026) if i.period_end < date(2026, 6, 1)}
    assert "done" in statuses  # demo records are "entered" the day after the meeting
    call_command("seed_activities_demo", "--if-empty")
    assert Meeting.objects.filter(organization__in=[cast.A, cast.B]).count() == meetings.count()
