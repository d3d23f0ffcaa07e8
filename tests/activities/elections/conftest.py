"""An election cast: branch A of the suite's cast with a term ending 2026-06-01 and known members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from activities.elections.services import prepare
from activities.elections.services.prepare import CandidateInput
from tests.activities.conftest import add_members

TODAY = date(2026, 3, 2)
TERM_START = date(2023, 6, 1)  # 3 years: expires 2026-06-01, reminder window from 2025-12-01


@pytest.fixture
def election_today(monkeypatch, today_is):
    """Pin "today" for the election services (and the activities ones, through ``today_is``)."""

    def _set(day: date) -> None:
        today_is(day)
        monkeypatch.setattr(prepare, "today", lambda: day)

    _set(TODAY)
    return _set


@dataclass
class Branch:
    org: Any
    term: Any
    full: list[Any]  # 正式党员 with full rights (voters), cast.member_a_record first
    probationary: list[Any]
    secretary: Any  # user
    upper: Any  # user (org_admin of the 党委 above)


def make_branch(cast: Any, *, full: int, probationary: int = 1) -> Branch:
    from organizations import services as org_services

    term = org_services.committee_term_start(org=cast.A, elected_on=TERM_START)
    people = add_members(cast.A, full=full - 1, probationary=probationary)
    return Branch(
        org=cast.A,
        term=term,
        full=[cast.member_a_record, *people[: full - 1]],
        probationary=people[full - 1 :],
        secretary=cast.users["secretary_a"],
        upper=cast.users["org_admin_p"],
    )


@pytest.fixture
def branch(cast, election_today) -> Branch:
    """Branch A: 9 正式党员 (voters) and 1 预备党员; a committee of 5 is to be elected."""
    return make_branch(cast, full=9)


def open_election(b: Branch, *, seats: int = 5, **extra: Any) -> Any:
    return prepare.election_open(actor=b.secretary, organization=b.org, committee_seats=seats, **extra)


def approved_request(b: Branch, **extra: Any) -> Any:
    election = open_election(b, **extra)
    prepare.election_request_record(
        actor=b.secretary, election=election, request_on=TODAY, request_no="一支〔2026〕1号"
    )
    return prepare.election_request_approve(
        actor=b.upper, election=election, approved_on=TODAY, approval_no="党委〔2026〕8号"
    )


def ready_election(b: Branch, *, candidates: int = 6, seats: int = 5) -> Any:
    """An election whose candidate list (the first ``candidates`` voters) is approved."""
    election = approved_request(b, seats=seats)
    prepare.election_candidates_set(
        actor=b.secretary, election=election, candidates=[CandidateInput(m.pk) for m in b.full[:candidates]]
    )
    prepare.election_candidates_submit(actor=b.secretary, election=election, submitted_on=TODAY)
    return prepare.election_candidates_approve(
        actor=b.upper, election=election, approved_on=TODAY, approval_no="党委〔2026〕9号"
    )


def roster_attendance(b: Branch, present_voters: int) -> list[Any]:
    """Everyone on the roster: the first ``present_voters`` voters present, the other voters absent,
    the 预备党员 present (they attend without a vote)."""
    from activities.services.inputs import AttendanceInput

    rows = [
        AttendanceInput(
            member_id=m.pk,
            status="present" if i < present_voters else "absent",
            reason="" if i < present_voters else "出差",
        )
        for i, m in enumerate(b.full)
    ]
    return rows + [AttendanceInput(member_id=m.pk, status="present") for m in b.probationary]


def held_assembly(b: Branch, *, present: int | None = None, **extra: Any) -> Any:
    from activities.elections.services import voting

    election = ready_election(b, **extra)
    return voting.election_assembly_record(
        actor=b.secretary,
        election=election,
        held_on=TODAY,
        attendance=roster_attendance(b, len(b.full) if present is None else present),
        place="党员活动室",
    )


def vote(
    b: Branch,
    election: Any,
    votes: list[int],
    *,
    post: str = "committee",
    issued: int | None = None,
    returned: int | None = None,
    write_ins: tuple = (),
    against: int = 0,
) -> Any:
    """One round: ``votes[i]`` in favour of the i-th candidate of the round."""
    from activities.elections.services import voting

    rounds, candidates = voting._load(election)
    state = voting.post_state(election, post, rounds, candidates)
    issued = election.voters_present if issued is None else issued
    counts = [
        voting.CountInput(candidate_id=c.pk, votes_for=v, votes_against=min(against, issued - v))
        for c, v in zip(state.next_candidates, votes, strict=True)
    ]
    return voting.election_round_record(
        actor=b.secretary,
        election=election,
        post=post,
        ballots_issued=issued,
        ballots_returned=issued if returned is None else returned,
        counts=counts,
        write_ins=write_ins,
    )
