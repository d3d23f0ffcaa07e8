"""After the vote: the 支委会's first meeting elects 书记/副书记, the result is reported to the
organization above, and its approval (书记/副书记 批准, 委员 备案) creates the new CommitteeTerm and
its Positions from the election — never typed twice. Closing the old term stops its 换届 reminders
(the scan reads current terms only) and the dashboard follows through its model signals.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from activities.elections import rules
from activities.elections.models import Election, ElectionStage, Post
from activities.elections.services._common import (
    authorize_branch,
    authorize_upper,
    fmt,
    log,
    require_date_after,
    require_stage,
    require_text,
)
from activities.elections.services.voting import elected_members
from members.models import Member
from organizations.choices import PositionCode, TermKind
from organizations.services import committee_term_start, position_assign

DUTY_CODES = {PositionCode.ORGANIZATION, PositionCode.PROPAGANDA, PositionCode.DISCIPLINE, PositionCode.MEMBER}


def _officer(
    *, label: str, member_id: int, votes: int, present: int, committee: dict[int, Member], held_on: date
) -> Member:
    member = committee.get(member_id)
    if member is None:
        raise ValidationError({label: "应从新当选的委员中选举"})
    if votes < 0 or votes > present:
        raise ValidationError({label: f"得票 {votes} 张，超出到会委员 {present} 名"})
    size = len(committee)
    if not rules.committee_elects(votes_for=votes, size=size):
        raise ValidationError(
            {label: f"{member.name} 得票 {votes} 张，未超过委员 {size} 名的半数，未当选（支部工作条例第十二条）"}
        )
    return member


@transaction.atomic
def election_officers_record(
    *,
    actor: Any,
    election: Election,
    held_on: date,
    present: int,
    secretary_id: int,
    secretary_votes: int,
    deputy_id: int | None = None,
    deputy_votes: int | None = None,
    duties: dict[int, str] | None = None,
) -> Election:
    """The new committee's first meeting: 书记 (and 副书记) elected by more than half of the
    committee, with more than half present; the other 委员's duties (分工)."""
    authorize_branch(actor, election)
    if not election.has_committee:
        raise ValidationError({"election": "不设委员会的，书记（副书记）由党员大会直接选举"})
    require_stage(election, ElectionStage.ELECTED, doing="登记委员会第一次会议")
    require_date_after(held_on, election.meeting.held_on, "held_on", "委员会第一次会议日期", "选举大会日期")
    committee = {m.pk: m for m in elected_members(election, Post.COMMITTEE)}
    size = len(committee)
    if present > size or present < 0:
        raise ValidationError({"present": f"到会委员 {present} 名，超出新当选委员 {size} 名"})
    if not rules.committee_quorum(present=present, size=size):
        raise ValidationError({"present": f"到会委员 {present} 名，未超过委员 {size} 名的半数，不能选举书记、副书记"})
    secretary = _officer(
        label="secretary",
        member_id=secretary_id,
        votes=secretary_votes,
        present=present,
        committee=committee,
        held_on=held_on,
    )
    if not rules.party_years_enough(full_on=secretary.full_on, on=held_on):
        raise ValidationError(
            {
                "secretary": f"{secretary.name} {fmt(secretary.full_on)} 转为正式党员，至 {fmt(held_on)} 党龄不满 1 年，"
                "不能担任书记（支部工作条例第二十三条）"
            }
        )
    deputy = None
    if deputy_id:
        if deputy_id == secretary_id:
            raise ValidationError({"deputy": "书记和副书记不能是同一人"})
        deputy = _officer(
            label="deputy",
            member_id=deputy_id,
            votes=deputy_votes or 0,
            present=present,
            committee=committee,
            held_on=held_on,
        )
    clean: dict[str, str] = {}
    for member_id, code in (duties or {}).items():
        member_id = int(member_id)
        if member_id not in committee or member_id in (secretary_id, deputy_id):
            raise ValidationError({"duties": "分工只为书记、副书记以外的新当选委员填写"})
        if code not in DUTY_CODES:
            raise ValidationError({"duties": "分工应为组织委员、宣传委员、纪检委员或委员"})
        clean[str(member_id)] = code
    election.first_meeting_on = held_on
    election.first_meeting_present = present
    election.secretary, election.secretary_votes = secretary, secretary_votes
    election.deputy, election.deputy_votes = deputy, (deputy_votes if deputy else None)
    election.duties = clean
    election.save()
    log("election_officers", actor, election, held_on=fmt(held_on), secretary=secretary.name, present=present)
    return election


@transaction.atomic
def election_report(*, actor: Any, election: Election, reported_on: date) -> Election:
    """Report the result to the organization above (书记/副书记 for approval, 委员 for 备案)."""
    authorize_branch(actor, election)
    require_stage(election, ElectionStage.ELECTED, doing="报告选举结果")
    if election.has_committee and election.secretary_id is None:
        raise ValidationError({"stage": "请先登记委员会第一次会议选举书记、副书记的结果"})
    after = election.first_meeting_on or election.meeting.held_on
    election.report_on = require_date_after(reported_on, after, "reported_on", "报告日期", "选举日期")
    election.stage = ElectionStage.REPORT_PENDING
    election.save(update_fields=["report_on", "stage", "updated_at"])
    log("election_report", actor, election, reported_on=fmt(reported_on))
    return election


def _officers(election: Election) -> tuple[Member, Member | None, list[Member]]:
    if election.has_committee:
        committee = elected_members(election, Post.COMMITTEE)
        others = [m for m in committee if m.pk not in (election.secretary_id, election.deputy_id)]
        return election.secretary, election.deputy, others
    secretary = elected_members(election, Post.SECRETARY)
    deputy = elected_members(election, Post.DEPUTY_SECRETARY) if election.deputy_seat else []
    return secretary[0], (deputy[0] if deputy else None), []


@transaction.atomic
def election_result_approve(*, actor: Any, election: Election, approved_on: date, approval_no: str) -> Election:
    """The upper organization approves 书记/副书记 and files the 委员: the new term and its
    positions are created from the election, the old term closes."""
    authorize_upper(actor, election)
    require_stage(election, ElectionStage.REPORT_PENDING, doing="批复选举结果")
    number = require_text(approval_no, "approval_no", "批复文号")
    require_date_after(approved_on, election.report_on, "approved_on", "批复日期", "报告日期")
    secretary, deputy, others = _officers(election)
    elected_on = election.meeting.held_on
    term = committee_term_start(
        org=election.organization,
        elected_on=elected_on,
        kind=TermKind.ELECTED,
        note=f"换届选举产生，上级批复 {number}"[:200],
        user=actor,
    )
    seats = [(PositionCode.SECRETARY, secretary)]
    if deputy is not None:
        seats.append((PositionCode.DEPUTY_SECRETARY, deputy))
    seats += [(election.duties.get(str(m.pk), PositionCode.MEMBER), m) for m in others]
    for code, member in seats:
        position_assign(
            term=term, position=code, person_name=member.name, start_on=elected_on, member=member, user=actor
        )
    election.result_approved_on = approved_on
    election.result_approval_no = number
    election.new_term = term
    election.stage = ElectionStage.COMPLETED
    election.save(update_fields=["result_approved_on", "result_approval_no", "new_term", "stage", "updated_at"])
    log("election_result_approve", actor, election, term=term.number, positions=len(seats), approval_no=number)
    return election
