"""Reminder rules that read the other apps' selectors: the compliance calendar (activities),
dues arrears (members.dues.selectors), the development pipeline (members.development.rules),
study hours (activities). Each rule's trigger date at its boundaries, and escalation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from activities.models import StudyRecord
from members.development.models import StepCode
from members.development.services import development_applicant_create, development_step_record
from members.dues.services.fixings import dues_fixing_create
from notifications.models import Notification, ReminderDispatch
from notifications.services.inbox import preference_update
from notifications.services.reminder_settings import reminder_setting_update
from notifications.services.runs import reminder_run_inline
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
S = StepCode
VOTES = {"votes_expected": 10, "votes_present": 8, "votes_for": 6, "votes_against": 1, "votes_abstain": 1}


def scan(on: date) -> None:
    reminder_run_inline(on=on)


def keys(rule: str) -> set[str]:
    return set(ReminderDispatch.objects.filter(rule=rule).values_list("period", flat=True))


def inbox(user, rule: str) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, rule=rule))


# --- compliance calendar ---------------------------------------------------------------------

MAY_THEME_DAY = "theme_day:2026-05-01"  # 主题党日, monthly for a branch: deadline 31 May


def test_compliance_upcoming_seven_days_before_the_deadline(cast):
    scan(date(2026, 5, 23))
    assert MAY_THEME_DAY not in keys("compliance_upcoming")
    scan(date(2026, 5, 24))
    assert MAY_THEME_DAY in keys("compliance_upcoming")
    titles = [n.title for n in inbox(cast.users["secretary_a"], "compliance_upcoming")]
    assert any("主题党日" in t and "5月31日" in t for t in titles)
    assert inbox(cast.users["org_admin_p"], "compliance_upcoming") == []  # the branch's own business


def test_compliance_due_today_only_on_the_day(cast):
    scan(date(2026, 5, 30))
    assert MAY_THEME_DAY not in keys("compliance_due_today")
    scan(date(2026, 5, 31))
    assert MAY_THEME_DAY in keys("compliance_due_today")


def test_compliance_overdue_the_next_day_then_escalated_after_the_grace_period(cast):
    scan(date(2026, 5, 31))
    assert MAY_THEME_DAY not in keys("compliance_overdue")
    scan(date(2026, 6, 1))
    assert MAY_THEME_DAY in keys("compliance_overdue")
    assert any("已逾期" in n.title for n in inbox(cast.users["secretary_a"], "compliance_overdue"))
    scan(date(2026, 6, 14))  # 14 days after the deadline
    assert MAY_THEME_DAY not in keys("compliance_escalation")
    scan(date(2026, 6, 15))  # 15 days after: to the parent organization's org_admin
    assert MAY_THEME_DAY in keys("compliance_escalation")
    escalated = [n.title for n in inbox(cast.users["org_admin_p"], "compliance_escalation")]
    assert "下级组织逾期未完成：第一党支部 主题党日（2026年5月）" in escalated
    assert not [n for n in inbox(cast.users["secretary_a"], "compliance_escalation") if "主题党日" in n.title]
    scan(date(2026, 6, 16))
    assert ReminderDispatch.objects.filter(rule="compliance_escalation", period=MAY_THEME_DAY).count() == 2  # A, B


def test_compliance_grace_period_is_a_setting(cast):
    reminder_setting_update(
        user=cast.users["org_admin_p"], organization=cast.P, rule="compliance_escalation", grace_days=3
    )
    scan(date(2026, 6, 3))
    assert MAY_THEME_DAY in keys("compliance_escalation")


def test_done_items_are_not_reminded(cast):
    from activities.models import MeetingCredit
    from activities.services.meetings import meeting_save
    from tests.activities.conftest import attendance, header

    meeting_save(
        user=cast.users["org_admin_p"],
        organization=cast.A,
        data=header("theme_day", held_on=date(2026, 5, 20)),
        attendance=attendance([cast.member_a_record], present=1),
        resolutions=[],
        finish=True,
    )
    assert MeetingCredit.objects.filter(organization=cast.A, kind="theme_day").exists()
    scan(date(2026, 6, 1))
    overdue_orgs = set(
        ReminderDispatch.objects.filter(rule="compliance_overdue", period=MAY_THEME_DAY).values_list(
            "target_id", flat=True
        )
    )
    assert cast.A.pk not in overdue_orgs and cast.B.pk in overdue_orgs


# --- dues arrears ----------------------------------------------------------------------------


def _fix_2025(member):
    dues_fixing_create(member=member, year=2025, category="employed", base=Decimal("5100"), fixed_on=date(2025, 1, 5))


def test_three_months_unpaid_warns_member_and_secretary(cast):
    _fix_2025(cast.member_a_record)
    scan(date(2025, 3, 31))  # January and February have ended: 2 months
    assert keys("dues_arrears_warning") == set()
    scan(date(2025, 4, 1))  # March has ended: 3 months
    assert keys("dues_arrears_warning") == {"2025-01"}
    assert len(inbox(cast.users["member_a"], "dues_arrears_warning")) == 1
    assert len(inbox(cast.users["secretary_a"], "dues_arrears_warning")) == 1
    assert inbox(cast.users["org_admin_p"], "dues_arrears_warning") == []


def test_six_months_unpaid_goes_to_secretary_and_parent_admin_not_member(cast):
    _fix_2025(cast.member_a_record)
    scan(date(2025, 6, 30))
    assert keys("dues_arrears_serious") == set()
    scan(date(2025, 7, 1))
    assert keys("dues_arrears_serious") == {"2025-01"}
    assert len(inbox(cast.users["secretary_a"], "dues_arrears_serious")) == 1
    assert len(inbox(cast.users["org_admin_p"], "dues_arrears_serious")) == 1
    assert inbox(cast.users["member_a"], "dues_arrears_serious") == []


def test_arrears_threshold_retimed(cast):
    reminder_setting_update(user=cast.users["org_admin_p"], organization=cast.P, rule="dues_arrears_warning", offset=2)
    _fix_2025(cast.member_a_record)
    scan(date(2025, 3, 1))
    assert keys("dues_arrears_warning") == {"2025-01"}


# --- development pipeline --------------------------------------------------------------------


@pytest.fixture
def applicant(cast):
    return development_applicant_create(
        organization=cast.A, name="申请人", sex="female", birth_date=date(2000, 1, 1), applied_on=date(2024, 1, 10)
    )


def rec(person, step, on, **kw):
    return development_step_record(member=person, step=step, occurred_on=on, **kw)


def test_application_talk_three_weeks_after_the_application(cast, applicant):
    scan(date(2024, 1, 30))
    assert keys("dev_application_talk") == set()
    scan(date(2024, 1, 31))
    assert keys("dev_application_talk") == {"2024-01-10"}
    assert "申请人" in inbox(cast.users["secretary_a"], "dev_application_talk")[0].title


def test_no_talk_reminder_once_the_talk_is_recorded(cast, applicant):
    rec(applicant, S.TALK, date(2024, 1, 20))
    scan(date(2024, 2, 1))
    assert keys("dev_application_talk") == set()


def test_activist_review_every_six_months_and_one_year(cast, applicant):
    rec(applicant, S.TALK, date(2024, 1, 20))
    rec(applicant, S.ACTIVIST, date(2024, 3, 1))
    scan(date(2024, 8, 31))
    assert keys("dev_activist_review") == set()
    scan(date(2024, 9, 1))
    assert keys("dev_activist_review") == {"2024-09-01"}
    rec(applicant, S.ACTIVIST_REVIEW, date(2024, 9, 5))
    scan(date(2025, 3, 4))
    assert keys("dev_activist_review") == {"2024-09-01"}
    scan(date(2025, 3, 5))  # six months after the last review
    assert keys("dev_activist_review") == {"2024-09-01", "2025-03-05"}
    assert keys("dev_activist_year") == {"2024-03-01"}  # one year reached on 2025-03-01


def test_activist_year_boundary(cast, applicant):
    rec(applicant, S.TALK, date(2024, 1, 20))
    rec(applicant, S.ACTIVIST, date(2024, 3, 1))
    rec(applicant, S.ACTIVIST_REVIEW, date(2024, 8, 30))
    scan(date(2025, 2, 28))
    assert keys("dev_activist_year") == set()
    scan(date(2025, 3, 1))
    assert keys("dev_activist_year") == {"2024-03-01"}


def _to_vote(person, cast):
    intro1 = MemberFactory(organization=cast.A, name="介绍人一")
    intro2 = MemberFactory(organization=cast.A, name="介绍人二")
    rec(person, S.TALK, date(2022, 2, 10))
    rec(person, S.ACTIVIST, date(2022, 3, 1))
    rec(person, S.CONTACTS, date(2022, 3, 5), people=[intro1])
    rec(person, S.ACTIVIST_REVIEW, date(2022, 9, 1))
    rec(person, S.ACTIVIST_REVIEW, date(2023, 3, 1))
    rec(person, S.CANDIDATE, date(2023, 3, 1))
    rec(person, S.INTRODUCERS, date(2023, 3, 10), people=[intro1, intro2])
    rec(person, S.POLITICAL_REVIEW, date(2023, 4, 1))
    rec(person, S.TRAINING, date(2023, 4, 10), training_days=Decimal("3"))
    rec(person, S.COMMITTEE_REVIEW, date(2023, 5, 1))
    rec(person, S.PRE_REVIEW, date(2023, 5, 10))
    rec(person, S.APPLICATION_FORM, date(2023, 5, 20))
    rec(person, S.ADMISSION_VOTE, date(2023, 6, 1), **VOTES)


@pytest.fixture
def voted(cast):
    person = development_applicant_create(
        organization=cast.A, name="发展对象", sex="male", birth_date=date(1999, 1, 1), applied_on=date(2022, 1, 10)
    )
    _to_vote(person, cast)
    return person


def test_committee_approval_pending_after_75_days(cast, voted):
    scan(date(2023, 8, 14))  # 74 days after the vote
    assert keys("dev_approval_pending") == set()
    scan(date(2023, 8, 15))
    assert keys("dev_approval_pending") == {"2023-06-01"}
    assert len(inbox(cast.users["secretary_a"], "dev_approval_pending")) == 1
    assert len(inbox(cast.users["org_admin_p"], "dev_approval_pending")) == 1  # the approving committee


def test_probation_end_from_the_development_records(cast, voted):
    rec(voted, S.APPROVAL_TALK, date(2023, 6, 15))
    rec(voted, S.ADMISSION_APPROVAL, date(2023, 8, 1))
    end = date(2024, 6, 1)  # one year from the 支部大会 vote
    scan(end - timedelta(days=31))
    assert keys("dev_probation_ending") == set()
    scan(end - timedelta(days=30))
    assert keys("dev_probation_ending") == {"2024-06-01"}
    assert keys("dev_approval_pending") == set()


# --- study pace (opt-in) ---------------------------------------------------------------------


def test_study_pace_is_off_unless_the_organization_opts_in(cast):
    scan(date(2026, 3, 20))
    assert keys("study_pace") == set()


def test_study_pace_reminds_members_behind_the_pro_rata_pace(cast):
    reminder_setting_update(user=cast.users["org_admin_p"], organization=cast.P, rule="study_pace", enabled=True)
    on_pace = MemberFactory(organization=cast.A, user=None)
    on_pace.user = cast.users["secretary_b"]  # a second member with a login, ahead of pace
    on_pace.save()
    StudyRecord.objects.create(
        member=on_pace,
        organization=cast.A,
        source="self",
        studied_on=date(2026, 1, 15),
        hours=Decimal("6"),
        title="自学",
    )
    scan(date(2026, 3, 19))
    assert keys("study_pace") == set()
    scan(date(2026, 3, 20))  # pace by the end of February: 32 × 2/12 ≈ 5.3 学时
    items = inbox(cast.users["member_a"], "study_pace")
    assert len(items) == 1 and "0 学时" in items[0].title
    assert inbox(cast.users["secretary_b"], "study_pace") == []
    assert inbox(cast.users["secretary_a"], "study_pace") == []  # members only, never a list for others


def test_study_pace_personal_opt_out(cast):
    reminder_setting_update(user=cast.users["org_admin_p"], organization=cast.P, rule="study_pace", enabled=True)
    preference_update(user=cast.users["member_a"], email_enabled=True, muted_rules=["study_pace"])
    scan(date(2026, 3, 20))
    assert inbox(cast.users["member_a"], "study_pace") == []
