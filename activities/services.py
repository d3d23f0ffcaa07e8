"""Writes and rules for organizational life.

Services are keyword-only, validate everything first, raise ``ValidationError`` with Chinese
messages keyed by field, and write nothing when they refuse. Every create/update/delete of a
meeting is written to the audit log in the same transaction.

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
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from activities.choices import (
    ALSO_COUNTS_AS,
    MEMBER_KINDS,
    STUDY_TYPES,
    WRITTEN_VOTE_KINDS,
    AppraisalGrade,
    AttendanceStatus,
    FollowUpStatus,
    MeetingStatus,
    MeetingType,
    QuorumState,
    ResolutionKind,
    ResolutionOutcome,
    StudySource,
    VotingMethod,
)
from activities.models import (
    ActivitySettings,
    AppraisalEntry,
    Attendance,
    FollowUp,
    Meeting,
    MeetingCredit,
    Resolution,
    StudyPoints,
    StudyRecord,
    Talk,
)
from activities.selectors import (
    COMMITTEE_MIN_SIZE,
    MeetingRoster,
    lecturer_candidates_on,
    meeting_roster,
    person_key,
)
from audit.services import audit_log
from core.access import CHANGE, VIEW, get_scope, user_can
from core.dates import today
from members.models import Member
from members.selectors import member_is_full_on
from organizations.choices import OrgType
from organizations.models import Organization

HEADER_FIELDS = (
    "meeting_type",
    "also_counts_as",
    "title",
    "held_on",
    "start_time",
    "end_time",
    "place",
    "chair_id",
    "chair_name",
    "recorder_id",
    "recorder_name",
    "lecturer_id",
    "lecturer_name",
    "agenda",
    "minutes",
    "first_topic",
    "first_topic_material",
    "is_center_group",
    "study_hours",
)
RESOLUTION_FIELDS = (
    "id",
    "title",
    "kind",
    "voting_method",
    "votes_for",
    "votes_against",
    "votes_abstain",
    "written_for",
    "written_against",
    "written_abstain",
    "subject_member_id",
    "action_required",
    "follow_up_owner_id",
    "follow_up_owner_name",
    "follow_up_due_on",
    "note",
)
ATTENDANCE_FIELDS = ("member_id", "position_id", "name", "status", "reason", "is_speaker", "speech_topic")
GROUP_MEETING_TYPES = {MeetingType.GROUP, MeetingType.STUDY, MeetingType.OTHER}
HALF_HOUR = Decimal("0.5")


def _now() -> dt.datetime:
    """The current time (a seam for tests that travel in time, like ``core.dates.today``)."""
    return timezone.now()


def _fmt(day: dt.date) -> str:
    return f"{day:%Y-%m-%d}"


# --- validation helpers -------------------------------------------------------------------------


def _check_header(*, organization: Organization, data: dict[str, Any], finish: bool) -> list[str]:
    """Validate the header; returns the cleaned ``also_counts_as``. Raises on the first problems."""
    errors: dict[str, list[str]] = {}
    unknown = set(data) - set(HEADER_FIELDS)
    if unknown:
        raise ValidationError({name: "不支持的字段" for name in sorted(unknown)})
    meeting_type = data.get("meeting_type") or ""
    if meeting_type not in MeetingType.values:
        raise ValidationError({"meeting_type": "请选择会议类型"})
    if meeting_type == MeetingType.TALK:
        raise ValidationError({"meeting_type": "谈心谈话请在“谈心谈话”中按谈话双方记录"})
    held_on = data.get("held_on")
    if not isinstance(held_on, dt.date):
        errors.setdefault("held_on", []).append("请填写会议日期")
    elif finish and held_on > today():
        errors.setdefault("held_on", []).append("会议日期在今天之后，不能完成录入，可先保存草稿")
    start, end = data.get("start_time"), data.get("end_time")
    if start and end and end <= start:
        errors.setdefault("end_time", []).append("结束时间应晚于开始时间")
    if organization.org_type == OrgType.GROUP and meeting_type not in GROUP_MEETING_TYPES:
        errors.setdefault("meeting_type", []).append("党小组只记录党小组会、集中学习和其他活动")
    if organization.org_type != OrgType.GROUP and meeting_type == MeetingType.GROUP:
        errors.setdefault("meeting_type", []).append("党小组会请记录在对应的党小组下")
    also = list(dict.fromkeys(data.get("also_counts_as") or []))
    allowed = ALSO_COUNTS_AS.get(meeting_type, ())
    bad = [code for code in also if code not in allowed]
    if bad:
        labels = "、".join(MeetingType(c).label if c in MeetingType.values else str(c) for c in bad)
        errors.setdefault("also_counts_as", []).append(f"{MeetingType(meeting_type).label}不能同时计为：{labels}")
    if data.get("is_center_group") and organization.org_type not in (OrgType.COMMITTEE, OrgType.GENERAL_BRANCH):
        errors.setdefault("is_center_group", []).append("理论学习中心组学习只在党委（党总支）记录")
    if data.get("is_center_group") and meeting_type != MeetingType.STUDY:
        errors.setdefault("is_center_group", []).append("理论学习中心组学习的会议类型应为“集中学习”")
    if data.get("study_hours") is not None and not (Decimal("0") <= data["study_hours"] <= Decimal("24")):
        errors.setdefault("study_hours", []).append("学时应在 0 至 24 之间")
    if finish and not (data.get("title") or "").strip():
        errors.setdefault("title", []).append("请填写会议主题")
    if errors:
        raise ValidationError(errors)
    return also


def _study_hours(data: dict[str, Any], acting: set[str], is_center_group: bool) -> Decimal | None:
    """Hours earned by attendees, or None when the meeting is not a study meeting."""
    if not (acting & STUDY_TYPES or is_center_group):
        return None
    if data.get("study_hours") is not None:
        return Decimal(data["study_hours"])
    start, end = data.get("start_time"), data.get("end_time")
    if start and end and end > start:
        minutes = (dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start)).seconds // 60
        # Round to the nearest half hour.
        return (Decimal(minutes) / 60 / HALF_HOUR).quantize(Decimal("1"), rounding=ROUND_HALF_UP) * HALF_HOUR
    return None


def _int(value: Any, field: str, label: str, errors: list[str]) -> int:
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


# --- the meeting -------------------------------------------------------------------------------


class _Counts:
    def __init__(self) -> None:
        self.expected = self.present = self.leave = self.absent = self.nonvoting = 0
        self.voters_expected = self.voters_present = 0


def _build_attendance(
    *, roster: MeetingRoster, items: list[dict[str, Any]], held_on: dt.date, finish: bool, user: Any
) -> tuple[list[Attendance], _Counts, list[str]]:
    people = roster.by_key()
    errors: list[str] = []
    rows: list[Attendance] = []
    seen: set[str] = set()
    outsiders: list[int] = []
    for index, item in enumerate(items, start=1):
        unknown = set(item) - set(ATTENDANCE_FIELDS)
        if unknown:
            errors.append(f"第 {index} 行：不支持的字段 {', '.join(sorted(unknown))}")
            continue
        status = item.get("status") or ""
        if status not in AttendanceStatus.values:
            errors.append(f"第 {index} 行：请选择出席情况")
            continue
        reason = (item.get("reason") or "").strip()[:200]
        member_id, position_id = item.get("member_id"), item.get("position_id")
        if member_id or position_id:
            key = person_key(member_id=member_id, position_id=position_id)
            person = people.get(key)
            if person is None:
                if member_id:
                    outsiders.append(member_id)
                else:
                    errors.append(f"第 {index} 行：该委员职务在 {_fmt(held_on)} 不属于本组织委员会")
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
                    is_speaker=bool(item.get("is_speaker")),
                    speech_topic=(item.get("speech_topic") or "").strip()[:200],
                    recorded_by=user,
                )
            )
        else:
            name = (item.get("name") or "").strip()
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
                    is_speaker=bool(item.get("is_speaker")),
                    speech_topic=(item.get("speech_topic") or "").strip()[:200],
                    recorded_by=user,
                )
            )
    if outsiders:
        names = dict(Member.objects.filter(pk__in=outsiders).values_list("pk", "name"))
        for member_id in outsiders:
            label = names.get(member_id, f"编号 {member_id} 的人员")
            errors.append(f"{label} 在 {_fmt(held_on)} 不是本组织党员，不能登记出席（可作为列席人员按姓名添加）")
    missing = [p.name for p in roster.expected if p.key not in seen]
    if finish and missing and not errors:
        shown = "、".join(missing[:5]) + (f" 等 {len(missing)} 人" if len(missing) > 5 else "")
        errors.append(f"尚未登记出席情况：{shown}")
    counts = _Counts()
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


def _quorum(*, meeting_type: str, acting: set[str], is_center_group: bool, counts: _Counts) -> str:
    if meeting_type == MeetingType.COMMITTEE:
        return QuorumState.MET if counts.present * 2 > counts.expected else QuorumState.NOT_MET
    if MeetingType.GENERAL_ASSEMBLY in acting:
        met = counts.voters_expected > 0 and counts.voters_present * 2 > counts.voters_expected
        return QuorumState.MET if met else QuorumState.NOT_MET
    return QuorumState.NOT_APPLICABLE


def resolution_outcome(
    *, meeting_type: str, acting: set[str], quorum: str, counts: _Counts, resolution: Resolution
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


def _build_resolutions(
    *,
    organization: Organization,
    items: list[dict[str, Any]],
    meeting_type: str,
    acting: set[str],
    quorum: str,
    counts: _Counts,
    roster: MeetingRoster,
    existing: dict[int, Resolution],
    held_on: dt.date,
) -> tuple[list[tuple[Resolution, dict[str, Any]]], list[str]]:
    errors: list[str] = []
    built: list[tuple[Resolution, dict[str, Any]]] = []
    votes_allowed = meeting_type == MeetingType.COMMITTEE or MeetingType.GENERAL_ASSEMBLY in acting
    is_committee = meeting_type == MeetingType.COMMITTEE
    present_voters = counts.present if is_committee else counts.voters_present
    absent_voters = max(0, counts.voters_expected - counts.voters_present)
    member_ids = {
        item.get(key) for item in items for key in ("subject_member_id", "follow_up_owner_id") if item.get(key)
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
        unknown = set(item) - set(RESOLUTION_FIELDS)
        if unknown:
            errors.append(prefix + "不支持的字段 " + ", ".join(sorted(unknown)))
            continue
        title = (item.get("title") or "").strip()
        if not title:
            row_errors.append("请填写决议事项")
        kind = item.get("kind") or ResolutionKind.GENERAL
        if kind not in ResolutionKind.values:
            row_errors.append("决议类别无效")
            kind = ResolutionKind.GENERAL
        method = item.get("voting_method") or (VotingMethod.SHOW_OF_HANDS if votes_allowed else VotingMethod.NONE)
        if method not in VotingMethod.values:
            row_errors.append("表决方式无效")
            method = VotingMethod.NONE
        votes = {
            name: _int(item.get(name), name, label, row_errors)
            for name, label in (
                ("votes_for", "赞成票"),
                ("votes_against", "反对票"),
                ("votes_abstain", "弃权票"),
                ("written_for", "书面赞成"),
                ("written_against", "书面反对"),
                ("written_abstain", "书面弃权"),
            )
        }
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
        subject_id = item.get("subject_member_id")
        subject = members.get(subject_id) if subject_id else None
        if subject_id and subject is None:
            row_errors.append("涉及党员不属于本组织")
        if kind in MEMBER_KINDS and subject is None and not subject_id:
            row_errors.append(f"{ResolutionKind(kind).label}请选择涉及的党员（发展对象/预备党员）")
        owner_id = item.get("follow_up_owner_id")
        owner = members.get(owner_id) if owner_id else None
        if owner_id and owner is None:
            row_errors.append("落实责任人不属于本组织")
        due_on = item.get("follow_up_due_on")
        if item.get("action_required") and due_on is not None and due_on < held_on:
            row_errors.append("落实时限不能早于会议日期")
        res_id = item.get("id")
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
        resolution.action_required = bool(item.get("action_required"))
        resolution.note = (item.get("note") or "").strip()[:300]
        resolution.outcome = resolution_outcome(
            meeting_type=meeting_type, acting=acting, quorum=quorum, counts=counts, resolution=resolution
        )
        follow_up = {
            "owner": owner,
            "owner_name": (item.get("follow_up_owner_name") or (owner.name if owner else "")).strip()[:50],
            "due_on": due_on,
        }
        built.append((resolution, follow_up))
    return built, errors


def _resolve_person(
    *, data: dict[str, Any], field: str, allowed: dict[int, Member], errors: dict[str, list[str]], label: str
) -> tuple[Member | None, str]:
    member_id = data.get(f"{field}_id")
    name = (data.get(f"{field}_name") or "").strip()[:50]
    if not member_id:
        return None, name
    member = allowed.get(member_id)
    if member is None:
        errors.setdefault(f"{field}_id", []).append(f"{label}应为本组织党员，或直接填写姓名")
        return None, name
    return member, member.name


@transaction.atomic
def meeting_save(
    *,
    user: Any,
    organization: Organization,
    data: dict[str, Any],
    attendance: list[dict[str, Any]],
    resolutions: list[dict[str, Any]],
    meeting: Meeting | None = None,
    finish: bool = False,
) -> Meeting:
    """Create or update a meeting with its attendance and resolutions in one step.

    ``finish`` turns a draft into a finished record (it then counts for compliance and study
    hours); a finished meeting stays finished when edited. Attendance is replaced as a whole;
    resolutions are matched by ``id`` so their follow-up items keep their status.
    """
    if meeting is not None and meeting.organization_id != organization.pk:
        raise ValidationError({"organization": "不能把会议移到其他组织"})
    finish = finish or (meeting is not None and meeting.is_final)
    also = _check_header(organization=organization, data=data, finish=finish)
    meeting_type: str = data["meeting_type"]
    held_on: dt.date = data["held_on"]
    is_center_group = bool(data.get("is_center_group"))
    acting = {meeting_type, *also}
    roster = meeting_roster(
        organization=organization,
        on=held_on,
        meeting_type=meeting_type,
        also_counts_as=also,
        is_center_group=is_center_group,
    )
    errors: dict[str, list[str]] = {}
    if meeting_type == MeetingType.COMMITTEE and (roster.committee_size or 0) < COMMITTEE_MIN_SIZE:
        raise ValidationError(
            {
                "meeting_type": f"{organization} 在 {_fmt(held_on)} 未设委员会（在任委员 {roster.committee_size} 名，"
                f"不足 {COMMITTEE_MIN_SIZE} 名），不能召开委员会会议"
            }
        )
    rows, counts, att_errors = _build_attendance(
        roster=roster, items=attendance, held_on=held_on, finish=finish, user=user
    )
    if att_errors:
        errors["attendance"] = att_errors
    quorum = _quorum(meeting_type=meeting_type, acting=acting, is_center_group=is_center_group, counts=counts)
    existing = {r.pk: r for r in meeting.resolutions.all()} if meeting is not None else {}
    built, res_errors = _build_resolutions(
        organization=organization,
        items=resolutions,
        meeting_type=meeting_type,
        acting=acting,
        quorum=quorum,
        counts=counts,
        roster=roster,
        existing=existing,
        held_on=held_on,
    )
    if res_errors:
        errors["resolutions"] = res_errors
    allowed = {p.member.pk: p.member for p in (*roster.expected, *roster.others) if p.member is not None}
    chair, chair_name = _resolve_person(data=data, field="chair", allowed=allowed, errors=errors, label="主持人")
    recorder, recorder_name = _resolve_person(
        data=data, field="recorder", allowed=allowed, errors=errors, label="记录人"
    )
    if data.get("lecturer_id") and data["lecturer_id"] not in allowed:
        for position in lecturer_candidates_on(organization=organization, on=held_on):
            allowed[position.member.pk] = position.member
    lecturer, lecturer_name = _resolve_person(
        data=data, field="lecturer", allowed=allowed, errors=errors, label="授课人"
    )
    hours = _study_hours(data, acting, is_center_group)
    if finish and hours is None and (acting & STUDY_TYPES or is_center_group):
        errors.setdefault("study_hours", []).append("请填写计入学时，或填写开始和结束时间以自动计算")
    if errors:
        raise ValidationError(errors)

    creating = meeting is None
    meeting = meeting or Meeting(organization=organization, created_by=user)
    for name in (
        "title",
        "place",
        "agenda",
        "minutes",
        "first_topic",
        "first_topic_material",
    ):
        setattr(meeting, name, (data.get(name) or "").strip())
    meeting.meeting_type = meeting_type
    meeting.also_counts_as = sorted(also)
    meeting.held_on = held_on
    meeting.start_time = data.get("start_time")
    meeting.end_time = data.get("end_time")
    meeting.chair, meeting.chair_name = chair, chair_name
    meeting.recorder, meeting.recorder_name = recorder, recorder_name
    meeting.lecturer, meeting.lecturer_name = lecturer, lecturer_name
    meeting.is_center_group = is_center_group
    meeting.study_hours = data.get("study_hours")
    meeting.expected_count = counts.expected
    meeting.present_count = counts.present
    meeting.leave_count = counts.leave
    meeting.absent_count = counts.absent
    meeting.nonvoting_count = counts.nonvoting
    meeting.voters_expected = counts.voters_expected if meeting_type != MeetingType.COMMITTEE else counts.expected
    meeting.voters_present = counts.voters_present if meeting_type != MeetingType.COMMITTEE else counts.present
    meeting.quorum = quorum
    meeting.updated_by = user
    was_final = meeting.status == MeetingStatus.FINAL and not creating
    if finish and not was_final:
        meeting.status = MeetingStatus.FINAL
        meeting.finalized_at = _now()
    meeting.save()

    if not creating:
        meeting.attendance.all().delete()
    for row in rows:
        row.meeting = meeting
    # The saved rows stay on the object, so callers (the API's response) need no second read.
    meeting.saved_attendance = Attendance.objects.bulk_create(rows)

    _save_resolutions(meeting=meeting, built=built, existing=existing, creating=creating)
    _write_derived(meeting=meeting, rows=rows, hours=hours, creating=creating, user=user)
    audit_log(
        event="meeting_create" if creating else "meeting_update",
        user=user,
        obj=meeting,
        organization=organization,
        detail={
            "meeting_type": meeting_type,
            "held_on": _fmt(held_on),
            "status": meeting.status,
            "expected": counts.expected,
            "present": counts.present,
            "resolutions": len(built),
            "quorum": quorum,
        },
    )
    return meeting


def _save_resolutions(
    *, meeting: Meeting, built: list[tuple[Resolution, dict[str, Any]]], existing: dict[int, Resolution], creating: bool
) -> None:
    keep = {r.pk for r, _ in built if r.pk}
    removed = [pk for pk in existing if pk not in keep]
    if removed:
        FollowUp.objects.filter(resolution_id__in=removed, status=FollowUpStatus.OPEN).delete()
        Resolution.objects.filter(pk__in=removed).delete()
    new = [r for r, _ in built if not r.pk]
    old = [r for r, _ in built if r.pk]
    for r in new:
        r.meeting = meeting
    if new:
        Resolution.objects.bulk_create(new)
    if old:
        Resolution.objects.bulk_update(
            old,
            [
                "order",
                "title",
                "kind",
                "voting_method",
                "votes_for",
                "votes_against",
                "votes_abstain",
                "written_for",
                "written_against",
                "written_abstain",
                "outcome",
                "subject_member",
                "action_required",
                "note",
            ],
        )
    meeting.saved_resolutions = [r for r, _ in built]
    # Follow-up items for resolutions that need action.
    current = {} if creating else {f.resolution_id: f for f in FollowUp.objects.filter(resolution__meeting=meeting)}
    body = MeetingType.GENERAL_ASSEMBLY if meeting.acts_as_general_assembly else meeting.meeting_type
    to_create, to_update, to_delete = [], [], []
    for resolution, info in built:
        follow_up = current.get(resolution.pk)
        if resolution.action_required and resolution.outcome != ResolutionOutcome.INVALID:
            if follow_up is None:
                to_create.append(
                    FollowUp(
                        organization_id=meeting.organization_id,
                        meeting=meeting,
                        resolution=resolution,
                        body_type=body,
                        title=resolution.title,
                        owner=info["owner"],
                        owner_name=info["owner_name"],
                        due_on=info["due_on"],
                        opened_on=meeting.held_on,
                    )
                )
            else:
                follow_up.title = resolution.title
                follow_up.owner = info["owner"]
                follow_up.owner_name = info["owner_name"]
                follow_up.due_on = info["due_on"]
                follow_up.body_type = body
                to_update.append(follow_up)
        elif follow_up is not None and follow_up.status == FollowUpStatus.OPEN:
            to_delete.append(follow_up.pk)
    meeting.saved_follow_ups = to_create + to_update
    if to_create:
        FollowUp.objects.bulk_create(to_create)
    if to_update:
        FollowUp.objects.bulk_update(to_update, ["title", "owner", "owner_name", "due_on", "body_type"])
    if to_delete:
        FollowUp.objects.filter(pk__in=to_delete).delete()


def _write_derived(
    *, meeting: Meeting, rows: list[Attendance], hours: Decimal | None, creating: bool, user: Any
) -> None:
    """Rewrite the meeting's compliance credits and the study hours it earned its attendees."""
    if not creating:
        MeetingCredit.objects.filter(meeting=meeting).delete()
        StudyRecord.objects.filter(meeting=meeting, source=StudySource.MEETING).delete()
    if meeting.status != MeetingStatus.FINAL:
        return
    recorded_on = timezone.localdate(meeting.finalized_at)
    MeetingCredit.objects.bulk_create(
        [
            MeetingCredit(
                meeting=meeting,
                organization_id=meeting.organization_id,
                kind=kind,
                held_on=meeting.held_on,
                recorded_on=recorded_on,
            )
            for kind in sorted(meeting.acting_types)
        ]
    )
    if hours:
        title = meeting.title or meeting.get_meeting_type_display()
        StudyRecord.objects.bulk_create(
            [
                StudyRecord(
                    member_id=row.member_id,
                    organization_id=row.member.organization_id,
                    source=StudySource.MEETING,
                    meeting=meeting,
                    studied_on=meeting.held_on,
                    hours=hours,
                    title=title[:200],
                    entered_by=user,
                )
                for row in rows
                if row.member_id and row.status in (AttendanceStatus.PRESENT, AttendanceStatus.ATTENDING_NONVOTING)
            ]
        )


@transaction.atomic
def meeting_delete(*, user: Any, meeting: Meeting) -> None:
    """Delete a meeting with its attendance, resolutions, credits, study hours and files."""
    from activities.attachments import attachment_files_delete_on_commit

    attachment_files_delete_on_commit(list(meeting.attachments.all()))
    audit_log(
        event="meeting_delete",
        user=user,
        obj=meeting,
        organization=meeting.organization,
        detail={"meeting_type": meeting.meeting_type, "held_on": _fmt(meeting.held_on), "title": meeting.title},
    )
    meeting.delete()


# --- follow-up items ----------------------------------------------------------------------------


@transaction.atomic
def follow_up_update(
    *,
    user: Any,
    follow_up: FollowUp,
    status: str | None = None,
    note: str | None = None,
    owner_name: str | None = None,
    due_on: dt.date | None | object = ...,
) -> FollowUp:
    if status is not None:
        if status not in FollowUpStatus.values:
            raise ValidationError({"status": "状态无效"})
        closing = status in (FollowUpStatus.DONE, FollowUpStatus.CANCELLED)
        if closing and not follow_up.closed_on:
            follow_up.closed_on = today()
        if not closing:
            follow_up.closed_on = None
        follow_up.status = status
    if note is not None:
        follow_up.note = note.strip()[:300]
    if owner_name is not None:
        follow_up.owner_name = owner_name.strip()[:50]
    if due_on is not ...:
        if due_on is not None and due_on < follow_up.opened_on:
            raise ValidationError({"due_on": "完成时限不能早于提出日期"})
        follow_up.due_on = due_on
    follow_up.save()
    audit_log(
        event="follow_up_update",
        user=user,
        obj=follow_up,
        organization=follow_up.organization,
        detail={"status": follow_up.status},
    )
    return follow_up


@transaction.atomic
def follow_up_create(
    *,
    user: Any,
    organization: Organization,
    title: str,
    body_type: str,
    opened_on: dt.date,
    owner_name: str = "",
    due_on: dt.date | None = None,
) -> FollowUp:
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "请填写落实事项"
    if body_type not in MeetingType.values:
        errors["body_type"] = "会议类别无效"
    if due_on is not None and due_on < opened_on:
        errors["due_on"] = "完成时限不能早于提出日期"
    if errors:
        raise ValidationError(errors)
    follow_up = FollowUp.objects.create(
        organization=organization,
        body_type=body_type,
        title=title.strip()[:300],
        owner_name=owner_name.strip()[:50],
        due_on=due_on,
        opened_on=opened_on,
    )
    audit_log(event="follow_up_create", user=user, obj=follow_up, organization=organization, detail={})
    return follow_up


# --- 民主评议党员 ---------------------------------------------------------------------------------


@transaction.atomic
def appraisal_grades_set(*, user: Any, meeting: Meeting, grades: list[dict[str, Any]]) -> list[AppraisalEntry]:
    """Record the 民主评议 results of a meeting (replaces earlier ones).

    Every member on the roster that day may take part. 正式党员 get a grade; 预备党员 take part
    but are not graded (a grade for one is refused). At most 1/3 of the graded members are
    ``excellent``: excellent × 3 ≤ graded (so 1 of 3, 3 of 9, 3 of 10 pass; 2 of 5 fails).
    """
    if MeetingType.APPRAISAL not in meeting.acting_types:
        raise ValidationError({"meeting": "只有民主评议党员会议（或同时计为民主评议的会议）可以登记评议结果"})
    roster = {
        m.pk: m
        for m in (
            p.member
            for p in meeting_roster(
                organization=meeting.organization, on=meeting.held_on, meeting_type=MeetingType.APPRAISAL
            ).expected
        )
    }
    errors: list[str] = []
    entries: list[AppraisalEntry] = []
    seen: set[int] = set()
    for index, item in enumerate(grades, start=1):
        unknown = set(item) - {"member_id", "grade", "comment"}
        if unknown:
            errors.append(f"第 {index} 行：不支持的字段 {', '.join(sorted(unknown))}")
            continue
        member = roster.get(item.get("member_id"))
        if member is None:
            errors.append(f"第 {index} 行：该人员在 {_fmt(meeting.held_on)} 不是本组织党员")
            continue
        if member.pk in seen:
            errors.append(f"{member.name} 重复登记")
            continue
        seen.add(member.pk)
        grade = item.get("grade") or ""
        probationary = not member_is_full_on(member, meeting.held_on)
        if grade and grade not in AppraisalGrade.values:
            errors.append(f"{member.name}：评定等次无效")
            continue
        if probationary and grade:
            errors.append(f"{member.name} 是预备党员，参加评议但不评定等次")
            continue
        if not probationary and not grade:
            errors.append(f"{member.name}：请选择评定等次")
            continue
        entries.append(
            AppraisalEntry(
                meeting=meeting,
                member=member,
                grade=grade,
                is_probationary=probationary,
                comment=(item.get("comment") or "").strip()[:300],
            )
        )
    graded = [e for e in entries if e.grade]
    excellent = sum(1 for e in graded if e.grade == AppraisalGrade.EXCELLENT)
    if excellent * 3 > len(graded):
        limit = len(graded) // 3
        errors.append(
            f"优秀等次不能超过参加评定党员的三分之一：{len(graded)} 人中最多 {limit} 名优秀，现为 {excellent} 名"
        )
    if errors:
        raise ValidationError({"grades": errors})
    AppraisalEntry.objects.filter(meeting=meeting).delete()
    created = AppraisalEntry.objects.bulk_create(entries)
    audit_log(
        event="appraisal_grades_set",
        user=user,
        obj=meeting,
        organization=meeting.organization,
        detail={"graded": len(graded), "excellent": excellent, **dict(Counter(e.grade or "ungraded" for e in entries))},
    )
    return created


# --- 谈心谈话 ------------------------------------------------------------------------------------


@transaction.atomic
def talk_create(
    *,
    user: Any,
    organization: Organization,
    held_on: dt.date,
    initiator: Member,
    counterpart: Member,
    topic: str,
    place: str = "",
    note: str = "",
) -> Talk:
    errors: dict[str, str] = {}
    if held_on > today():
        errors["held_on"] = "谈话日期不能晚于今天"
    if initiator.pk == counterpart.pk:
        errors["counterpart"] = "谈话双方不能是同一人"
    if not topic.strip():
        errors["topic"] = "请填写谈话主题"
    if not errors:
        roster = meeting_roster(organization=organization, on=held_on, meeting_type=MeetingType.OTHER)
        committee = meeting_roster(organization=organization, on=held_on, meeting_type=MeetingType.COMMITTEE)
        allowed = {p.member_id for p in (*roster.expected, *committee.expected) if p.member_id}
        for field, person in (("initiator", initiator), ("counterpart", counterpart)):
            if person.pk not in allowed:
                errors[field] = f"{person.name} 在 {_fmt(held_on)} 不是本组织党员或委员"
    if errors:
        raise ValidationError(errors)
    talk = Talk.objects.create(
        organization=organization,
        held_on=held_on,
        initiator=initiator,
        counterpart=counterpart,
        topic=topic.strip()[:200],
        place=place.strip()[:100],
        note=note.strip(),
        created_by=user,
    )
    audit_log(event="talk_create", user=user, obj=talk, organization=organization, detail={"held_on": _fmt(held_on)})
    return talk


@transaction.atomic
def talk_delete(*, user: Any, talk: Talk) -> None:
    audit_log(event="talk_delete", user=user, obj=talk, organization=talk.organization, detail={})
    talk.delete()


# --- study records ------------------------------------------------------------------------------


def _may_record_study(user: Any, member: Member, source: str) -> bool:
    """The secretary (or above) records for the branch's members; a member records their own
    self-study."""
    if user_can(user, CHANGE, member):
        return True
    return source == StudySource.SELF_STUDY and get_scope(user).member_id == member.pk


@transaction.atomic
def study_record_create(
    *, user: Any, member: Member, source: str, studied_on: dt.date, hours: Decimal, title: str, organizer: str = ""
) -> StudyRecord:
    errors: dict[str, str] = {}
    if source not in (StudySource.TRAINING, StudySource.SELF_STUDY):
        errors["source"] = "只能登记培训班或自学，会议学时由会议记录自动计入"
    if studied_on > today():
        errors["studied_on"] = "学习日期不能晚于今天"
    if not (Decimal("0.5") <= hours <= Decimal("200")):
        errors["hours"] = "学时应在 0.5 至 200 之间"
    if not title.strip():
        errors["title"] = "请填写学习内容"
    if errors:
        raise ValidationError(errors)
    if not _may_record_study(user, member, source):
        raise ValidationError({"member": "只能为本人登记自学，或由书记为本支部党员登记"})
    record = StudyRecord.objects.create(
        member=member,
        organization_id=member.organization_id,
        source=source,
        studied_on=studied_on,
        hours=hours,
        title=title.strip()[:200],
        organizer=organizer.strip()[:100],
        entered_by=user,
    )
    audit_log(event="study_record_create", user=user, obj=record, organization=record.organization, detail={})
    return record


@transaction.atomic
def study_record_may_delete(user: Any, record: StudyRecord) -> bool:
    """The secretary (or above) for the branch's records; a member for their own self-study."""
    return _may_record_study(user, record.member, record.source)


def study_record_delete(*, user: Any, record: StudyRecord) -> None:
    if record.source == StudySource.MEETING:
        raise ValidationError({"source": "会议学时随会议记录自动计入，请修改会议的出席情况"})
    if not study_record_may_delete(user, record):
        raise ValidationError({"member": "无权删除该学习记录"})
    audit_log(event="study_record_delete", user=user, obj=record, organization=record.organization, detail={})
    record.delete()


def activity_settings_for(organization: Organization) -> ActivitySettings:
    settings_row = ActivitySettings.objects.filter(organization=organization).first()
    return settings_row or ActivitySettings(organization=organization)


@transaction.atomic
def activity_settings_update(
    *, user: Any, organization: Organization, study_points_enabled: bool, advisory_summary_enabled: bool
) -> ActivitySettings:
    row, _ = ActivitySettings.objects.get_or_create(organization=organization)
    row.study_points_enabled = study_points_enabled
    row.advisory_summary_enabled = advisory_summary_enabled
    row.save()
    audit_log(
        event="activity_settings_update",
        user=user,
        obj=row,
        organization=organization,
        detail={"study_points": study_points_enabled, "advisory_summary": advisory_summary_enabled},
    )
    return row


@transaction.atomic
def study_points_record(*, user: Any, member: Member, recorded_on: dt.date, points: int) -> StudyPoints:
    """学习强国 points as a dated number (one per member per date; re-entering replaces it)."""
    if not activity_settings_for(member.organization).study_points_enabled:
        raise ValidationError({"points": "本组织未启用学习强国积分记录"})
    if recorded_on > today():
        raise ValidationError({"recorded_on": "日期不能晚于今天"})
    if points < 0 or points > 1_000_000:
        raise ValidationError({"points": "积分应为 0 至 1000000 之间的整数"})
    if not (user_can(user, CHANGE, member) or get_scope(user).member_id == member.pk):
        raise ValidationError({"member": "只能为本人或本支部党员登记"})
    row, created = StudyPoints.objects.update_or_create(
        member=member,
        recorded_on=recorded_on,
        defaults={"points": points, "organization_id": member.organization_id, "entered_by": user},
    )
    audit_log(
        event="study_points_record",
        user=user,
        obj=row,
        organization=member.organization,
        detail={"member_id": member.pk, "recorded_on": f"{recorded_on:%Y-%m-%d}", "points": points, "new": created},
    )
    return row


def member_visible(user: Any, member_id: Any) -> Member | None:
    """A member record through the gate (None when not visible)."""
    try:
        return Member.objects.visible_to(user, VIEW).select_related("organization").get(pk=member_id)
    except (Member.DoesNotExist, ValueError, TypeError):
        return None
