"""Preparing a 换届选举: opening it for the current term, the 请示 and its 批复, the candidate list
(候选人预备人选) with each candidate's eligibility, and the upper organization's approval of it.

Every function validates first and raises ``ValidationError`` with a Chinese message naming the
rule and the numbers; nothing is written when it refuses (one transaction per step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from activities.choices import MeetingType
from activities.elections import rules
from activities.elections.models import Candidate, Election, ElectionStage, ElectionTiming, Post
from activities.elections.services._common import (
    authorize_branch,
    authorize_upper,
    fmt,
    log,
    require_date_after,
    require_stage,
    require_text,
)
from activities.selectors import meeting_roster
from core.access import authorize
from core.dates import add_months, add_years, today
from members.models import Member
from members.selectors import member_is_full_on
from organizations.models import CommitteeTerm, Organization


@dataclass(frozen=True)
class CandidateInput:
    member_id: int
    post: str = Post.COMMITTEE


@dataclass(frozen=True)
class Electorate:
    """The organization's roster on one day and who on it may vote and be elected."""

    members: dict[int, Member]
    voter_ids: frozenset[int]

    @property
    def voters(self) -> list[Member]:
        return [m for pk, m in self.members.items() if pk in self.voter_ids]


def electorate_on(*, organization: Organization, on: date) -> Electorate:
    """Who votes and may be elected on ``on``: 正式党员 with full rights (XJ §5).

    Decided by the 支部党员大会 roster of ``activities.selectors.meeting_roster`` (its ``is_voter``:
    ``members.selectors.member_can_vote_on`` plus whatever that selector adds — 留党察看 and
    rights suspended by the status/sanctions work), so the election and every other 党员大会 count
    the same voters. Two queries.
    """
    roster = meeting_roster(organization=organization, on=on, meeting_type=MeetingType.GENERAL_ASSEMBLY)
    people = [p for p in roster.expected if p.member is not None]
    return Electorate(
        members={p.member.pk: p.member for p in people},
        voter_ids=frozenset(p.member.pk for p in people if p.is_voter),
    )


def candidate_ineligibility(*, member: Member, post: str, on: date, electorate: Electorate) -> str | None:
    """Why ``member`` cannot stand for ``post`` on ``on`` (None = eligible)."""
    if member.pk not in electorate.members:
        return f"{member.name} 不在本组织 {fmt(on)} 的党员名册中"
    if not member_is_full_on(member, on):
        return f"{member.name} 不是正式党员，没有被选举权（预备党员没有表决权、选举权和被选举权）"
    if member.pk not in electorate.voter_ids:
        return f"{member.name} 党籍状态不正常或正受留党察看、停止党员权利，没有被选举权"
    if post == Post.SECRETARY and not rules.party_years_enough(full_on=member.full_on, on=on):
        return (
            f"{member.name} {fmt(member.full_on)} 转为正式党员，至 {fmt(on)} 党龄不满 "
            f"{rules.SECRETARY_MIN_PARTY_YEARS} 年，不能作为书记候选人（支部工作条例：书记一般应具有 1 年以上党龄）"
        )
    return None


def _timing(*, term: CommitteeTerm | None, on: date, reason: str) -> str:
    """按期 within the reminder window (term end − PB_TERM_WARNING_MONTHS … end, or an approved
    extension); earlier or later needs a reason and the upper organization's approval (XJ §3, RQ),
    advancing by generally no more than 1 year."""
    if term is None:
        return ElectionTiming.ON_TIME
    expiry = term.effective_expiry
    window_start = add_months(term.expires_on, -settings.PB_TERM_WARNING_MONTHS)
    if window_start <= on <= expiry:
        return ElectionTiming.ON_TIME
    if on < window_start:
        if on < add_years(term.expires_on, -rules.MAX_SHIFT_YEARS):
            raise ValidationError(
                {
                    "opened_on": f"本届任期 {fmt(term.expires_on)} 届满，{fmt(on)} 启动换届提前超过 "
                    f"{rules.MAX_SHIFT_YEARS} 年，不符合提前换届一般不超过 1 年的规定"
                }
            )
        timing = ElectionTiming.EARLY
    else:
        timing = ElectionTiming.LATE
    if not reason.strip():
        raise ValidationError(
            {
                "timing_reason": f"本届任期 {fmt(expiry)} 届满，{fmt(on)} 启动属于{ElectionTiming(timing).label}，"
                "请填写理由，并报上级党组织批准"
            }
        )
    return timing


def _check_seats(*, organization: Organization, committee_seats: int, voters: int) -> None:
    required_at = settings.PB_COMMITTEE_REQUIRED_AT
    if committee_seats == 0:
        if voters >= required_at:
            raise ValidationError(
                {"committee_seats": f"有选举权的正式党员 {voters} 名（≥{required_at}），应设立委员会并选举委员"}
            )
        return
    if voters < required_at:
        raise ValidationError(
            {
                "committee_seats": f"有选举权的正式党员 {voters} 名（不足 {required_at} 名），不设委员会，"
                "由党员大会直接选举书记（和副书记）"
            }
        )
    low, high = rules.COMMITTEE_SEATS.get(organization.org_type, (3, 7))
    if not low <= committee_seats <= high:
        raise ValidationError(
            {
                "committee_seats": f"{organization.get_org_type_display()}委员会应选委员 {low}–{high} 名，"
                f"不能为 {committee_seats} 名"
            }
        )


@transaction.atomic
def election_open(
    *,
    actor: Any,
    organization: Organization,
    committee_seats: int,
    deputy_seat: bool = False,
    timing_reason: str = "",
    on: date | None = None,
) -> Election:
    """Open the 换届选举 of ``organization``'s current term (or its first election)."""
    authorize(actor, organization, message="无权办理该组织的换届选举")
    on = on or today()
    if not organization.can_hold_elections:
        raise ValidationError({"organization": f"{organization.get_org_type_display()}不进行换届选举"})
    if Election.objects.filter(organization=organization).exclude(stage=ElectionStage.COMPLETED).exists():
        raise ValidationError({"organization": "该组织已有一次正在进行的换届选举"})
    term = CommitteeTerm.objects.filter(organization=organization, ended_on__isnull=True).first()
    timing = _timing(term=term, on=on, reason=timing_reason)
    voters = len(electorate_on(organization=organization, on=on).voter_ids)
    _check_seats(organization=organization, committee_seats=committee_seats, voters=voters)
    if committee_seats and deputy_seat:
        raise ValidationError({"deputy_seat": "设委员会的，副书记由委员会选举产生"})
    election = Election.objects.create(
        organization=organization,
        old_term=term,
        timing=timing,
        timing_reason=timing_reason.strip() if timing != ElectionTiming.ON_TIME else "",
        opened_on=on,
        committee_seats=committee_seats,
        deputy_seat=deputy_seat,
        created_by=actor,
    )
    log("election_open", actor, election, timing=timing, committee_seats=committee_seats, voters=voters)
    return election


@transaction.atomic
def election_request_record(*, actor: Any, election: Election, request_on: date, request_no: str = "") -> Election:
    """The 请示 sent to the organization above (date, 文号)."""
    authorize_branch(actor, election)
    require_stage(election, ElectionStage.PREPARING, ElectionStage.REQUEST_PENDING, doing="登记请示")
    election.request_on = require_date_after(request_on, election.opened_on, "request_on", "请示日期", "启动日期")
    election.request_no = (request_no or "").strip()
    election.stage = ElectionStage.REQUEST_PENDING
    election.save(update_fields=["request_on", "request_no", "stage", "updated_at"])
    log("election_request", actor, election, request_on=fmt(request_on))
    return election


@transaction.atomic
def election_request_approve(*, actor: Any, election: Election, approved_on: date, approval_no: str) -> Election:
    """The upper organization's 批复 of the 请示 (and of an early/late timing)."""
    authorize_upper(actor, election)
    require_stage(election, ElectionStage.REQUEST_PENDING, doing="登记批复")
    election.approval_no = require_text(approval_no, "approval_no", "批复文号")
    election.approval_on = require_date_after(approved_on, election.request_on, "approved_on", "批复日期", "请示日期")
    election.stage = ElectionStage.CANDIDATES
    election.save(update_fields=["approval_on", "approval_no", "stage", "updated_at"])
    log("election_request_approve", actor, election, approved_on=fmt(approved_on), approval_no=election.approval_no)
    return election


@transaction.atomic
def election_candidates_set(*, actor: Any, election: Election, candidates: Sequence[CandidateInput]) -> Election:
    """Replace the candidate list. Each candidate is checked on today's roster: 正式党员 with full
    rights, and a 书记 candidate with ≥ 1 year of 党龄; all refusals are listed at once."""
    authorize_branch(actor, election)
    require_stage(election, ElectionStage.CANDIDATES, doing="修改候选人名单")
    on = today()
    posts = election.posts
    electorate = electorate_on(organization=election.organization, on=on)
    roster = electorate.members
    errors: list[str] = []
    seen: set[tuple[int, str]] = set()
    rows: list[Candidate] = []
    order: dict[str, int] = {}
    for index, item in enumerate(candidates, start=1):
        if item.post not in posts:
            errors.append(
                f"第 {index} 位：本次选举不选{Post(item.post).label if item.post in Post.values else item.post}"
            )
            continue
        if (item.member_id, item.post) in seen:
            errors.append(f"第 {index} 位：同一人重复列入")
            continue
        seen.add((item.member_id, item.post))
        member = roster.get(item.member_id)
        if member is None:
            errors.append(f"第 {index} 位：该党员不在本组织 {fmt(on)} 的党员名册中（未转入、已转出或停止党籍等）")
            continue
        reason = candidate_ineligibility(member=member, post=item.post, on=on, electorate=electorate)
        if reason:
            errors.append(f"第 {index} 位：{reason}")
            continue
        order[item.post] = order.get(item.post, 0) + 1
        rows.append(
            Candidate(election=election, member=member, post=item.post, name=member.name, order=order[item.post])
        )
    if errors:
        raise ValidationError({"candidates": errors})
    Candidate.objects.filter(election=election).delete()
    Candidate.objects.bulk_create(rows)
    log("election_candidates_set", actor, election, candidates=len(rows))
    return election


def candidate_shortfall(election: Election, counts: dict[str, int]) -> list[str]:
    """The 差额 rule (委员: ≥ ceil(seats × 1.2)) and at least one candidate per directly elected
    post (书记/副书记 may be 等额)."""
    problems = []
    for post in election.posts:
        seats = election.seats_for(post)
        have = counts.get(post, 0)
        if post == Post.COMMITTEE:
            need = rules.min_candidates(seats)
            if have < need:
                problems.append(
                    f"应选委员 {seats} 名，候选人 {have} 名，少于差额要求的 {need} 名"
                    f"（候选人应多于应选人数 {rules.CANDIDATE_SURPLUS_PERCENT}%，即 {seats}×1.2 向上取整）"
                )
        elif have < seats:
            problems.append(f"{Post(post).label}候选人 {have} 名，少于应选 {seats} 名")
    return problems


@transaction.atomic
def election_candidates_submit(*, actor: Any, election: Election, submitted_on: date) -> Election:
    """Send the candidate list to the organization above (the 差额 rule is checked here)."""
    authorize_branch(actor, election)
    require_stage(election, ElectionStage.CANDIDATES, doing="报送候选人名单")
    counts: dict[str, int] = {}
    for post in Candidate.objects.filter(election=election).values_list("post", flat=True):
        counts[post] = counts.get(post, 0) + 1
    problems = candidate_shortfall(election, counts)
    if problems:
        raise ValidationError({"candidates": problems})
    election.candidates_submitted_on = require_date_after(
        submitted_on, election.approval_on, "submitted_on", "报送日期", "换届请示批复日期"
    )
    election.stage = ElectionStage.CANDIDATES_PENDING
    election.save(update_fields=["candidates_submitted_on", "stage", "updated_at"])
    log("election_candidates_submit", actor, election, counts=counts)
    return election


@transaction.atomic
def election_candidates_approve(
    *, actor: Any, election: Election, approved_on: date, approval_no: str, approve: bool = True
) -> Election:
    """The upper organization approves the list (or sends it back for changes: ``approve=False``)."""
    authorize_upper(actor, election)
    require_stage(election, ElectionStage.CANDIDATES_PENDING, doing="批复候选人名单")
    if not approve:
        election.stage = ElectionStage.CANDIDATES
        election.save(update_fields=["stage", "updated_at"])
        log("election_candidates_return", actor, election)
        return election
    election.candidates_approval_no = require_text(approval_no, "approval_no", "批复文号")
    election.candidates_approved_on = require_date_after(
        approved_on, election.candidates_submitted_on, "approved_on", "批复日期", "报送日期"
    )
    election.stage = ElectionStage.READY
    election.save(update_fields=["candidates_approved_on", "candidates_approval_no", "stage", "updated_at"])
    log("election_candidates_approve", actor, election, approval_no=election.candidates_approval_no)
    return election
