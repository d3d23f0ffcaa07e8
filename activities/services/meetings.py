"""Recording a meeting: header, attendance and resolutions saved in one step, with the counts,
the compliance credits and the study hours derived from them; deleting one.

Services are keyword-only, validate everything first, raise ``ValidationError`` with Chinese
messages keyed by field, and write nothing when they refuse. Every create/update/delete of a
meeting is written to the audit log in the same transaction. The rules for quorum and votes are
in ``meeting_rules``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from activities.choices import (
    STUDY_TYPES,
    AttendanceStatus,
    FollowUpStatus,
    MeetingStatus,
    MeetingType,
    ResolutionOutcome,
    StudySource,
)
from activities.models import Attendance, FollowUp, Meeting, MeetingCredit, Resolution, StudyRecord
from activities.selectors import COMMITTEE_MIN_SIZE, lecturer_candidates_on, meeting_roster
from activities.services._common import fmt_day
from activities.services.inputs import AttendanceInput, MeetingInput, ResolutionInput
from activities.services.meeting_rules import (
    Counts,
    FollowUpPlan,
    build_attendance,
    build_resolutions,
    check_header,
    quorum_state,
    resolve_person,
    study_hours_earned,
)
from audit.services import audit_log
from core.access import CHANGE, get_scope, user_can
from organizations.models import Organization

RESOLUTION_UPDATE_FIELDS = [
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
]


def _now() -> dt.datetime:
    """The current time (a seam for tests that travel in time, like ``core.dates.today``)."""
    return timezone.now()


def meeting_save(
    *,
    user: Any,
    organization: Organization,
    data: MeetingInput,
    attendance: Sequence[AttendanceInput],
    resolutions: Sequence[ResolutionInput],
    meeting: Meeting | None = None,
    finish: bool = False,
) -> Meeting:
    """Create or update a meeting with its attendance and resolutions in one step.

    ``finish`` turns a draft into a finished record (it then counts for compliance and study
    hours); a finished meeting stays finished when edited. Attendance is replaced as a whole;
    resolutions are matched by ``id`` so their follow-up items keep their status. The user must
    record for ``organization`` (its secretary, or an org_admin above). Everything is checked
    before the first write; the writes and the audit event are one transaction (or part of the
    caller's).
    """
    if not get_scope(user).may_record_for(organization):
        raise PermissionDenied("无权为该组织登记会议")
    return _save(
        user=user,
        organization=organization,
        data=data,
        attendance=attendance,
        resolutions=resolutions,
        meeting=meeting,
        finish=finish,
    )


def meeting_save_system(
    *,
    organization: Organization,
    data: MeetingInput,
    attendance: Sequence[AttendanceInput],
    resolutions: Sequence[ResolutionInput],
    meeting: Meeting | None = None,
    finish: bool = False,
) -> Meeting:
    """System: ``meeting_save`` with no acting user (the demo seed). Trusts its caller: nothing is
    authorized here, and the record, its rows and its audit event name no user."""
    return _save(
        user=None,
        organization=organization,
        data=data,
        attendance=attendance,
        resolutions=resolutions,
        meeting=meeting,
        finish=finish,
    )


def _save(
    *,
    user: Any,
    organization: Organization,
    data: MeetingInput,
    attendance: Sequence[AttendanceInput],
    resolutions: Sequence[ResolutionInput],
    meeting: Meeting | None,
    finish: bool,
) -> Meeting:
    if meeting is not None and meeting.organization_id != organization.pk:
        raise ValidationError({"organization": "不能把会议移到其他组织"})
    finish = finish or (meeting is not None and meeting.is_final)
    also = check_header(organization=organization, data=data, finish=finish)
    meeting_type: str = data.meeting_type
    held_on: dt.date = data.held_on  # type: ignore[assignment]  # checked by check_header
    is_center_group = bool(data.is_center_group)
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
                "meeting_type": f"{organization} 在 {fmt_day(held_on)} 未设委员会（在任委员 {roster.committee_size} 名，"
                f"不足 {COMMITTEE_MIN_SIZE} 名），不能召开委员会会议"
            }
        )
    rows, counts, att_errors = build_attendance(
        roster=roster, items=attendance, held_on=held_on, finish=finish, user=user
    )
    if att_errors:
        errors["attendance"] = att_errors
    quorum = quorum_state(meeting_type=meeting_type, acting=acting, counts=counts)
    existing = {r.pk: r for r in meeting.resolutions.all()} if meeting is not None else {}
    built, res_errors = build_resolutions(
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
    chair, chair_name = resolve_person(data=data, field="chair", allowed=allowed, errors=errors, label="主持人")
    recorder, recorder_name = resolve_person(
        data=data, field="recorder", allowed=allowed, errors=errors, label="记录人"
    )
    if data.lecturer_id and data.lecturer_id not in allowed:
        for position in lecturer_candidates_on(organization=organization, on=held_on):
            allowed[position.member.pk] = position.member
    lecturer, lecturer_name = resolve_person(
        data=data, field="lecturer", allowed=allowed, errors=errors, label="授课人"
    )
    hours = study_hours_earned(data, acting, is_center_group)
    if finish and hours is None and (acting & STUDY_TYPES or is_center_group):
        errors.setdefault("study_hours", []).append("请填写计入学时，或填写开始和结束时间以自动计算")
    if errors:
        raise ValidationError(errors)
    # Checked: from here on only writes, which nothing catches halfway. Inside a caller's
    # transaction (the API's idempotency claim, a page's version claim) they need no savepoint of
    # their own: a failure rolls the caller's transaction back with them (#20.3).
    with transaction.atomic(savepoint=False):
        return _write(
            user=user,
            organization=organization,
            data=data,
            meeting=meeting,
            finish=finish,
            also=also,
            rows=rows,
            counts=counts,
            quorum=quorum,
            built=built,
            existing=existing,
            people=(chair, chair_name, recorder, recorder_name, lecturer, lecturer_name),
            hours=hours,
        )


def _write(
    *,
    user: Any,
    organization: Organization,
    data: MeetingInput,
    meeting: Meeting | None,
    finish: bool,
    also: list[str],
    rows: list[Attendance],
    counts: Counts,
    quorum: str,
    built: list[tuple[Resolution, FollowUpPlan]],
    existing: dict[int, Resolution],
    people: tuple[Any, str, Any, str, Any, str],
    hours: Decimal | None,
) -> Meeting:
    meeting_type: str = data.meeting_type
    held_on: dt.date = data.held_on  # type: ignore[assignment]  # checked by check_header
    chair, chair_name, recorder, recorder_name, lecturer, lecturer_name = people
    creating = meeting is None
    meeting = meeting or Meeting(organization=organization, created_by=user)
    for name in MeetingInput.TEXTS:
        setattr(meeting, name, (getattr(data, name) or "").strip())
    meeting.meeting_type = meeting_type
    meeting.also_counts_as = sorted(also)
    meeting.held_on = held_on
    meeting.start_time = data.start_time
    meeting.end_time = data.end_time
    meeting.chair, meeting.chair_name = chair, chair_name
    meeting.recorder, meeting.recorder_name = recorder, recorder_name
    meeting.lecturer, meeting.lecturer_name = lecturer, lecturer_name
    meeting.is_center_group = bool(data.is_center_group)
    meeting.study_hours = data.study_hours
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
            "held_on": fmt_day(held_on),
            "status": meeting.status,
            "expected": counts.expected,
            "present": counts.present,
            "resolutions": len(built),
            "quorum": quorum,
        },
    )
    return meeting


def _save_resolutions(
    *, meeting: Meeting, built: list[tuple[Resolution, FollowUpPlan]], existing: dict[int, Resolution], creating: bool
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
        Resolution.objects.bulk_update(old, RESOLUTION_UPDATE_FIELDS)
    meeting.saved_resolutions = [r for r, _ in built]
    # Follow-up items for resolutions that need action.
    current = {} if creating else {f.resolution_id: f for f in FollowUp.objects.filter(resolution__meeting=meeting)}
    body = MeetingType.GENERAL_ASSEMBLY if meeting.acts_as_general_assembly else meeting.meeting_type
    to_create, to_update, to_delete = [], [], []
    for resolution, plan in built:
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
                        owner=plan.owner,
                        owner_name=plan.owner_name,
                        due_on=plan.due_on,
                        opened_on=meeting.held_on,
                    )
                )
            else:
                follow_up.title = resolution.title
                follow_up.owner = plan.owner
                follow_up.owner_name = plan.owner_name
                follow_up.due_on = plan.due_on
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
            for kind in sorted(meeting.credited_types)
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
    """Delete a meeting with its attendance, resolutions, credits, study hours and files. The user
    must be allowed to change the meeting."""
    from activities.attachments import attachment_files_delete_on_commit

    if not user_can(user, CHANGE, meeting):
        raise PermissionDenied("无权删除该会议记录")
    attachment_files_delete_on_commit(list(meeting.attachments.all()))
    audit_log(
        event="meeting_delete",
        user=user,
        obj=meeting,
        organization=meeting.organization,
        detail={"meeting_type": meeting.meeting_type, "held_on": fmt_day(meeting.held_on), "title": meeting.title},
    )
    meeting.delete()
