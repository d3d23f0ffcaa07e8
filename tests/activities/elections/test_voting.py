"""The 选举大会: 4/5 present, ballots issued vs returned, more than half in favour, ties, empty seats."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from activities.elections.models import CountResult, ElectionStage, Post, RoundKind
from activities.elections.services import voting
from activities.models import Meeting, MeetingCredit
from tests.activities.elections.conftest import (
    TODAY,
    held_assembly,
    make_branch,
    ready_election,
    roster_attendance,
    vote,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ten(cast, election_today):
    """Branch A with 10 voters (so 4/5 and one half fall on whole numbers) and 1 预备党员."""
    return make_branch(cast, full=10)


def test_exactly_four_fifths_present_is_not_enough(ten):
    election = ready_election(ten)
    with pytest.raises(ValidationError) as exc:
        voting.election_assembly_record(
            actor=ten.secretary, election=election, held_on=TODAY, attendance=roster_attendance(ten, 8)
        )
    assert "到会有选举权党员 8 人，未超过应到 10 人的五分之四，选举无效" in str(exc.value)
    assert not Meeting.objects.exists()  # nothing partial: the meeting record is rolled back too
    election.refresh_from_db()
    assert election.stage == ElectionStage.READY


def test_the_assembly_is_one_general_assembly_record(ten):
    election = held_assembly(ten, present=9)
    assert election.stage == ElectionStage.VOTING
    assert (election.voters_expected, election.voters_present) == (10, 9)  # the 预备党员 does not count
    meeting = election.meeting
    assert meeting.meeting_type == "general_assembly" and meeting.is_final
    assert meeting.present_count == 10
    assert list(MeetingCredit.objects.filter(meeting=meeting).values_list("kind", flat=True)) == ["general_assembly"]


def test_exactly_half_of_those_present_is_not_elected(ten):
    election = held_assembly(ten)  # 10 present
    ballot_round = vote(ten, election, [10, 9, 8, 7, 6, 5])
    results = {c.name: (c.votes_for, c.result) for c in ballot_round.counts.all()}
    assert sorted(v for v, r in results.values() if r == CountResult.ELECTED) == [6, 7, 8, 9, 10]
    assert [r for v, r in results.values() if v == 5] == [CountResult.NOT_ELECTED]
    election.refresh_from_db()
    assert election.stage == ElectionStage.ELECTED


def test_more_passing_than_seats_highest_win_and_ties_vote_again(ten):
    election = held_assembly(ten)
    first = vote(ten, election, [9, 9, 8, 8, 7, 7])  # all pass; the 5th seat is tied at 7
    by_result = {}
    for c in first.counts.all():
        by_result.setdefault(c.result, []).append(c.votes_for)
    assert sorted(by_result[CountResult.ELECTED]) == [8, 8, 9, 9]
    assert by_result[CountResult.TIED] == [7, 7]
    election.refresh_from_db()
    assert election.stage == ElectionStage.VOTING
    rounds, candidates = voting._load(election)
    state = voting.post_state(election, Post.COMMITTEE, rounds, candidates)
    assert (state.next_kind, state.next_seats, len(state.next_candidates)) == (RoundKind.TIE, 1, 2)
    with pytest.raises(ValidationError, match="不能另选他人"):
        vote(ten, election, [6, 4], write_ins=(voting.WriteInInput(name="某人", votes_for=1),))
    second = vote(ten, election, [6, 4])
    assert second.kind == RoundKind.TIE
    assert [c.result for c in second.counts.all()] == [CountResult.ELECTED, CountResult.NOT_ELECTED]
    election.refresh_from_db()
    assert election.stage == ElectionStage.ELECTED
    assert len(voting.elected_members(election, Post.COMMITTEE)) == 5


def test_a_tie_that_fits_the_seats_elects_all(ten):
    election = held_assembly(ten)
    first = vote(ten, election, [10, 9, 9, 8, 8, 4])
    assert sum(c.result == CountResult.ELECTED for c in first.counts.all()) == 5


def test_fewer_passing_further_round_or_seats_left_empty(ten):
    election = held_assembly(ten)
    vote(ten, election, [10, 9, 8, 5, 2, 1])  # three elected
    rounds, candidates = voting._load(election)
    state = voting.post_state(election, Post.COMMITTEE, rounds, candidates)
    assert (state.next_kind, state.next_seats, len(state.next_candidates)) == (RoundKind.VACANCY, 2, 3)
    vote(ten, election, [6, 4, 3])  # one more elected, one seat still empty
    with pytest.raises(ValidationError, match="请填写大会的决定"):
        voting.election_seats_leave_empty(actor=ten.secretary, election=election, post=Post.COMMITTEE, decision="")
    voting.election_seats_leave_empty(
        actor=ten.secretary, election=election, post=Post.COMMITTEE, decision="经大会表决，空缺 1 名不再另行选举"
    )
    election.refresh_from_db()
    assert election.stage == ElectionStage.ELECTED
    assert election.empty_seats == {"committee": "经大会表决，空缺 1 名不再另行选举"}
    assert len(voting.elected_members(election, Post.COMMITTEE)) == 4


def test_seats_cannot_be_left_empty_below_three_members(ten):
    election = held_assembly(ten)
    vote(ten, election, [10, 9, 5, 4, 2, 1])
    with pytest.raises(ValidationError) as exc:
        voting.election_seats_leave_empty(
            actor=ten.secretary, election=election, post=Post.COMMITTEE, decision="不再选"
        )
    assert "已当选委员 2 名，不足 3 名" in str(exc.value)


def test_more_ballots_returned_than_issued_voids_the_round(ten):
    election = held_assembly(ten, present=9)
    void = vote(ten, election, [9, 9, 9, 9, 9, 0], issued=9, returned=10)
    assert void.is_void
    assert "收回选票 10 张，多于发出选票 9 张，本轮选举无效" in void.note
    assert not void.counts.exists()
    again = vote(ten, election, [8, 8, 8, 7, 7, 1], issued=9, returned=8)  # fewer returned is fine
    assert again.kind == RoundKind.REGULAR and not again.is_void
    assert sum(c.result == CountResult.ELECTED for c in again.counts.all()) == 5


def test_counts_must_add_up(ten):
    election = held_assembly(ten, present=9)
    with pytest.raises(ValidationError) as exc:
        vote(ten, election, [9, 9, 9, 9, 9, 9], returned=8, against=0)
    messages = exc.value.message_dict["counts"]
    assert any("超过收回选票 8 张" in m for m in messages)
    assert any("赞成票合计 54 张，超过收回选票 8 张 × 本轮应选 5 名（40）" in m for m in messages)
    with pytest.raises(ValidationError, match="多于到会有选举权党员 9 人"):
        vote(ten, election, [1, 1, 1, 1, 1, 1], issued=10)
    with pytest.raises(ValidationError, match="缺少候选人"):
        voting.election_round_record(
            actor=ten.secretary, election=election, post=Post.COMMITTEE, ballots_issued=9, ballots_returned=9
        )
    assert not election.rounds.exists()


def test_write_in_with_rights_can_be_elected(ten):
    election = held_assembly(ten)
    other = ten.full[9]  # not on the candidate list
    nobody = voting.WriteInInput(name="外单位某人", votes_for=6)
    ballot_round = vote(
        ten,
        election,
        [10, 9, 8, 7, 2, 1],
        write_ins=(voting.WriteInInput(name=other.name, member_id=other.pk, votes_for=6), nobody),
    )
    results = {c.name: c.result for c in ballot_round.counts.all()}
    assert results[other.name] == CountResult.ELECTED
    assert results["外单位某人"] == CountResult.INELIGIBLE


def test_candidate_who_lost_rights_before_the_vote_is_refused(ten):
    election = ready_election(ten)
    candidate = election.candidates.first().member
    candidate.membership_status = "suspended"
    candidate.save()
    with pytest.raises(ValidationError, match="请报上级党组织调整候选人名单"):
        voting.election_assembly_record(
            actor=ten.secretary, election=election, held_on=TODAY, attendance=roster_attendance(ten, 10)
        )
