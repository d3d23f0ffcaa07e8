"""Preparation: opening (timing), seats, 请示/批复, candidate eligibility, 差额, approvals."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from activities.elections import rules
from activities.elections.models import Candidate, Election, ElectionStage, ElectionTiming, Post
from activities.elections.services import prepare
from activities.elections.services.prepare import CandidateInput
from audit.models import AuditEvent
from members.choices import MembershipStatus
from tests.activities.elections.conftest import TODAY, approved_request, make_branch, open_election

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("seats", "need"), [(1, 2), (3, 4), (4, 5), (5, 6), (7, 9), (10, 12), (11, 14)])
def test_candidate_surplus_is_seats_times_1_2_rounded_up(seats, need):
    assert rules.min_candidates(seats) == need


@pytest.mark.parametrize(
    ("present", "expected", "valid"), [(15, 19, False), (16, 19, True), (16, 20, False), (17, 20, True), (0, 0, False)]
)
def test_assembly_needs_more_than_four_fifths(present, expected, valid):
    assert rules.assembly_valid(voters_present=present, voters_expected=expected) is valid


@pytest.mark.parametrize(
    ("votes", "present", "elected"), [(10, 20, False), (11, 20, True), (8, 17, False), (9, 17, True)]
)
def test_elected_needs_more_than_half_of_those_present(votes, present, elected):
    assert rules.is_elected(votes_for=votes, voters_present=present) is elected


def test_open_in_the_reminder_window_is_on_time(branch):
    election = open_election(branch)
    assert election.timing == ElectionTiming.ON_TIME
    assert election.old_term == branch.term
    assert election.stage == ElectionStage.PREPARING


def test_open_early_needs_a_reason_and_at_most_one_year(branch, election_today):
    election_today(date(2025, 11, 30))  # the day before the 6-month window
    with pytest.raises(ValidationError) as exc:
        open_election(branch)
    assert "提前换届" in str(exc.value) and "2026-06-01" in str(exc.value)
    election_today(date(2025, 5, 31))  # more than one year before the end of the term
    with pytest.raises(ValidationError) as exc:
        open_election(branch, timing_reason="单位改制")
    assert "提前超过 1 年" in str(exc.value)
    election_today(date(2025, 6, 1))  # exactly one year: allowed with a reason
    election = open_election(branch, timing_reason="单位改制")
    assert election.timing == ElectionTiming.EARLY


def test_open_late_needs_a_reason(branch, election_today):
    election_today(date(2026, 6, 2))
    with pytest.raises(ValidationError) as exc:
        open_election(branch)
    assert "延期换届" in str(exc.value)
    assert open_election(branch, timing_reason="疫情").timing == ElectionTiming.LATE


def test_seats_follow_the_number_of_voters(branch):
    with pytest.raises(ValidationError) as exc:
        open_election(branch, seats=0)
    assert "有选举权的正式党员 9 名（≥7），应设立委员会" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        open_election(branch, seats=8)
    assert "应选委员 3–7 名，不能为 8 名" in str(exc.value)
    assert not Election.objects.exists()


def test_small_branch_elects_its_secretary_directly(cast, election_today):
    small = make_branch(cast, full=5)
    with pytest.raises(ValidationError) as exc:
        open_election(small, seats=3)
    assert "不足 7 名" in str(exc.value)
    election = open_election(small, seats=0, deputy_seat=True)
    assert election.posts == [Post.SECRETARY, Post.DEPUTY_SECRETARY]


def test_one_open_election_per_organization(branch):
    open_election(branch)
    with pytest.raises(ValidationError, match="正在进行"):
        open_election(branch)


def test_approvals_are_the_upper_organizations(branch):
    election = open_election(branch)
    prepare.election_request_record(actor=branch.secretary, election=election, request_on=TODAY)
    with pytest.raises(PermissionDenied):
        prepare.election_request_approve(actor=branch.secretary, election=election, approved_on=TODAY, approval_no="x")
    with pytest.raises(ValidationError, match="批复文号"):
        prepare.election_request_approve(actor=branch.upper, election=election, approved_on=TODAY, approval_no=" ")
    with pytest.raises(ValidationError, match="不能早于请示日期"):
        prepare.election_request_approve(
            actor=branch.upper, election=election, approved_on=date(2026, 3, 1), approval_no="党委〔2026〕8号"
        )
    prepare.election_request_approve(
        actor=branch.upper, election=election, approved_on=TODAY, approval_no="党委〔2026〕8号"
    )
    election.refresh_from_db()
    assert election.stage == ElectionStage.CANDIDATES
    assert election.approval_no == "党委〔2026〕8号"


def test_steps_out_of_order_are_refused(branch):
    election = open_election(branch)
    with pytest.raises(ValidationError) as exc:
        prepare.election_candidates_set(actor=branch.secretary, election=election, candidates=[])
    assert "当前阶段为“筹备中”" in str(exc.value)


def test_candidates_must_be_full_members_with_full_rights(branch):
    election = approved_request(branch)
    suspended = branch.full[8]
    suspended.membership_status = MembershipStatus.SUSPENDED
    suspended.save()
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        prepare.election_candidates_set(
            actor=branch.secretary,
            election=election,
            candidates=[
                CandidateInput(branch.full[0].pk),
                CandidateInput(branch.probationary[0].pk),
                CandidateInput(suspended.pk),
                CandidateInput(branch.full[0].pk),
                CandidateInput(branch.full[1].pk, post=Post.SECRETARY),
            ],
        )
    messages = exc.value.message_dict["candidates"]
    assert any("预备党员没有表决权、选举权和被选举权" in m for m in messages)
    # 停止党籍: not on the roster at all (status work), or on it without rights.
    assert any(m.startswith("第 3 位") and ("停止党籍" in m or "停止党员权利" in m) for m in messages)
    assert any("重复" in m for m in messages)
    assert any("本次选举不选书记" in m for m in messages)
    assert not Candidate.objects.exists()
    assert AuditEvent.objects.count() == events


def test_secretary_candidate_needs_one_year_of_party_membership(cast, election_today):
    small = make_branch(cast, full=5)
    election = approved_request(small, seats=0)
    young = small.full[1]
    young.full_on = date(2025, 3, 3)  # one year on 2026-03-03, the day after "today"
    young.save()
    with pytest.raises(ValidationError) as exc:
        prepare.election_candidates_set(
            actor=small.secretary, election=election, candidates=[CandidateInput(young.pk, post=Post.SECRETARY)]
        )
    assert "党龄不满 1 年" in str(exc.value)
    young.full_on = date(2025, 3, 2)  # exactly one year
    young.save()
    prepare.election_candidates_set(
        actor=small.secretary, election=election, candidates=[CandidateInput(young.pk, post=Post.SECRETARY)]
    )
    # 书记 may be 等额: one candidate for one seat is enough.
    prepare.election_candidates_submit(actor=small.secretary, election=election, submitted_on=TODAY)


def test_candidate_list_needs_twenty_percent_more_than_the_seats(branch):
    election = approved_request(branch)
    prepare.election_candidates_set(
        actor=branch.secretary, election=election, candidates=[CandidateInput(m.pk) for m in branch.full[:5]]
    )
    with pytest.raises(ValidationError) as exc:
        prepare.election_candidates_submit(actor=branch.secretary, election=election, submitted_on=TODAY)
    assert "应选委员 5 名，候选人 5 名，少于差额要求的 6 名" in str(exc.value)
    prepare.election_candidates_set(
        actor=branch.secretary, election=election, candidates=[CandidateInput(m.pk) for m in branch.full[:6]]
    )
    prepare.election_candidates_submit(actor=branch.secretary, election=election, submitted_on=TODAY)
    with pytest.raises(PermissionDenied):
        prepare.election_candidates_approve(
            actor=branch.secretary, election=election, approved_on=TODAY, approval_no="x"
        )
    prepare.election_candidates_approve(actor=branch.upper, election=election, approved_on=TODAY, approval_no="批9号")
    election.refresh_from_db()
    assert election.stage == ElectionStage.READY
    assert [c.order for c in election.candidates.all()] == [1, 2, 3, 4, 5, 6]


def test_upper_may_send_the_list_back(branch):
    election = approved_request(branch)
    prepare.election_candidates_set(
        actor=branch.secretary, election=election, candidates=[CandidateInput(m.pk) for m in branch.full[:6]]
    )
    prepare.election_candidates_submit(actor=branch.secretary, election=election, submitted_on=TODAY)
    prepare.election_candidates_approve(
        actor=branch.upper, election=election, approved_on=TODAY, approval_no="", approve=False
    )
    election.refresh_from_db()
    assert election.stage == ElectionStage.CANDIDATES
