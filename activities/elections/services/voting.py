"""The 选举大会: recorded as the 支部党员大会 it is (one Meeting, through the meeting services, so
it counts for the calendar like any other), then one ballot round after another per post.

- valid only with more than 4/5 of the members entitled to vote present (``rules.assembly_valid``);
- more ballots returned than issued voids the round (it is recorded, nobody is elected);
- elected: votes in favour from more than half of the voters present (``rules.is_elected``);
- more passing than seats: the highest win, a tie at the last seat goes to a further round among
  the tied; fewer: a further round for the empty seats, or the meeting leaves them empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from activities.choices import MeetingType, ResolutionKind, VotingMethod
from activities.elections import rules
from activities.elections.models import (
    BallotCount,
    BallotRound,
    Candidate,
    CountResult,
    Election,
    ElectionStage,
    Post,
    RoundKind,
)
from activities.elections.services._common import authorize_branch, fmt, log, require_date_after, require_stage
from activities.elections.services.prepare import candidate_ineligibility, electorate_on
from activities.services.inputs import AttendanceInput, MeetingInput, ResolutionInput
from activities.services.meetings import meeting_save, meeting_save_system
from members.models import Member


@dataclass(frozen=True)
class CountInput:
    """The count for one listed candidate of the round."""

    candidate_id: int
    votes_for: int
    votes_against: int = 0
    votes_abstain: int = 0


@dataclass(frozen=True)
class WriteInInput:
    """另选他人: a name written on the ballots (``member_id`` when it is a member of the organization)."""

    name: str
    votes_for: int
    member_id: int | None = None


@dataclass
class PostState:
    """Where the vote for one post stands, from its earlier (non-void) rounds."""

    post: str
    seats: int
    elected: list[BallotCount] = field(default_factory=list)
    next_kind: str | None = None  # None: nothing left to vote on
    next_seats: int = 0
    next_candidates: list[Candidate] = field(default_factory=list)
    left_empty: str = ""

    @property
    def done(self) -> bool:
        return self.next_kind is None


def post_state(
    election: Election, post: str, rounds: Sequence[BallotRound], candidates: Sequence[Candidate]
) -> PostState:
    """``rounds`` with their counts prefetched, in order; ``candidates`` of the election. No query."""
    seats = election.seats_for(post)
    state = PostState(post=post, seats=seats, left_empty=election.empty_seats.get(post, ""))
    listed = [c for c in candidates if c.post == post]
    counted = [r for r in rounds if r.post == post and not r.is_void]
    for r in counted:
        state.elected += [c for c in r.counts.all() if c.result == CountResult.ELECTED]
    remaining = seats - len(state.elected)
    if remaining <= 0 or state.left_empty:
        return state
    last = counted[-1] if counted else None
    tied = [c for c in last.counts.all() if c.result == CountResult.TIED] if last else []
    elected_ids = {c.candidate_id for c in state.elected if c.candidate_id}
    if tied:
        tied_ids = {c.candidate_id for c in tied}
        state.next_kind = RoundKind.TIE
        state.next_candidates = [c for c in listed if c.pk in tied_ids]
    else:
        state.next_kind = RoundKind.VACANCY if last else RoundKind.REGULAR
        state.next_candidates = [c for c in listed if c.pk not in elected_ids]
    state.next_seats = remaining
    return state


def _attendance_errors(election: Election, held_on: date) -> None:
    """Every candidate must still be eligible on the day of the vote."""
    electorate = electorate_on(organization=election.organization, on=held_on)
    problems = []
    for candidate in election.candidates.select_related("member"):
        reason = candidate_ineligibility(
            member=candidate.member, post=candidate.post, on=held_on, electorate=electorate
        )
        if reason:
            problems.append(f"候选人{reason}，请报上级党组织调整候选人名单")
    if problems:
        raise ValidationError({"candidates": problems})


@transaction.atomic
def election_assembly_record(
    *,
    actor: Any,
    election: Election,
    held_on: date,
    attendance: Sequence[AttendanceInput],
    place: str = "",
    chair_id: int | None = None,
    chair_name: str = "",
) -> Election:
    """Record the 选举大会 as a finished 支部党员大会 and check that it may hold the election."""
    authorize_branch(actor, election)
    require_stage(election, ElectionStage.READY, doing="登记选举大会")
    require_date_after(held_on, election.candidates_approved_on, "held_on", "选举大会日期", "候选人批复日期")
    _attendance_errors(election, held_on)
    data = MeetingInput(
        meeting_type=MeetingType.GENERAL_ASSEMBLY,
        title="换届选举大会",
        held_on=held_on,
        place=place,
        chair_id=chair_id,
        chair_name=chair_name,
        agenda="听取和审查本届委员会工作报告；选举新一届委员会" if election.has_committee else "选举书记",
    )
    resolutions = [
        ResolutionInput(
            title="无记名投票选举新一届" + ("委员会" if election.has_committee else "书记"),
            kind=ResolutionKind.ELECTION,
            voting_method=VotingMethod.NONE,
            note="计票结果见换届选举记录",
        )
    ]
    save = dict(
        organization=election.organization, data=data, attendance=attendance, resolutions=resolutions, finish=True
    )
    meeting = meeting_save(user=actor, **save) if actor is not None else meeting_save_system(**save)
    expected, present = meeting.voters_expected, meeting.voters_present
    if not rules.assembly_valid(voters_present=present, voters_expected=expected):
        raise ValidationError(
            {"attendance": rules.assembly_invalid_message(voters_present=present, voters_expected=expected)}
        )
    election.meeting = meeting
    election.voters_expected = expected
    election.voters_present = present
    election.stage = ElectionStage.VOTING
    election.save(update_fields=["meeting", "voters_expected", "voters_present", "stage", "updated_at"])
    log("election_assembly", actor, election, held_on=fmt(held_on), voters_expected=expected, voters_present=present)
    return election


def _load(election: Election) -> tuple[list[BallotRound], list[Candidate]]:
    rounds = list(election.rounds.prefetch_related("counts").order_by("number"))
    candidates = list(election.candidates.order_by("post", "order", "pk"))
    return rounds, candidates


def _finish_if_done(election: Election) -> None:
    rounds, candidates = _load(election)
    if all(post_state(election, p, rounds, candidates).done for p in election.posts):
        election.stage = ElectionStage.ELECTED
        election.save(update_fields=["stage", "updated_at"])


def _check_counts(
    *, state: PostState, counts: Sequence[CountInput], write_ins: Sequence[WriteInInput], returned: int
) -> list[str]:
    errors: list[str] = []
    expected = {c.pk: c for c in state.next_candidates}
    given = [c.candidate_id for c in counts]
    errors += [f"编号 {cid} 不是本轮的候选人" for cid in given if cid not in expected]
    if len(set(given)) != len(given):
        errors.append("同一候选人的计票重复填写")
    for cid, candidate in expected.items():
        if cid not in given:
            errors.append(f"缺少候选人 {candidate.name} 的计票")
    names = {c.name for c in expected.values()}
    member_ids = {c.member_id for c in expected.values()}
    for c in counts:
        candidate = expected.get(c.candidate_id)
        if candidate is None:
            continue
        if min(c.votes_for, c.votes_against, c.votes_abstain) < 0:
            errors.append(f"{candidate.name} 的票数不能为负数")
        marked = c.votes_for + c.votes_against + c.votes_abstain
        if marked > returned:
            errors.append(f"{candidate.name} 的赞成、不赞成、弃权票合计 {marked} 张，超过收回选票 {returned} 张")
    if write_ins and state.next_kind == RoundKind.TIE:
        errors.append("得票相等再次投票只在得票相等的候选人中进行，不能另选他人")
    for w in write_ins:
        if not (w.name or "").strip():
            errors.append("另选他人请填写姓名")
        elif w.name.strip() in names:
            errors.append(f"{w.name.strip()} 是本轮候选人，其得票应填在候选人计票中")
        if w.member_id and w.member_id in member_ids:
            errors.append(f"{w.name.strip()} 是本轮候选人，其得票应填在候选人计票中")
        if w.votes_for < 0:
            errors.append("另选他人的票数不能为负数")
    total_for = sum(c.votes_for for c in counts) + sum(w.votes_for for w in write_ins)
    if total_for > returned * state.next_seats:
        errors.append(
            f"赞成票合计 {total_for} 张，超过收回选票 {returned} 张 × 本轮应选 {state.next_seats} 名"
            f"（{returned * state.next_seats}），请核对"
        )
    return errors


def _decide(rows: list[BallotCount], *, seats: int, voters_present: int, eligible: set[int]) -> None:
    """Set each row's result (in memory)."""
    passing = []
    for i, row in enumerate(rows):
        if i not in eligible:
            row.result = CountResult.INELIGIBLE
        elif rules.is_elected(votes_for=row.votes_for, voters_present=voters_present):
            passing.append(row)
        else:
            row.result = CountResult.NOT_ELECTED
    passing.sort(key=lambda r: -r.votes_for)
    if len(passing) <= seats:
        for row in passing:
            row.result = CountResult.ELECTED
        return
    cut = passing[seats - 1].votes_for
    above = [r for r in passing if r.votes_for > cut]
    at_cut = [r for r in passing if r.votes_for == cut]
    for row in passing:
        if row.votes_for > cut:
            row.result = CountResult.ELECTED
        elif row.votes_for == cut:
            # The tied people fill the last seats only if they all fit; otherwise a further round.
            row.result = CountResult.ELECTED if len(above) + len(at_cut) <= seats else CountResult.TIED
        else:
            row.result = CountResult.NOT_ELECTED


@transaction.atomic
def election_round_record(
    *,
    actor: Any,
    election: Election,
    post: str,
    ballots_issued: int,
    ballots_returned: int,
    counts: Sequence[CountInput] = (),
    write_ins: Sequence[WriteInInput] = (),
    note: str = "",
) -> BallotRound:
    """Record one ballot round for ``post``. Which candidates it is between and how many seats it
    fills follow from the earlier rounds (first vote, a tie, or the empty seats)."""
    authorize_branch(actor, election)
    require_stage(election, ElectionStage.VOTING, doing="登记投票结果")
    election = Election.objects.select_for_update().get(pk=election.pk)
    if post not in election.posts:
        raise ValidationError({"post": "本次选举不选该职位"})
    rounds, candidates = _load(election)
    state = post_state(election, post, rounds, candidates)
    if state.done:
        raise ValidationError({"post": f"{Post(post).label}已选举完毕"})
    present = election.voters_present
    if ballots_issued < 1:
        raise ValidationError({"ballots_issued": "发出选票应至少 1 张"})
    if ballots_issued > present:
        raise ValidationError({"ballots_issued": f"发出选票 {ballots_issued} 张，多于到会有选举权党员 {present} 人"})
    if ballots_returned < 0:
        raise ValidationError({"ballots_returned": "收回选票不能为负数"})
    number = (rounds[-1].number if rounds else 0) + 1
    ballot_round = BallotRound(
        election=election,
        number=number,
        post=post,
        kind=state.next_kind,
        seats=state.next_seats,
        ballots_issued=ballots_issued,
        ballots_returned=ballots_returned,
        recorded_by=actor,
    )
    if ballots_returned > ballots_issued:
        ballot_round.is_void = True
        ballot_round.note = (
            f"收回选票 {ballots_returned} 张，多于发出选票 {ballots_issued} 张，本轮选举无效，应重新投票"
        )
        ballot_round.save()
        log("election_round_void", actor, election, number=number, issued=ballots_issued, returned=ballots_returned)
        return ballot_round
    errors = _check_counts(state=state, counts=counts, write_ins=write_ins, returned=ballots_returned)
    if errors:
        raise ValidationError({"counts": errors})
    by_id = {c.pk: c for c in state.next_candidates}
    rows = [
        BallotCount(
            candidate=by_id[c.candidate_id],
            member_id=by_id[c.candidate_id].member_id,
            name=by_id[c.candidate_id].name,
            votes_for=c.votes_for,
            votes_against=c.votes_against,
            votes_abstain=c.votes_abstain,
        )
        for c in counts
    ]
    eligible = set(range(len(rows)))
    held_on = election.meeting.held_on
    electorate = electorate_on(organization=election.organization, on=held_on) if write_ins else None
    for w in write_ins:
        member = electorate.members.get(w.member_id) if electorate and w.member_id else None
        if w.member_id and member is None:
            raise ValidationError({"write_ins": f"另选他人 {w.name.strip()}：不是本组织 {fmt(held_on)} 名册上的党员"})
        index = len(rows)
        rows.append(BallotCount(member=member, name=w.name.strip()[:50], is_write_in=True, votes_for=w.votes_for))
        if member is not None and not candidate_ineligibility(
            member=member, post=post, on=held_on, electorate=electorate
        ):
            eligible.add(index)
    _decide(rows, seats=state.next_seats, voters_present=present, eligible=eligible)
    ballot_round.note = (note or "").strip()[:300]
    ballot_round.save()
    for row in rows:
        row.round = ballot_round
    BallotCount.objects.bulk_create(rows)
    log(
        "election_round",
        actor,
        election,
        number=number,
        post=post,
        kind=ballot_round.kind,
        elected=[r.name for r in rows if r.result == CountResult.ELECTED],
        tied=[r.name for r in rows if r.result == CountResult.TIED],
    )
    _finish_if_done(election)
    return ballot_round


@transaction.atomic
def election_seats_leave_empty(*, actor: Any, election: Election, post: str, decision: str) -> Election:
    """The meeting decides not to vote again for the seats still empty (recorded with its words).
    A committee keeps at least ``rules.COMMITTEE_MIN_ELECTED`` members; the 书记 is never left empty."""
    authorize_branch(actor, election)
    require_stage(election, ElectionStage.VOTING, doing="决定名额空缺")
    text = (decision or "").strip()
    if not text:
        raise ValidationError({"decision": "请填写大会的决定（例如：经大会表决，空缺名额不再另行选举）"})
    rounds, candidates = _load(election)
    if post not in election.posts:
        raise ValidationError({"post": "本次选举不选该职位"})
    state = post_state(election, post, rounds, candidates)
    if state.done:
        raise ValidationError({"post": f"{Post(post).label}已选举完毕，没有空缺名额"})
    if post == Post.SECRETARY:
        raise ValidationError({"post": "书记不能空缺，应另行选举（必要时由上级党组织指派）"})
    if post == Post.COMMITTEE and len(state.elected) < rules.COMMITTEE_MIN_ELECTED:
        raise ValidationError(
            {
                "post": f"已当选委员 {len(state.elected)} 名，不足 {rules.COMMITTEE_MIN_ELECTED} 名，"
                "不能决定名额空缺，应另行选举"
            }
        )
    election.empty_seats = {**election.empty_seats, post: text[:300]}
    election.save(update_fields=["empty_seats", "updated_at"])
    log("election_seats_empty", actor, election, post=post, empty=state.seats - len(state.elected))
    _finish_if_done(election)
    return election


def elected_members(election: Election, post: str) -> list[Member]:
    """Who was elected to ``post`` (by votes, highest first)."""
    rounds, candidates = _load(election)
    state = post_state(election, post, rounds, candidates)
    rows = sorted(state.elected, key=lambda r: -r.votes_for)
    ids = [r.member_id for r in rows]
    members = Member.objects.in_bulk(ids)
    return [members[i] for i in ids if i in members]
