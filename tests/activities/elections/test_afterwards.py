"""After the vote: 书记/副书记 by the new committee, the report, the approval creating the new term."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from activities.elections.models import ElectionStage, Post
from activities.elections.services import afterwards, prepare, voting
from activities.elections.services.prepare import CandidateInput
from organizations.choices import PositionCode
from organizations.models import CommitteeTerm, Position
from tests.activities.elections.conftest import (
    TODAY,
    approved_request,
    held_assembly,
    make_branch,
    roster_attendance,
    vote,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def elected(branch):
    """Branch A (9 voters): 5 委员 elected in one round."""
    election = held_assembly(branch)
    vote(branch, election, [9, 8, 7, 6, 5, 1])
    election.refresh_from_db()
    return election


def _committee(election):
    return voting.elected_members(election, Post.COMMITTEE)


def test_officers_need_more_than_half_of_the_committee(branch, elected):
    committee = _committee(elected)
    first = committee[0]
    with pytest.raises(ValidationError) as exc:
        afterwards.election_officers_record(
            actor=branch.secretary, election=elected, held_on=TODAY, present=2, secretary_id=first.pk, secretary_votes=2
        )
    assert "到会委员 2 名，未超过委员 5 名的半数" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        afterwards.election_officers_record(
            actor=branch.secretary, election=elected, held_on=TODAY, present=3, secretary_id=first.pk, secretary_votes=2
        )
    assert "得票 2 张，未超过委员 5 名的半数，未当选" in str(exc.value)
    outsider = branch.full[8]  # on the roster, not elected
    with pytest.raises(ValidationError, match="应从新当选的委员中选举"):
        afterwards.election_officers_record(
            actor=branch.secretary,
            election=elected,
            held_on=TODAY,
            present=5,
            secretary_id=outsider.pk,
            secretary_votes=5,
        )
    afterwards.election_officers_record(
        actor=branch.secretary,
        election=elected,
        held_on=TODAY,
        present=3,
        secretary_id=first.pk,
        secretary_votes=3,
        deputy_id=committee[1].pk,
        deputy_votes=3,
        duties={committee[2].pk: PositionCode.ORGANIZATION},
    )
    elected.refresh_from_db()
    assert elected.secretary == first and elected.deputy == committee[1]


def test_secretary_needs_one_year_of_party_membership_at_the_first_meeting(branch, elected):
    first = _committee(elected)[0]
    first.full_on = date(2025, 3, 3)
    first.save()
    with pytest.raises(ValidationError, match="党龄不满 1 年"):
        afterwards.election_officers_record(
            actor=branch.secretary, election=elected, held_on=TODAY, present=5, secretary_id=first.pk, secretary_votes=5
        )


def test_report_waits_for_the_officers_and_approval_creates_the_term(branch, elected):
    with pytest.raises(ValidationError, match="请先登记委员会第一次会议"):
        afterwards.election_report(actor=branch.secretary, election=elected, reported_on=TODAY)
    committee = _committee(elected)
    afterwards.election_officers_record(
        actor=branch.secretary,
        election=elected,
        held_on=TODAY,
        present=5,
        secretary_id=committee[0].pk,
        secretary_votes=5,
    )
    afterwards.election_report(actor=branch.secretary, election=elected, reported_on=TODAY)
    with pytest.raises(PermissionDenied):
        afterwards.election_result_approve(actor=branch.secretary, election=elected, approved_on=TODAY, approval_no="x")
    afterwards.election_result_approve(
        actor=branch.upper, election=elected, approved_on=TODAY, approval_no="党委〔2026〕12号"
    )
    elected.refresh_from_db()
    assert elected.stage == ElectionStage.COMPLETED
    branch.term.refresh_from_db()
    assert branch.term.ended_on == TODAY
    term = CommitteeTerm.objects.get(organization=branch.org, ended_on__isnull=True)
    assert (term.number, term.elected_on, elected.new_term) == (2, TODAY, term)
    positions = list(Position.objects.filter(term=term).order_by("position"))
    assert len(positions) == 5
    assert {p.member for p in positions} == set(committee)
    assert [p.position for p in positions].count(PositionCode.SECRETARY) == 1


def test_branch_without_committee_elects_its_secretary_directly(cast, election_today):
    small = make_branch(cast, full=5)
    election = approved_request(small, seats=0)
    prepare.election_candidates_set(
        actor=small.secretary, election=election, candidates=[CandidateInput(small.full[0].pk, post=Post.SECRETARY)]
    )
    prepare.election_candidates_submit(actor=small.secretary, election=election, submitted_on=TODAY)
    prepare.election_candidates_approve(actor=small.upper, election=election, approved_on=TODAY, approval_no="批")
    voting.election_assembly_record(
        actor=small.secretary, election=election, held_on=TODAY, attendance=roster_attendance(small, 5)
    )
    vote(small, election, [5], post=Post.SECRETARY)
    election.refresh_from_db()
    assert election.stage == ElectionStage.ELECTED
    with pytest.raises(ValidationError, match="由党员大会直接选举"):
        afterwards.election_officers_record(
            actor=small.secretary,
            election=election,
            held_on=TODAY,
            present=1,
            secretary_id=small.full[0].pk,
            secretary_votes=1,
        )
    afterwards.election_report(actor=small.secretary, election=election, reported_on=TODAY)
    afterwards.election_result_approve(actor=small.upper, election=election, approved_on=TODAY, approval_no="批2")
    term = CommitteeTerm.objects.get(organization=small.org, ended_on__isnull=True)
    assert [(p.position, p.member) for p in term.positions.all()] == [(PositionCode.SECRETARY, small.full[0])]
