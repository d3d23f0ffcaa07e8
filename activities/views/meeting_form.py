"""The meeting form: header, attendance per person on the roster of the day, and resolutions, saved
in one step (new and edit)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render

from activities.choices import (
    ALSO_COUNTS_AS,
    STUDY_TYPES,
    WRITTEN_VOTE_KINDS,
    AttendanceStatus,
    MeetingType,
    ResolutionKind,
    VotingMethod,
)
from activities.forms import MeetingHeaderForm, parse_attendance, parse_resolutions
from activities.models import Meeting, PlanItem
from activities.selectors import (
    MeetingRoster,
    follow_ups_for_meeting,
    lecturer_candidates_on,
    meeting_roster,
    open_follow_ups,
)
from activities.services.meetings import meeting_save
from activities.views._common import attach_errors, meeting_for, organization_for
from core.access import CHANGE, VIEW
from core.dates import today
from core.numbers import as_id, is_number
from core.versioning import VersionConflict, changed_fields, form_version, page_conflict, page_edit
from members.models import Member
from organizations.choices import OrgType
from organizations.models import Organization

# Header fields shown side by side when somebody saved the meeting after this form was loaded.
CONFLICT_FIELDS = ("meeting_type", "held_on", "start_time", "end_time", "title", "place")


@login_required
def meeting_new(request: HttpRequest, pk: int) -> HttpResponse:
    org = organization_for(request, pk, CHANGE)
    return _meeting_form(request, org, None)


@login_required
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_for(request, pk, CHANGE)
    return _meeting_form(request, meeting.organization, meeting)


def _meeting_form(request: HttpRequest, org: Organization, meeting: Meeting | None) -> HttpResponse:
    if request.method != "POST":
        if meeting is not None:
            typed, guests, resolutions = _typed_from_meeting(meeting)
            form = MeetingHeaderForm(initial=MeetingHeaderForm.initial_from(meeting))
            params = (meeting.meeting_type, meeting.held_on, meeting.is_center_group)
            return _render_form(
                request,
                org=org,
                meeting=meeting,
                form=form,
                roster_params=params,
                typed=typed,
                guests=guests,
                resolutions=[*resolutions, _blank_resolution()],
                default_status="",
            )
        meeting_type = request.GET.get("type", MeetingType.GENERAL_ASSEMBLY)
        if meeting_type not in MeetingType.values or meeting_type == MeetingType.TALK:
            meeting_type = MeetingType.GROUP if org.org_type == OrgType.GROUP else MeetingType.GENERAL_ASSEMBLY
        try:
            held_on = dt.date.fromisoformat(request.GET["date"]) if request.GET.get("date") else today()
        except ValueError:
            held_on = today()
        plan_item = _plan_item(request, org)
        initial = {"meeting_type": meeting_type, "held_on": held_on}
        if plan_item is not None:
            initial.update(
                meeting_type=plan_item.meeting_type,
                held_on=plan_item.planned_on,
                start_time=plan_item.start_time,
                title=plan_item.title,
                place=plan_item.place,
            )
            meeting_type, held_on = plan_item.meeting_type, plan_item.planned_on
        form = MeetingHeaderForm(initial=initial)
        return _render_form(
            request,
            org=org,
            meeting=None,
            form=form,
            roster_params=(meeting_type, held_on, False),
            typed={},
            guests="",
            resolutions=[_blank_resolution()],
        )

    post = request.POST
    form = MeetingHeaderForm(post)
    rendered = _roster_params_from_post(post)
    if rendered is None:
        return HttpResponseBadRequest("表单已过期，请重新打开")
    keys = [
        p.key
        for p in meeting_roster(
            organization=org, on=rendered[1], meeting_type=rendered[0], is_center_group=rendered[2]
        ).expected
    ]
    other_keys = [
        p.key
        for p in meeting_roster(
            organization=org, on=rendered[1], meeting_type=rendered[0], is_center_group=rendered[2]
        ).others
    ]
    attendance, typed = parse_attendance(post, keys, other_keys)
    resolutions, typed_res, format_errors = parse_resolutions(post)
    guests = post.get("guests", "")
    if not form.is_valid():
        return _render_form(
            request,
            org=org,
            meeting=meeting,
            form=form,
            roster_params=rendered,
            typed=typed,
            guests=guests,
            resolutions=typed_res or [_blank_resolution()],
            errors={"resolutions": format_errors},
            status=400,
        )
    header = form.to_input()
    wanted = (header.meeting_type, header.held_on, bool(header.is_center_group))
    if wanted != rendered or "refresh" in post:
        messages.info(request, "已按所选类型和日期更新出席名单，请核对后再保存")
        return _render_form(
            request,
            org=org,
            meeting=meeting,
            form=form,
            roster_params=wanted,
            typed=typed,
            guests=guests,
            resolutions=typed_res or [_blank_resolution()],
        )
    if "add_resolution" in post:
        return _render_form(
            request,
            org=org,
            meeting=meeting,
            form=form,
            roster_params=rendered,
            typed=typed,
            guests=guests,
            resolutions=[*typed_res, _blank_resolution()],
        )
    if format_errors:
        return _render_form(
            request,
            org=org,
            meeting=meeting,
            form=form,
            roster_params=rendered,
            typed=typed,
            guests=guests,
            resolutions=typed_res,
            errors={"resolutions": format_errors},
            status=400,
        )
    finish = "finish" in post
    try:
        with page_edit(request, meeting):  # #17.3: a stale copy never overwrites
            saved = meeting_save(
                user=request.user,
                organization=org,
                data=header,
                attendance=attendance,
                resolutions=resolutions,
                meeting=meeting,
                finish=finish,
            )
    except VersionConflict:
        current = Meeting.objects.get(pk=meeting.pk)
        return _render_form(
            request,
            org=org,
            meeting=current,
            form=form,
            roster_params=rendered,
            typed=typed,
            guests=guests,
            resolutions=typed_res or [_blank_resolution()],
            conflict=page_conflict(
                current,
                changed_fields(
                    current, form.cleaned_data, [(name, form.fields[name].label) for name in CONFLICT_FIELDS]
                ),
                note="基本信息相同；出席、请假或决议可能已被修改，请打开当前记录核对。",
            ),
            status=409,
        )
    except ValidationError as exc:
        errors = {k: v for k, v in exc.message_dict.items() if k in ("attendance", "resolutions")}
        other = {k: v for k, v in exc.message_dict.items() if k not in errors}
        loose = attach_errors(form, ValidationError(other)) if other else []
        if loose:
            errors["general"] = loose
        return _render_form(
            request,
            org=org,
            meeting=meeting,
            form=form,
            roster_params=rendered,
            typed=typed,
            guests=guests,
            resolutions=typed_res or [_blank_resolution()],
            errors=errors,
            status=400,
        )
    plan_item = _plan_item(request, org)
    if plan_item is not None and meeting is None:
        PlanItem.objects.filter(pk=plan_item.pk).update(meeting=saved)
    if saved.is_final:
        messages.success(
            request, f"已完成录入：{saved.type_label}（应到 {saved.expected_count}，实到 {saved.present_count}）"
        )
    else:
        messages.success(request, "草稿已保存，可稍后继续填写")
    if saved.quorum_not_met:
        messages.warning(request, "本次会议未达到法定人数，记录已保存并标注，会上表决无效")
    return redirect("activities:meeting", pk=saved.pk)


def _plan_item(request: HttpRequest, org: Organization) -> PlanItem | None:
    raw = request.GET.get("plan_item", "")
    if not is_number(raw):
        return None
    return PlanItem.objects.visible_to(request.user, VIEW).filter(pk=as_id(raw), plan__organization=org).first()


def _render_form(
    request: HttpRequest,
    *,
    org: Organization,
    meeting: Meeting | None,
    form: MeetingHeaderForm,
    roster_params: tuple[str, dt.date, bool],
    typed: dict[str, dict],
    guests: str,
    resolutions: list[dict],
    errors: dict[str, list[str]] | None = None,
    default_status: str = AttendanceStatus.PRESENT,
    status: int = 200,
    conflict: dict[str, Any] | None = None,
) -> HttpResponse:
    meeting_type, held_on, is_center_group = roster_params
    roster = meeting_roster(organization=org, on=held_on, meeting_type=meeting_type, is_center_group=is_center_group)
    expected, others = _roster_rows(roster, meeting_type=meeting_type, typed=typed, default=default_status)
    people = [(p.member.pk, p.name) for p in (*roster.expected, *roster.others) if p.member is not None]
    lecturers = list(people)
    if meeting_type in (MeetingType.LECTURE, MeetingType.THEME_DAY, MeetingType.STUDY):
        known = {pk for pk, _ in people}
        for position in lecturer_candidates_on(organization=org, on=held_on):
            if position.member_id not in known:
                lecturers.append(
                    (
                        position.member_id,
                        f"{position.person_name}（{position.term.organization}{position.get_position_display()}）",
                    )
                )
                known.add(position.member_id)
    subjects = list(
        Member.objects.filter(organization__path__startswith=org.path, stage__in=["candidate", "probationary"])
        .order_by("name")
        .values_list("pk", "name")[:200]
    )
    if meeting is not None:
        follow_ups = follow_ups_for_meeting(meeting=meeting)
    else:
        bodies = {meeting_type, *(form.data.getlist("also_counts_as") if form.is_bound else [])}
        follow_ups = open_follow_ups(organization=org, bodies=bodies)
    voters = sum(1 for p in roster.expected if p.is_voter)
    context = {
        "org": org,
        "meeting": meeting,
        "form": form,
        "roster_params": {"type": meeting_type, "date": held_on.isoformat(), "cg": "1" if is_center_group else ""},
        "expected": expected,
        "others": others,
        "committee_size": roster.committee_size,
        "voters_expected": voters,
        "voters_present": sum(
            1
            for row in expected
            if (row["voter"] or meeting_type == MeetingType.COMMITTEE) and row["status"] == AttendanceStatus.PRESENT
        ),
        "guests": guests,
        "resolutions": resolutions,
        "people": people,
        "lecturers": lecturers,
        "subjects": subjects,
        "errors": errors or {},
        "follow_ups": follow_ups,
        "kinds": ResolutionKind.choices,
        "methods": VotingMethod.choices,
        "written_kinds": sorted(WRITTEN_VOTE_KINDS),
        "also_allowed": ALSO_COUNTS_AS.get(meeting_type, ()),
        "is_study": meeting_type in STUDY_TYPES or meeting_type == MeetingType.THEME_DAY or is_center_group,
        "is_committee_org": org.org_type in (OrgType.COMMITTEE, OrgType.GENERAL_BRANCH),
        "statuses": [
            (AttendanceStatus.PRESENT, "出席"),
            (AttendanceStatus.LEAVE, "请假"),
            (AttendanceStatus.ABSENT, "缺席"),
        ],
        "type_label": MeetingType(meeting_type).label,
        # The version this form edits: the one first loaded, kept across re-renders; after a
        # conflict the current one (saving again then overwrites knowingly).
        "row_version": form_version(request, meeting, conflict),
        "conflict": conflict,
    }
    return render(request, "activities/meeting_form.html", context, status=status)


def _roster_rows(
    roster: MeetingRoster, *, meeting_type: str, typed: dict[str, dict], default: str
) -> tuple[list[dict], list[dict]]:
    expected, others = [], []
    voting = meeting_type in (MeetingType.GENERAL_ASSEMBLY,)
    for person in roster.expected:
        t = typed.get(person.key, {})
        tags = list(person.roles)
        if person.member is not None and not person.is_voter and meeting_type != MeetingType.COMMITTEE:
            tags.append("预备党员" if person.member.stage == "probationary" else "无表决权")
        expected.append(
            {
                "key": person.key,
                "name": person.name,
                "tags": tags,
                "status": t.get("status", default) if t else default,
                "reason": t.get("reason", ""),
                "speaker": t.get("speaker", False),
                "voter": person.is_voter and voting,
            }
        )
    for person in roster.others:
        t = typed.get(person.key, {})
        others.append(
            {
                "key": person.key,
                "name": person.name,
                "checked": bool(t.get("status")),
                "speaker": t.get("speaker", False),
            }
        )
    return expected, others


def _typed_from_meeting(meeting: Meeting) -> tuple[dict[str, dict], str, list[dict]]:
    typed: dict[str, dict] = {}
    guests = []
    for row in meeting.attendance.all():
        if row.is_guest:
            guests.append(row.name)
            continue
        key = f"m{row.member_id}" if row.member_id else f"p{row.position_id}"
        typed[key] = {"status": row.status, "reason": row.reason, "speaker": row.is_speaker}
    resolutions = []
    for r in meeting.resolutions.all():
        follow_up = getattr(r, "follow_up", None)
        resolutions.append(
            {
                "id": r.pk,
                "title": r.title,
                "kind": r.kind,
                "voting_method": r.voting_method,
                "votes_for": r.votes_for,
                "votes_against": r.votes_against,
                "votes_abstain": r.votes_abstain,
                "written_for": r.written_for or "",
                "written_against": r.written_against or "",
                "written_abstain": r.written_abstain or "",
                "subject_member_id": r.subject_member_id or "",
                "action_required": r.action_required,
                "follow_up_owner_id": (follow_up.owner_id or "") if follow_up else "",
                "follow_up_owner_name": follow_up.owner_name if follow_up else "",
                "follow_up_due_on": follow_up.due_on.isoformat() if follow_up and follow_up.due_on else "",
                "note": r.note,
            }
        )
    return typed, "\n".join(guests), resolutions


def _blank_resolution() -> dict[str, Any]:
    return {
        "title": "",
        "kind": ResolutionKind.GENERAL,
        "voting_method": VotingMethod.SHOW_OF_HANDS,
        "action_required": False,
    }


def _roster_params_from_post(post: Any) -> tuple[str, dt.date, bool] | None:
    meeting_type = post.get("roster_type", "")
    try:
        held_on = dt.date.fromisoformat(post.get("roster_date", ""))
    except ValueError:
        return None
    if meeting_type not in MeetingType.values:
        return None
    return meeting_type, held_on, bool(post.get("roster_cg"))
