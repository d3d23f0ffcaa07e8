"""Reminder rules: each rule's trigger date at its boundaries, recipients, escalation, settings
inherited down the tree, opt-outs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from core.dates import add_months, add_years
from core.roles import Role
from members.choices import MembershipStatus, Stage
from notifications.models import Notification, ReminderDispatch
from notifications.scan.context import ScanContext, anniversary, monthly_trigger_day
from notifications.scan.registry import evaluate
from notifications.selectors import SettingsResolver
from notifications.services.inbox import preference_update
from notifications.services.reminder_settings import reminder_setting_update
from notifications.services.runs import reminder_run_inline
from organizations.choices import OrgType
from organizations.services import committee_term_extend, committee_term_start
from tests.factories import MemberFactory, UserFactory, assign, make_org

pytestmark = pytest.mark.django_db


def scan(on: date) -> int:
    run = reminder_run_inline(on=on)
    return sum(run.batches.values_list("created_count", flat=True))


def inbox(user, rule: str | None = None) -> list[Notification]:
    qs = Notification.objects.filter(recipient=user)
    if rule:
        qs = qs.filter(rule=rule)
    return list(qs)


def fired(rule: str) -> int:
    return ReminderDispatch.objects.filter(rule=rule).count()


# --- committee terms -------------------------------------------------------------------------


def test_term_ending_fires_six_months_before_expiry_not_a_day_earlier(cast):
    term = committee_term_start(org=cast.A, elected_on=date(2024, 3, 10))  # 3 years → 2027-03-10
    first_day = add_months(term.expires_on, -6)
    assert first_day == date(2026, 9, 10)
    scan(first_day - timedelta(days=1))
    assert fired("term_ending") == 0
    scan(first_day)
    assert fired("term_ending") == 1
    secretary_items = inbox(cast.users["secretary_a"], "term_ending")
    assert len(secretary_items) == 1 and "2027年3月10日" in secretary_items[0].title
    # the parent organization's org_admin is told too; nobody else
    assert len(inbox(cast.users["org_admin_p"], "term_ending")) == 1
    assert inbox(cast.users["secretary_b"], "term_ending") == [] and inbox(cast.users["member_a"], "term_ending") == []
    # later scans in the window add nothing
    scan(first_day + timedelta(days=1))
    scan(term.expires_on)
    assert fired("term_ending") == 1


def test_term_overdue_fires_the_day_after_expiry_and_again_after_an_approved_delay(cast):
    term = committee_term_start(org=cast.A, elected_on=date(2024, 3, 10))
    scan(term.expires_on)
    assert fired("term_overdue") == 0
    scan(term.expires_on + timedelta(days=1))
    assert fired("term_overdue") == 1
    # an approved delay is a new deadline: ending and overdue reminders are about the new date
    committee_term_extend(term=term, until=date(2027, 9, 10))
    scan(date(2027, 9, 10))
    scan(date(2027, 9, 11))
    assert fired("term_overdue") == 2
    assert ReminderDispatch.objects.filter(rule="term_overdue", period="2027-09-10").exists()


def test_term_of_a_closed_term_is_silent(cast):
    committee_term_start(org=cast.A, elected_on=date(2020, 1, 1))
    committee_term_start(org=cast.A, elected_on=date(2023, 1, 5))  # closes the first one
    scan(date(2023, 2, 1))
    assert fired("term_overdue") == 0


# --- members: political birthday, probation, lost contact, away --------------------------------


def test_political_birthday_on_the_anniversary_to_the_member_only(cast):
    member = cast.member_a_record
    member.joined_on = date(2010, 7, 1)
    member.save()
    scan(date(2026, 6, 30))
    assert fired("political_birthday") == 0
    scan(date(2026, 7, 1))
    items = inbox(cast.users["member_a"], "political_birthday")
    assert len(items) == 1 and "16 年" in items[0].body
    assert inbox(cast.users["secretary_a"], "political_birthday") == []
    scan(date(2026, 7, 2))
    assert fired("political_birthday") == 1
    # the next year, once more
    scan(date(2027, 7, 1))
    assert fired("political_birthday") == 2


def test_political_birthday_catch_up_window_is_one_week(cast):
    member = cast.member_a_record
    member.joined_on = date(2010, 7, 1)
    member.save()
    scan(date(2026, 7, 8))  # 7 days late: too late
    assert fired("political_birthday") == 0
    scan(date(2026, 7, 7))  # 6 days late: still sent
    assert fired("political_birthday") == 1


def test_political_birthday_leap_day_and_year_end():
    assert anniversary(date(2008, 2, 29), 2026) == date(2026, 2, 28)
    assert anniversary(date(2008, 2, 29), 2028) == date(2028, 2, 29)


def test_political_birthday_year_end_catch_up_crosses_new_year(cast):
    member = cast.member_a_record
    member.joined_on = date(2010, 12, 30)
    member.save()
    scan(date(2027, 1, 2))
    assert ReminderDispatch.objects.filter(rule="political_birthday", period="2026").count() == 1


def test_political_birthday_opt_out(cast):
    member = cast.member_a_record
    member.joined_on = date(2010, 7, 1)
    member.save()
    preference_update(user=cast.users["member_a"], email_enabled=True, muted_rules=["political_birthday"])
    scan(date(2026, 7, 1))
    assert inbox(cast.users["member_a"]) == []
    assert fired("political_birthday") == 0


def test_work_reminders_cannot_be_opted_out(cast):
    with pytest.raises(ValidationError) as exc:
        preference_update(user=cast.users["secretary_a"], email_enabled=True, muted_rules=["term_overdue"])
    assert "不能关闭" in exc.value.message_dict["muted_rules"][0]


def test_probation_ending_thirty_days_before_the_year_ends(cast):
    MemberFactory(
        name="预备甲", organization=cast.A, stage=Stage.PROBATIONARY, joined_on=date(2026, 3, 1), full_on=None
    )
    end = add_years(date(2026, 3, 1), 1)
    scan(end - timedelta(days=31))
    assert fired("dev_probation_ending") == 0
    scan(end - timedelta(days=30))
    assert fired("dev_probation_ending") == 1
    assert "预备甲" in inbox(cast.users["secretary_a"], "dev_probation_ending")[0].title


def test_lost_contact_six_months(cast):
    MemberFactory(name="失联乙", organization=cast.A, is_lost_contact=True, lost_contact_since=date(2026, 1, 31))
    scan(date(2026, 7, 30))
    assert fired("member_lost_contact") == 0
    scan(date(2026, 7, 31))
    assert fired("member_lost_contact") == 1
    assert "停止党籍" in inbox(cast.users["secretary_a"], "member_lost_contact")[0].body


def test_away_six_months_without_transfer(cast):
    MemberFactory(
        name="流动丙",
        organization=cast.A,
        is_mobile=True,
        mobile_since=date(2026, 2, 15),
        mobile_destination="广东省深圳市",
    )
    scan(date(2026, 8, 14))
    assert fired("member_away") == 0
    scan(date(2026, 8, 15))
    items = inbox(cast.users["secretary_a"], "member_away")
    assert len(items) == 1 and "深圳" in items[0].body


def test_suspended_members_get_no_member_reminders(cast):
    MemberFactory(
        organization=cast.A,
        is_lost_contact=True,
        lost_contact_since=date(2025, 1, 1),
        membership_status=MembershipStatus.SUSPENDED,
    )
    scan(date(2026, 7, 31))
    assert fired("member_lost_contact") == 0


# --- dues collection -------------------------------------------------------------------------


def test_monthly_dues_collection_on_the_configured_day(cast):
    scan(date(2026, 5, 4))
    assert fired("dues_collection") == 0
    scan(date(2026, 5, 5))  # default: the 5th
    # A and B have party members; P (no direct members) and the group A1 get nothing
    assert set(ReminderDispatch.objects.filter(rule="dues_collection").values_list("target_id", flat=True)) == {
        cast.A.pk,
        cast.B.pk,
    }
    scan(date(2026, 5, 20))
    assert fired("dues_collection") == 2
    scan(date(2026, 6, 5))
    assert fired("dues_collection") == 4


def test_monthly_day_last_means_the_month_end():
    assert monthly_trigger_day(date(2026, 2, 1), "last") == 28
    assert monthly_trigger_day(date(2028, 2, 1), "last") == 29
    assert monthly_trigger_day(date(2026, 4, 1), "28") == 28


# --- settings inherited down the tree --------------------------------------------------------


def test_org_admin_switches_off_a_rule_for_the_subtree(cast):
    reminder_setting_update(user=cast.users["org_admin_p"], organization=cast.P, rule="dues_collection", enabled=False)
    scan(date(2026, 5, 5))
    assert fired("dues_collection") == 0


def test_nearest_override_wins(cast):
    admin = cast.users["org_admin_p"]
    reminder_setting_update(user=admin, organization=cast.P, rule="dues_collection", day_of_month="20")
    reminder_setting_update(user=admin, organization=cast.A, rule="dues_collection", day_of_month="10")
    resolver = SettingsResolver.for_paths([cast.A.path, cast.B.path, cast.A1.path])
    assert resolver.get(cast.A.path, "dues_collection").day_of_month == "10"
    assert resolver.get(cast.A1.path, "dues_collection").day_of_month == "10"
    assert resolver.get(cast.B.path, "dues_collection").day_of_month == "20"
    assert resolver.get(cast.B.path, "dues_collection").source_path == cast.P.path
    scan(date(2026, 5, 10))
    assert set(ReminderDispatch.objects.values_list("target_id", flat=True).filter(rule="dues_collection")) == {
        cast.A.pk
    }


def test_retimed_term_reminder(cast):
    reminder_setting_update(user=cast.users["org_admin_p"], organization=cast.P, rule="term_ending", offset=3)
    term = committee_term_start(org=cast.B, elected_on=date(2024, 3, 10))
    scan(add_months(term.expires_on, -3) - timedelta(days=1))
    assert fired("term_ending") == 0
    scan(add_months(term.expires_on, -3))
    assert fired("term_ending") == 1


@pytest.mark.parametrize(
    "kwargs,field,message",
    [
        ({"rule": "term_ending", "offset": -1}, "offset", "不能为负数"),
        ({"rule": "term_ending", "offset": 13}, "offset", "不能超过 12 个月"),
        ({"rule": "dues_collection", "day_of_month": "31"}, "day_of_month", "并非每个月都有"),
        ({"rule": "dues_collection", "day_of_month": "29"}, "day_of_month", "并非每个月都有"),
        ({"rule": "dues_collection", "day_of_month": "0"}, "day_of_month", "1–28"),
        ({"rule": "dues_collection", "day_of_month": "abc"}, "day_of_month", "1–28"),
        ({"rule": "compliance_escalation", "grace_days": -3}, "grace_days", "不能为负数"),
        ({"rule": "political_birthday", "offset": 3}, "offset", "没有可调整的时间"),
        ({"rule": "nonsense"}, "rule", "未知"),
    ],
)
def test_bad_settings_are_refused_in_chinese(cast, kwargs, field, message):
    with pytest.raises(ValidationError) as exc:
        reminder_setting_update(user=cast.users["org_admin_p"], organization=cast.P, **kwargs)
    assert message in exc.value.message_dict[field][0]


def test_month_end_is_accepted(cast):
    setting = reminder_setting_update(
        user=cast.users["org_admin_p"], organization=cast.P, rule="dues_collection", day_of_month="月末"
    )
    assert setting.day_of_month == "last"


@pytest.mark.parametrize("who", ["secretary_a", "member_a", "auditor_p", "sysadmin", "outsider"])
def test_only_org_admins_change_settings(cast, who):
    with pytest.raises(ValidationError):
        reminder_setting_update(user=cast.users[who], organization=cast.A, rule="term_ending", enabled=False)


def test_org_admin_cannot_change_settings_outside_the_subtree(cast):
    with pytest.raises(ValidationError):
        reminder_setting_update(user=cast.users["org_admin_p"], organization=cast.Q, rule="term_ending", enabled=False)


def test_clearing_every_value_restores_inheritance(cast):
    admin = cast.users["org_admin_p"]
    reminder_setting_update(user=admin, organization=cast.A, rule="term_ending", enabled=False)
    assert reminder_setting_update(user=admin, organization=cast.A, rule="term_ending") is None
    resolver = SettingsResolver.for_paths([cast.A.path])
    assert resolver.get(cast.A.path, "term_ending").enabled is True


# --- recipients ------------------------------------------------------------------------------


def test_group_reminders_go_to_the_branch_secretary_and_fallbacks(cast):
    # no secretary role on B's new sibling C → its org_admin above (P) is told instead
    C = make_org("第三党支部", OrgType.BRANCH, parent=cast.P)
    committee_term_start(org=C, elected_on=date(2020, 1, 1))
    scan(date(2026, 1, 2))
    assert len(inbox(cast.users["org_admin_p"], "term_overdue")) == 1


def test_parent_admin_of_a_root_is_its_own_admin(cast):
    q_admin = UserFactory(username="q_admin")
    assign(q_admin, cast.Q, Role.ORG_ADMIN)
    committee_term_start(org=cast.Q, elected_on=date(2018, 1, 1))
    scan(date(2026, 1, 2))
    assert len(inbox(q_admin, "term_overdue")) == 1


def test_inactive_users_receive_nothing(cast):
    user = cast.users["secretary_a"]
    user.is_active = False
    user.save()
    committee_term_start(org=cast.A, elected_on=date(2020, 1, 1))
    scan(date(2026, 1, 2))
    assert inbox(user) == []


def test_evaluate_is_pure_and_repeatable(cast):
    committee_term_start(org=cast.A, elected_on=date(2020, 1, 1))
    ctx = ScanContext.for_org_ids([cast.A.pk, cast.B.pk], date(2026, 1, 2))
    first = {c.dedupe_key for c in evaluate(ctx)}
    second = {c.dedupe_key for c in evaluate(ctx)}
    assert first == second and any(key.startswith("term_overdue:term:") for key in first)


# --- rectification items (assessments) -------------------------------------------------------


def _rectification(cast, deadline: date, **extra):
    from assessments.models import RectificationItem

    return RectificationItem.objects.create(
        organization=cast.A,
        problem="三会一课记录不完整",
        requirement="补齐会议记录",
        owner_name="甲书记",
        deadline=deadline,
        **extra,
    )


def test_rectification_due_fires_seven_days_before_the_deadline_not_a_day_earlier(cast):
    item = _rectification(cast, date(2026, 12, 20))
    scan(date(2026, 12, 12))
    assert fired("rectification_due") == 0
    scan(date(2026, 12, 13))
    assert fired("rectification_due") == 1
    (note,) = inbox(cast.users["secretary_a"], "rectification_due")
    assert "2026年12月20日" in note.title and f"/assessments/rectifications/{item.pk}/" in note.link
    assert inbox(cast.users["secretary_b"], "rectification_due") == []
    scan(date(2026, 12, 20))  # the deadline itself: still in the window, already sent
    assert fired("rectification_due") == 1 and fired("rectification_overdue") == 0


def test_rectification_overdue_fires_the_day_after_to_the_secretary_and_the_parent_admin(cast):
    _rectification(cast, date(2026, 12, 20))
    scan(date(2026, 12, 20))
    assert fired("rectification_overdue") == 0
    scan(date(2026, 12, 21))
    assert fired("rectification_overdue") == 1
    assert len(inbox(cast.users["secretary_a"], "rectification_overdue")) == 1
    assert len(inbox(cast.users["org_admin_p"], "rectification_overdue")) == 1
    scan(date(2026, 12, 22))
    assert fired("rectification_overdue") == 1


@pytest.mark.parametrize("status", ["submitted", "closed"])
def test_rectification_reported_or_closed_is_silent(cast, status):
    _rectification(cast, date(2026, 12, 20), status=status)
    scan(date(2026, 12, 15))
    scan(date(2026, 12, 25))
    assert fired("rectification_due") == 0 and fired("rectification_overdue") == 0


def test_rectification_reminders_can_be_retimed_and_switched_off(cast):
    _rectification(cast, date(2026, 12, 20))
    admin = cast.users["org_admin_p"]
    reminder_setting_update(user=admin, organization=cast.P, rule="rectification_due", offset=3)
    reminder_setting_update(user=admin, organization=cast.P, rule="rectification_overdue", enabled=False)
    scan(date(2026, 12, 16))
    assert fired("rectification_due") == 0
    scan(date(2026, 12, 17))
    assert fired("rectification_due") == 1
    scan(date(2026, 12, 21))
    assert fired("rectification_overdue") == 0
