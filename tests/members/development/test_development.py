"""发展党员: each transition's timing rule at its boundary, order of dates, stage changes."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from audit.models import AuditEvent
from members.choices import MembershipStatus, Stage
from members.development.models import DevelopmentStep, StepCode
from members.development.rules import DevelopmentState, next_actions
from members.development.services import (
    development_applicant_create,
    development_state,
    development_step_record,
)
from members.discipline.services import member_sanction_record
from members.dues.models import DuesMonth
from members.dues.services.fixings import dues_fixing_create
from members.models import Member
from organizations.choices import OrgType
from tests.factories import MemberFactory, make_org

pytestmark = pytest.mark.django_db
S = StepCode
VOTES = {"votes_expected": 10, "votes_present": 8, "votes_for": 6, "votes_against": 1, "votes_abstain": 1}


@pytest.fixture
def people(cast):
    intro1 = MemberFactory(organization=cast.A, name="介绍人一")
    intro2 = MemberFactory(organization=cast.A, name="介绍人二")
    person = development_applicant_create(
        organization=cast.A, name="申请人", sex="female", birth_date=date(2000, 1, 1), applied_on=date(2023, 1, 10)
    )
    return person, intro1, intro2


def rec(person, step, on, **kw):
    return development_step_record(member=person, step=step, occurred_on=on, **kw)


def to_candidate(person, intro1, intro2):
    rec(person, S.TALK, date(2023, 2, 10))
    rec(person, S.ACTIVIST, date(2023, 3, 1))
    rec(person, S.CONTACTS, date(2023, 3, 5), people=[intro1])
    rec(person, S.ACTIVIST_REVIEW, date(2023, 9, 1))
    rec(person, S.ACTIVIST_REVIEW, date(2024, 3, 1))
    rec(person, S.CANDIDATE, date(2024, 3, 1))


def to_vote(person, intro1, intro2):
    to_candidate(person, intro1, intro2)
    rec(person, S.INTRODUCERS, date(2024, 3, 10), people=[intro1, intro2])
    rec(person, S.POLITICAL_REVIEW, date(2024, 4, 1))
    rec(person, S.TRAINING, date(2024, 4, 10), training_days=Decimal("3"))
    rec(person, S.COMMITTEE_REVIEW, date(2024, 5, 1))
    rec(person, S.PRE_REVIEW, date(2024, 5, 10))
    rec(person, S.APPLICATION_FORM, date(2024, 5, 20))
    rec(person, S.ADMISSION_VOTE, date(2024, 6, 1), **VOTES)
    rec(person, S.APPROVAL_TALK, date(2024, 6, 15))


def to_probationary(person, intro1, intro2):
    to_vote(person, intro1, intro2)
    rec(person, S.ADMISSION_APPROVAL, date(2024, 8, 1))
    rec(person, S.FULL_APPLICATION, date(2025, 5, 20))


def message(exc, field):
    return " ".join(exc.value.message_dict[field])


def test_applicant_created_with_step_one(people):
    person, *_ = people
    assert person.stage == Stage.APPLICANT and person.joined_on is None
    step = DevelopmentStep.objects.get(member=person)
    assert (step.step, step.number, step.occurred_on) == (S.APPLICATION, 1, date(2023, 1, 10))
    assert AuditEvent.objects.filter(event="development_step_record").count() == 1


def test_age_at_application_boundary(cast):
    with pytest.raises(ValidationError) as exc:
        development_applicant_create(
            organization=cast.A, name="少年", sex="male", birth_date=date(2006, 1, 11), applied_on=date(2024, 1, 10)
        )
    assert "年满十八岁" in str(exc.value)
    assert not Member.objects.filter(name="少年").exists()
    ok = development_applicant_create(
        organization=cast.A, name="成年", sex="male", birth_date=date(2006, 1, 11), applied_on=date(2024, 1, 11)
    )
    assert ok.stage == Stage.APPLICANT


def test_talk_within_one_month_warns_after(people):
    person, *_ = people
    on_time = rec(person, S.TALK, date(2023, 2, 10))
    assert on_time.warnings == []
    DevelopmentStep.objects.filter(pk=on_time.pk).delete()
    late = rec(person, S.TALK, date(2023, 2, 11))
    assert "一个月内派人谈话" in late.warnings[0] and "已晚 1 天" in late.warnings[0]


def test_dates_out_of_order_refused(people):
    person, *_ = people
    with pytest.raises(ValidationError) as exc:
        rec(person, S.TALK, date(2023, 1, 9))
    assert "不能早于“递交入党申请书”" in message(exc, "occurred_on")
    with pytest.raises(ValidationError) as exc:
        rec(person, S.FULL_VOTE, date(2023, 5, 1), outcome="full", **VOTES)
    assert "请先登记“提出书面转正申请”" in message(exc, "step")
    with pytest.raises(ValidationError) as exc:
        rec(person, S.TALK, date(2099, 1, 1))
    assert "不能晚于今天" in message(exc, "occurred_on")
    assert DevelopmentStep.objects.filter(member=person).count() == 1


def test_non_repeatable_step_refused_twice(people):
    person, *_ = people
    rec(person, S.TALK, date(2023, 2, 1))
    with pytest.raises(ValidationError) as exc:
        rec(person, S.TALK, date(2023, 2, 2))
    assert "已于 2023-02-01 登记" in message(exc, "step")


def test_activist_stage_and_one_year_before_candidate(people):
    person, intro1, _ = people
    rec(person, S.TALK, date(2023, 2, 10))
    rec(person, S.ACTIVIST, date(2023, 3, 1))
    person.refresh_from_db()
    assert person.stage == Stage.ACTIVIST
    rec(person, S.ACTIVIST_REVIEW, date(2023, 9, 1))
    rec(person, S.ACTIVIST_REVIEW, date(2024, 2, 28))
    with pytest.raises(ValidationError) as exc:
        rec(person, S.CANDIDATE, date(2024, 2, 29))
    assert "一年以上培养教育" in message(exc, "occurred_on") and "2024-03-01 起方可确定" in message(exc, "occurred_on")
    step = rec(person, S.CANDIDATE, date(2024, 3, 1))
    person.refresh_from_db()
    assert person.stage == Stage.CANDIDATE
    assert "尚未登记培养联系人" in step.warnings


def test_six_monthly_reviews_required_before_candidate(people):
    person, *_ = people
    rec(person, S.ACTIVIST, date(2023, 3, 1))
    rec(person, S.ACTIVIST_REVIEW, date(2023, 9, 1))
    with pytest.raises(ValidationError) as exc:
        rec(person, S.CANDIDATE, date(2024, 3, 1))
    assert "应有 2 次，已登记 1 次" in message(exc, "step")


def test_contacts_are_one_or_two_full_members(people, cast):
    person, intro1, intro2 = people
    rec(person, S.ACTIVIST, date(2023, 3, 1))
    probationary = MemberFactory(
        organization=cast.A, stage=Stage.PROBATIONARY, full_on=None, joined_on=date(2022, 9, 1)
    )
    with pytest.raises(ValidationError) as exc:
        rec(person, S.CONTACTS, date(2023, 3, 5), people=[probationary])
    assert "不是正式党员" in message(exc, "people")
    with pytest.raises(ValidationError):
        rec(person, S.CONTACTS, date(2023, 3, 5), people=[])
    rec(person, S.CONTACTS, date(2023, 3, 5), people=[intro1, intro2])


def test_introducers_two_full_members_not_under_probation(people, cast):
    person, intro1, intro2 = people
    to_candidate(person, intro1, intro2)
    with pytest.raises(ValidationError) as exc:
        rec(person, S.INTRODUCERS, date(2024, 3, 10), people=[intro1])
    assert "2 名正式党员" in message(exc, "people")
    member_sanction_record(member=intro2, kind="probation", decided_on=date(2023, 6, 1), until=date(2025, 6, 1))
    with pytest.raises(ValidationError) as exc:
        rec(person, S.INTRODUCERS, date(2024, 3, 10), people=[intro1, intro2])
    assert "留党察看期间" in message(exc, "people")
    late_full = MemberFactory(organization=cast.A, full_on=date(2024, 3, 11))
    with pytest.raises(ValidationError) as exc:
        rec(person, S.INTRODUCERS, date(2024, 3, 10), people=[intro1, late_full])
    assert "不是正式党员" in message(exc, "people")
    third = MemberFactory(organization=cast.A)
    step = rec(person, S.INTRODUCERS, date(2024, 3, 10), people=[intro1, third])
    assert set(step.people.all()) == {intro1, third}


def test_sanction_probation_at_most_two_years(cast):
    with pytest.raises(ValidationError):
        member_sanction_record(
            member=cast.member_a_record, kind="probation", decided_on=date(2023, 1, 1), until=date(2025, 1, 2)
        )


@pytest.mark.parametrize(
    "days,hours,ok",
    [("3", None, True), ("2.5", None, False), (None, "24", True), (None, "23.5", False), ("2", "23", False)],
)
def test_training_three_days_or_24_hours(people, days, hours, ok):
    person, intro1, intro2 = people
    to_candidate(person, intro1, intro2)
    kwargs = {
        "training_days": Decimal(days) if days else None,
        "training_hours": Decimal(hours) if hours else None,
    }
    if ok:
        rec(person, S.TRAINING, date(2024, 4, 10), **kwargs)
    else:
        with pytest.raises(ValidationError) as exc:
            rec(person, S.TRAINING, date(2024, 4, 10), **kwargs)
        assert "3 天或 24 学时" in message(exc, "training_hours")


def test_political_review_failed_blocks_admission(people):
    person, intro1, intro2 = people
    to_candidate(person, intro1, intro2)
    rec(person, S.INTRODUCERS, date(2024, 3, 10), people=[intro1, intro2])
    rec(person, S.POLITICAL_REVIEW, date(2024, 4, 1), decision="rejected")
    rec(person, S.TRAINING, date(2024, 4, 10), training_hours=Decimal("24"))
    with pytest.raises(ValidationError) as exc:
        rec(person, S.COMMITTEE_REVIEW, date(2024, 5, 1))
    assert "请先登记“政治审查”" in message(exc, "step")


@pytest.mark.parametrize(
    "votes,passed",
    [
        ({**VOTES, "votes_for": 6}, True),
        ({**VOTES, "votes_for": 5, "votes_against": 2}, False),  # 5 of 10 expected is not more than half
        ({**VOTES, "votes_present": 6, "votes_for": 6, "votes_against": 0, "votes_abstain": 0}, True),
    ],
)
def test_admission_vote_majority_of_expected(people, votes, passed):
    person, intro1, intro2 = people
    to_vote_before_ballot(person, intro1, intro2)
    step = rec(person, S.ADMISSION_VOTE, date(2024, 6, 1), **votes)
    assert (step.decision == "approved") is passed
    person.refresh_from_db()
    assert person.stage == Stage.CANDIDATE and person.joined_on is None  # not a member before approval


def to_vote_before_ballot(person, intro1, intro2):
    to_candidate(person, intro1, intro2)
    rec(person, S.INTRODUCERS, date(2024, 3, 10), people=[intro1, intro2])
    rec(person, S.POLITICAL_REVIEW, date(2024, 4, 1))
    rec(person, S.TRAINING, date(2024, 4, 10), training_days=Decimal("3"))
    rec(person, S.COMMITTEE_REVIEW, date(2024, 5, 1))
    rec(person, S.PRE_REVIEW, date(2024, 5, 10))
    rec(person, S.APPLICATION_FORM, date(2024, 5, 20))


def test_admission_vote_needs_quorum_and_counts(people):
    person, intro1, intro2 = people
    to_vote_before_ballot(person, intro1, intro2)
    with pytest.raises(ValidationError) as exc:
        rec(
            person,
            S.ADMISSION_VOTE,
            date(2024, 6, 1),
            **{**VOTES, "votes_present": 5, "votes_for": 5, "votes_against": 0, "votes_abstain": 0},
        )
    assert "未超过应到会人数的半数" in message(exc, "votes_present")
    with pytest.raises(ValidationError) as exc:
        rec(person, S.ADMISSION_VOTE, date(2024, 6, 1), votes_expected=10)
    assert "votes_for" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        rec(person, S.ADMISSION_VOTE, date(2024, 6, 1), **{**VOTES, "votes_for": 9})
    assert "合计不能多于实到人数" in message(exc, "votes_for")


@pytest.mark.parametrize(
    "approved_on,warned,blocked",
    [
        (date(2024, 9, 1), False, False),  # exactly 3 months after the vote
        (date(2024, 9, 2), True, False),
        (date(2024, 12, 1), True, False),  # exactly 6 months: still allowed, with a warning
        (date(2024, 12, 2), False, True),  # past 6 months: the admission must be discussed again
    ],
)
def test_committee_approval_three_months_warn_six_months_block(people, approved_on, warned, blocked):
    person, intro1, intro2 = people
    to_vote(person, intro1, intro2)
    if blocked:
        with pytest.raises(ValidationError) as exc:
            rec(person, S.ADMISSION_APPROVAL, approved_on)
        assert "重新履行接收手续" in message(exc, "occurred_on")
        person.refresh_from_db()
        assert person.stage == Stage.CANDIDATE
        return
    step = rec(person, S.ADMISSION_APPROVAL, approved_on)
    assert bool(step.warnings) is warned
    person.refresh_from_db()
    assert person.stage == Stage.PROBATIONARY and person.joined_on == date(2024, 6, 1)


@override_settings(PB_DEV_APPROVAL_RESTART_MONTHS=4)
def test_restart_limit_is_a_setting_and_a_new_vote_restarts(people):
    person, intro1, intro2 = people
    to_vote(person, intro1, intro2)
    with pytest.raises(ValidationError):
        rec(person, S.ADMISSION_APPROVAL, date(2024, 10, 2))
    rec(person, S.ADMISSION_VOTE, date(2024, 10, 10), **VOTES)
    rec(person, S.ADMISSION_APPROVAL, date(2024, 11, 1))
    person.refresh_from_db()
    assert person.joined_on == date(2024, 10, 10)


def test_probation_one_year_from_vote_then_full(people):
    person, intro1, intro2 = people
    to_probationary(person, intro1, intro2)
    with pytest.raises(ValidationError) as exc:
        rec(person, S.FULL_VOTE, date(2025, 5, 31), outcome="full", **VOTES)
    assert "预备期至 2025-06-01 届满" in message(exc, "occurred_on")
    rec(person, S.FULL_VOTE, date(2025, 6, 1), outcome="full", **VOTES)
    step = rec(person, S.FULL_APPROVAL, date(2025, 7, 1))
    assert step.outcome == "full" and step.warnings == []
    person.refresh_from_db()
    assert person.stage == Stage.FULL and person.full_on == date(2025, 6, 1)  # 党龄 from 预备期满
    rec(person, S.ARCHIVE, date(2025, 7, 10))
    with pytest.raises(ValidationError):
        rec(person, S.PROBATION_REVIEW, date(2025, 7, 11))


def test_full_approval_late_warns(people):
    person, intro1, intro2 = people
    to_probationary(person, intro1, intro2)
    rec(person, S.FULL_VOTE, date(2025, 6, 1), outcome="full", **VOTES)
    step = rec(person, S.FULL_APPROVAL, date(2025, 9, 2))
    assert "三个月内审批转正" in step.warnings[0]


@pytest.mark.parametrize("months,ok", [(5, False), (6, True), (12, True), (13, False)])
def test_extension_six_to_twelve_months(people, months, ok):
    person, intro1, intro2 = people
    to_probationary(person, intro1, intro2)
    if not ok:
        with pytest.raises(ValidationError) as exc:
            rec(person, S.FULL_VOTE, date(2025, 6, 1), outcome="extend", extension_months=months, **VOTES)
        assert "不能少于半年" in message(exc, "extension_months")
        return
    rec(person, S.FULL_VOTE, date(2025, 6, 1), outcome="extend", extension_months=months, **VOTES)
    rec(person, S.FULL_APPROVAL, date(2025, 6, 20))
    person.refresh_from_db()
    assert person.stage == Stage.PROBATIONARY
    state = development_state(person)
    assert state.probation_end == date(2025 + (months // 12), 6 + months % 12, 1)


def test_after_extension_full_vote_waits_for_new_end_and_full_on_is_new_end(people):
    person, intro1, intro2 = people
    to_probationary(person, intro1, intro2)
    rec(person, S.FULL_VOTE, date(2025, 6, 1), outcome="extend", extension_months=6, **VOTES)
    rec(person, S.FULL_APPROVAL, date(2025, 6, 20))
    with pytest.raises(ValidationError):
        rec(person, S.FULL_VOTE, date(2025, 11, 30), outcome="full", **VOTES)
    with pytest.raises(ValidationError) as exc:
        rec(person, S.FULL_VOTE, date(2025, 12, 1), outcome="extend", extension_months=7, **VOTES)
    assert "累计不能超过一年" in message(exc, "extension_months")
    rec(person, S.FULL_VOTE, date(2025, 12, 1), outcome="full", **VOTES)
    rec(person, S.FULL_APPROVAL, date(2025, 12, 10))
    person.refresh_from_db()
    assert person.stage == Stage.FULL and person.full_on == date(2025, 12, 1)


def test_cancellation_removes_membership_and_stops_dues(people):
    person, intro1, intro2 = people
    to_probationary(person, intro1, intro2)
    person.refresh_from_db()
    dues_fixing_create(member=person, year=2025, category="student", fixed_on=date(2025, 1, 3))
    rec(person, S.FULL_VOTE, date(2025, 6, 1), outcome="cancel", **VOTES)
    rec(person, S.FULL_APPROVAL, date(2025, 6, 15))
    person.refresh_from_db()
    assert person.membership_status == MembershipStatus.REMOVED
    assert not DuesMonth.objects.filter(member=person, month__gte=date(2025, 7, 1)).exists()
    assert DuesMonth.objects.filter(member=person, month=date(2025, 6, 1)).exists()
    with pytest.raises(ValidationError):
        rec(person, S.PROBATION_REVIEW, date(2025, 6, 20))


def test_temporary_branch_does_not_develop_members(cast):
    temp = make_org("临时党支部", OrgType.TEMPORARY_BRANCH, parent=cast.P)
    person = MemberFactory(organization=temp, stage=Stage.APPLICANT, joined_on=None, full_on=None)
    with pytest.raises(ValidationError) as exc:
        rec(person, S.APPLICATION, date(2024, 1, 1))
    assert "临时党支部不发展党员" in message(exc, "member")


def test_next_actions_flag_overdue_talk_and_pending_approval(people):
    person, intro1, intro2 = people
    state = development_state(person)
    actions = next_actions(state, stage=Stage.APPLICANT, on=date(2023, 2, 11))
    assert actions[0].due == date(2023, 2, 10) and actions[0].level == "danger"
    to_vote(person, intro1, intro2)
    state = development_state(person)
    actions = next_actions(state, stage=Stage.CANDIDATE, on=date(2024, 9, 5))
    assert actions[0].due == date(2024, 9, 1) and actions[0].level == "danger"
    assert next_actions(DevelopmentState(), stage=Stage.FULL, on=date(2024, 1, 1)) == []


def test_vote_without_meeting_record_keeps_typed_date_and_counts(people):
    person, intro1, intro2 = people
    to_vote(person, intro1, intro2)
    vote = DevelopmentStep.objects.get(member=person, step=S.ADMISSION_VOTE)
    assert vote.meeting is None and vote.occurred_on == date(2024, 6, 1) and vote.votes_for == 6
