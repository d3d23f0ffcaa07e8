"""The checks and counts behind a meeting record, applied by ``meetings.meeting_save``: the
header, the attendance against the roster of the day, the quorum and each resolution's outcome.
Nothing here writes; every function returns what it built and the errors it found.

Quorum and votes (../shared/domain-rules.md §3, ZB §11–12, FZ):

- 党员大会 (or a meeting that also counts as one): quorum when the voters present (正式党员 in
  normal standing) are more than half of the voters expected (应到有表决权). A resolution passes
  with votes in favour — plus, for admission/转正 kinds, the written opinions of absent voters —
  from more than half of the voters expected, not of those present.
- 支委会/党委会: quorum when more than half of the committee members are present; a resolution
  passes with more than half of the committee members in favour. Refused outright for an
  organization with fewer than 3 committee seats filled on the day.
- Without quorum the record is saved but marked, and every vote in it is ``invalid``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError

from activities.choices import (
    ALSO_COUNTS_AS,
    MEMBER_KINDS,
    STUDY_TYPES,
    WRITTEN_VOTE_KINDS,
    AttendanceStatus,
    MeetingType,
    QuorumState,
    ResolutionKind,
    ResolutionOutcome,
    VotingMethod,
)
from activities.models import Attendance, Resolution
from activities.selectors import MeetingRoster, person_key
from activities.services._common import fmt_day
from activities.services.inputs import AttendanceInput, MeetingInput, ResolutionInput
from core.dates import today
from members.choices import PARTY_MEMBER_STAGES
from members.models import Member
from members.selectors import member_names_in_scope
from organizations.choices import OrgType
from organizations.models import Organization

GROUP_MEETING_TYPES = {MeetingType.GROUP, MeetingType.STUDY, MeetingType.OTHER}
HALF_HOUR = Decimal("0.5")


@dataclass
class Counts:
    """Head counts of one meeting (应到, 实到, 请假, 缺席, 列席; voters expected and present)."""

    expected: int = 0
    present: int = 0
    leave: int = 0
    absent: int = 0
    nonvoting: int = 0
    voters_expected: int = 0
    voters_present: int = 0


@dataclass
class FollowUpPlan:
    """Who follows up a resolution that needs action, and by when."""

    owner: Member | None
    owner_name: str
    due_on: dt.date | None


# --- the header ---------------------------------------------------------------------------------


def check_header(*, organization: Organization, data: MeetingInput, finish: bool) -> list[str]:
    """Validate the header; returns the cleaned ``also_counts_as``. Raises on the first problems."""
    errors: dict[str, list[str]] = {}
    meeting_type = data.meeting_type or ""
    if meeting_type not in MeetingType.values:
        raise ValidationError({"meeting_type": "请选择会议类型"})
    if meeting_type == MeetingType.TALK:
        raise ValidationError({"meeting_type": "谈心谈话请在“谈心谈话”中按谈话双方记录"})
    held_on = data.held_on
    if not isinstance(held_on, dt.date):
        errors.setdefault("held_on", []).append("请填写会议日期")
    elif finish and held_on > today():
        errors.setdefault("held_on", []).append("会议日期在今天之后，不能完成录入，可先保存草稿")
    start, end = data.start_time, data.end_time
    if start and end and end <= start:
        errors.setdefault("end_time", []).append("结束时间应晚于开始时间")
    if organization.org_type == OrgType.GROUP and meeting_type not in GROUP_MEETING_TYPES:
        errors.setdefault("meeting_type", []).append("党小组只记录党小组会、集中学习和其他活动")
    if organization.org_type != OrgType.GROUP and meeting_type == MeetingType.GROUP:
        errors.setdefault("meeting_type", []).append("党小组会请记录在对应的党小组下")
    also = list(dict.fromkeys(data.also_counts_as or []))
    allowed = ALSO_COUNTS_AS.get(meeting_type, ())
    bad = [code for code in also if code not in allowed]
    if bad:
        labels = "、".join(MeetingType(c).label if c in MeetingType.values else str(c) for c in bad)
        errors.setdefault("also_counts_as", []).append(f"{MeetingType(meeting_type).label}不能同时计为：{labels}")
    if data.is_center_group and organization.org_type not in (OrgType.COMMITTEE, OrgType.GENERAL_BRANCH):
        errors.setdefault("is_center_group", []).append("理论学习中心组学习只在党委（党总支）记录")
    if data.is_center_group and meeting_type != MeetingType.STUDY:
        errors.setdefault("is_center_group", []).append("理论学习中心组学习的会议类型应为“集中学习”")
    if data.study_hours is not None and not (Decimal("0") <= data.study_hours <= Decimal("24")):
        errors.setdefault("study_hours", []).append("学时应在 0 至 24 之间")
    if finish and not (data.title or "").strip():
        errors.setdefault("title", []).append("请填写会议主题")
    if errors:
        raise ValidationError(errors)
    return also


def study_hours_earned(data: MeetingInput, acting: set[str], is_center_group: bool) -> Decimal | None:
    """Hours earned by attendees, or None when the meeting is not a study meeting."""
    if not (acting & STUDY_TYPES or is_center_group):
        return None
    if data.study_hours is not None:
        return Decimal(data.study_hours)
    start, end = data.start_time, data.end_time
    if start and end and end > start:
        minutes = (dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start)).seconds // 60
        # Round to the nearest half hour.
        return (Decimal(minutes) / 60 / HALF_HOUR).quantize(Decimal("1"), rounding=ROUND_HALF_UP) * HALF_HOUR
    return None


def resolve_person(
    *, data: MeetingInput, field: str, allowed: dict[int, Member], errors: dict[str, list[str]], label: str
) -> tuple[Member | None, str]:
    """The chair, recorder or lecturer: a member of the roster, or a name typed in."""
    member_id = getattr(data, f"{field}_id")
    name = (getattr(data, f"{field}_name") or "").strip()[:50]
    if not member_id:
        return None, name
    member = allowed.get(member_id)
    if member is None:
        errors.setdefault(f"{field}_id", []).append(f"{label}应为本组织党员，或直接填写姓名")
        return None, name
    return member, member.name


# --- attendance and quorum ----------------------------------------------------------------------


def build_attendance(
    *, roster: MeetingRoster, items: Sequence[AttendanceInput], held_on: dt.date, finish: bool, user: Any
) -> tuple[list[Attendance], Counts, list[str]]:
    """Attendance rows (unsaved) checked against the roster of the day, and the head counts."""
    people = roster.by_key()
    errors: list[str] = []
    rows: list[Attendance] = []
    seen: set[str] = set()
    outsiders: list[int] = []
    for index, item in enumerate(items, start=1):
        status = item.status or ""
        if status not in AttendanceStatus.values:
            errors.append(f"第 {index} 行：请选择出席情况")
            continue
        reason = (item.reason or "").strip()[:200]
        member_id, position_id = item.member_id, item.position_id
        if member_id or position_id:
            key = person_key(member_id=member_id, position_id=position_id)
            person = people.get(key)
            if person is None:
                if member_id:
                    outsiders.append(member_id)
                else:
                    errors.append(f"第 {index} 行：该委员职务在 {fmt_day(held_on)} 不属于本组织委员会")
                continue
            if key in seen:
                errors.append(f"{person.name} 重复登记")
                continue
            seen.add(key)
            if person.is_expected and status == AttendanceStatus.ATTENDING_NONVOTING:
                errors.append(f"{person.name} 是应到人员，请选择出席、请假或缺席")
                continue
            if not person.is_expected and status != AttendanceStatus.ATTENDING_NONVOTING:
                if status in (AttendanceStatus.LEAVE, AttendanceStatus.ABSENT):
                    continue  # not expected: nothing to record
                status = AttendanceStatus.ATTENDING_NONVOTING
            if finish and status == AttendanceStatus.LEAVE and not reason:
                errors.append(f"{person.name} 请假，请填写请假原因")
            rows.append(
                Attendance(
                    member=person.member,
                    position=person.position,
                    name=person.name,
                    status=status,
                    reason=reason,
                    is_expected=person.is_expected,
                    is_voter=person.is_voter,
                    is_speaker=bool(item.is_speaker),
                    speech_topic=(item.speech_topic or "").strip()[:200],
                    recorded_by=user,
                )
            )
        else:
            name = (item.name or "").strip()
            if not name:
                errors.append(f"第 {index} 行：请填写列席人员姓名")
                continue
            if len(name) > 50:
                errors.append(f"第 {index} 行：姓名过长")
                continue
            rows.append(
                Attendance(
                    name=name,
                    status=AttendanceStatus.ATTENDING_NONVOTING,
                    reason=reason,
                    is_guest=True,
                    is_speaker=bool(item.is_speaker),
                    speech_topic=(item.speech_topic or "").strip()[:200],
                    recorded_by=user,
                )
            )
    if outsiders:
        names = member_names_in_scope(user, outsiders)  # out-of-scope ids read like unknown ones
        for member_id in outsiders:
            label = names.get(member_id, f"编号 {member_id} 的人员")
            errors.append(f"{label} 在 {fmt_day(held_on)} 不是本组织党员，不能登记出席（可作为列席人员按姓名添加）")
    missing = [p.name for p in roster.expected if p.key not in seen]
    if finish and missing and not errors:
        shown = "、".join(missing[:5]) + (f" 等 {len(missing)} 人" if len(missing) > 5 else "")
        errors.append(f"尚未登记出席情况：{shown}")
    counts = Counts()
    counts.expected = len(roster.expected)
    counts.voters_expected = sum(1 for p in roster.expected if p.is_voter)
    for row in rows:
        if row.status == AttendanceStatus.ATTENDING_NONVOTING:
            counts.nonvoting += 1
        elif row.status == AttendanceStatus.PRESENT:
            counts.present += 1
            counts.voters_present += int(row.is_voter)
        elif row.status == AttendanceStatus.LEAVE:
            counts.leave += 1
        else:
            counts.absent += 1
    return rows, counts, errors


def quorum_state(*, meeting_type: str, acting: set[str], counts: Counts) -> str:
    if meeting_type == MeetingType.COMMITTEE:
        return QuorumState.MET if counts.present * 2 > counts.expected else QuorumState.NOT_MET
    if MeetingType.GENERAL_ASSEMBLY in acting:
        met = counts.voters_expected > 0 and counts.voters_present * 2 > counts.voters_expected
        return QuorumState.MET if met else QuorumState.NOT_MET
    return QuorumState.NOT_APPLICABLE


def resolution_outcome(
    *, meeting_type: str, acting: set[str], quorum: str, counts: Counts, resolution: Resolution
) -> str:
    """The outcome of one resolution: see the module docstring for the rule."""
    if resolution.voting_method == VotingMethod.NONE:
        return ResolutionOutcome.RECORDED
    if quorum == QuorumState.NOT_MET:
        return ResolutionOutcome.INVALID
    if meeting_type == MeetingType.COMMITTEE:
        return ResolutionOutcome.PASSED if resolution.votes_for * 2 > counts.expected else ResolutionOutcome.REJECTED
    in_favour = resolution.votes_for + resolution.written_for
    return ResolutionOutcome.PASSED if in_favour * 2 > counts.voters_expected else ResolutionOutcome.REJECTED


# --- resolutions --------------------------------------------------------------------------------


def _already_admitted(member: Member, held_on: dt.date) -> bool:
    """A 预备/正式党员 admitted before the meeting's day (the vote that admitted them is dated that
    day itself, so re-saving that meeting stays possible)."""
    if member.stage not in PARTY_MEMBER_STAGES:
        return False
    return member.joined_on is None or member.joined_on < held_on


def _count(value: Any, label: str, errors: list[str]) -> int:
    if value in (None, ""):
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.append(f"{label}应为整数")
        return 0
    if number < 0:
        errors.append(f"{label}不能为负数")
        return 0
    return number


def build_resolutions(
    *,
    organization: Organization,
    items: Sequence[ResolutionInput],
    meeting_type: str,
    acting: set[str],
    quorum: str,
    counts: Counts,
    roster: MeetingRoster,
    existing: dict[int, Resolution],
    held_on: dt.date,
) -> tuple[list[tuple[Resolution, FollowUpPlan]], list[str]]:
    """Resolutions (unsaved, or the meeting's existing ones updated in memory) with their outcome
    and their follow-up plan."""
    errors: list[str] = []
    built: list[tuple[Resolution, FollowUpPlan]] = []
    votes_allowed = meeting_type == MeetingType.COMMITTEE or MeetingType.GENERAL_ASSEMBLY in acting
    is_committee = meeting_type == MeetingType.COMMITTEE
    present_voters = counts.present if is_committee else counts.voters_present
    absent_voters = max(0, counts.voters_expected - counts.voters_present)
    member_ids = {
        member_id for item in items for member_id in (item.subject_member_id, item.follow_up_owner_id) if member_id
    }
    known = {p.member_id for p in (*roster.expected, *roster.others) if p.member_id}
    lookup = member_ids - known
    members: dict[int, Member] = {}
    if lookup:
        members = {
            m.pk: m for m in Member.objects.filter(pk__in=lookup, organization__path__startswith=organization.path)
        }
    for p in (*roster.expected, *roster.others):
        if p.member is not None:
            members[p.member.pk] = p.member
    for index, item in enumerate(items, start=1):
        prefix = f"第 {index} 项决议："
        row_errors: list[str] = []
        title = (item.title or "").strip()
        if not title:
            row_errors.append("请填写决议事项")
        kind = item.kind or ResolutionKind.GENERAL
        if kind not in ResolutionKind.values:
            row_errors.append("决议类别无效")
            kind = ResolutionKind.GENERAL
        method = item.voting_method or (VotingMethod.SHOW_OF_HANDS if votes_allowed else VotingMethod.NONE)
        if method not in VotingMethod.values:
            row_errors.append("表决方式无效")
            method = VotingMethod.NONE
        votes = {name: _count(getattr(item, name), label, row_errors) for name, label in ResolutionInput.VOTES}
        cast = votes["votes_for"] + votes["votes_against"] + votes["votes_abstain"]
        written = votes["written_for"] + votes["written_against"] + votes["written_abstain"]
        if method == VotingMethod.NONE:
            if cast or written:
                row_errors.append("未表决的事项不应填写票数")
        elif not votes_allowed:
            row_errors.append(f"{MeetingType(meeting_type).label}不进行表决，只能记录议定事项")
        else:
            if cast > present_voters:
                who = "实到委员" if is_committee else "实到有表决权的党员"
                row_errors.append(f"表决票数（{cast}）超过{who}人数（{present_voters}）")
            if written:
                if is_committee or kind not in WRITTEN_VOTE_KINDS:
                    row_errors.append("只有支部党员大会讨论接收预备党员、预备党员转正等事项时，才计入书面意见")
                elif written > absent_voters:
                    row_errors.append(f"书面意见（{written}）超过未到会的有表决权党员人数（{absent_voters}）")
            if kind in MEMBER_KINDS and is_committee:
                row_errors.append(f"{ResolutionKind(kind).label}须由支部党员大会表决")
        subject_id = item.subject_member_id
        subject = members.get(subject_id) if subject_id else None
        if subject_id and subject is None:
            row_errors.append("涉及党员不属于本组织")
        if kind == ResolutionKind.ADMISSION and subject is not None and _already_admitted(subject, held_on):
            row_errors.append(
                f"{subject.name}已是{subject.get_stage_display()}，不能再讨论接收为预备党员（只能接收发展对象）"
            )
        if kind in MEMBER_KINDS and subject is None and not subject_id:
            row_errors.append(f"{ResolutionKind(kind).label}请选择涉及的党员（发展对象/预备党员）")
        owner_id = item.follow_up_owner_id
        owner = members.get(owner_id) if owner_id else None
        if owner_id and owner is None:
            row_errors.append("落实责任人不属于本组织")
        due_on = item.follow_up_due_on
        if item.action_required and due_on is not None and due_on < held_on:
            row_errors.append("落实时限不能早于会议日期")
        res_id = item.id
        resolution = existing.get(res_id) if res_id else None
        if res_id and resolution is None:
            row_errors.append("该决议不属于本次会议")
        if row_errors:
            errors.extend(prefix + e for e in row_errors)
            continue
        resolution = resolution or Resolution()
        resolution.order = index
        resolution.title = title[:300]
        resolution.kind = kind
        resolution.voting_method = method
        for name, value in votes.items():
            setattr(resolution, name, value)
        resolution.subject_member = subject
        resolution.action_required = bool(item.action_required)
        resolution.note = (item.note or "").strip()[:300]
        resolution.outcome = resolution_outcome(
            meeting_type=meeting_type, acting=acting, quorum=quorum, counts=counts, resolution=resolution
        )
        plan = FollowUpPlan(
            owner=owner,
            owner_name=(item.follow_up_owner_name or (owner.name if owner else "")).strip()[:50],
            due_on=due_on,
        )
        built.append((resolution, plan))
    return built, errors
