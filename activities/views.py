"""Pages for organizational life. Views are thin: parse input, call selectors/services, render.
Every object is fetched through the access gate; foreign objects are 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from activities.api.views import attachment_response
from activities.attachments import attachment_add, attachment_delete
from activities.calendar import (
    calendar_entries,
    calendar_feed_create,
    calendar_feed_revoke,
    calendar_feed_user,
    feed_window,
    ical_render,
    plan_save,
)
from activities.choices import (
    ALSO_COUNTS_AS,
    STUDY_TYPES,
    WRITTEN_VOTE_KINDS,
    AttendanceStatus,
    MeetingType,
    ResolutionKind,
    StudySource,
    VotingMethod,
)
from activities.compliance import (
    compliance_items,
    compliance_rollup,
    grace_days,
    quarter_bounds,
    user_is_org_admin_over,
    year_grid,
)
from activities.forms import (
    ActivitySettingsForm,
    AppraisalForm,
    AttachmentForm,
    FollowUpStatusForm,
    MeetingFilterForm,
    MeetingHeaderForm,
    PlanItemFormSet,
    RuleChangeForm,
    StudyPointsForm,
    StudyRecordForm,
    TalkForm,
    WaiverForm,
    parse_attendance,
    parse_resolutions,
)
from activities.models import (
    AppraisalEntry,
    Attachment,
    Attendance,
    CalendarFeed,
    ComplianceRule,
    FollowUp,
    Meeting,
    Plan,
    PlanItem,
    Resolution,
    StudyPoints,
    StudyRecord,
    Talk,
)
from activities.selectors import (
    MeetingRoster,
    advisory_summary,
    branch_study_progress,
    committee_study_report,
    follow_up_list,
    follow_ups_for_meeting,
    lecturer_candidates_on,
    managed_organizations,
    meeting_list,
    meeting_roster,
    open_follow_ups,
    talk_coverage,
)
from activities.services.appraisal import appraisal_grades_set
from activities.services.compliance import compliance_rule_change, compliance_waive
from activities.services.follow_ups import follow_up_update as follow_up_update_service
from activities.services.meetings import meeting_delete as meeting_delete_service
from activities.services.meetings import meeting_save
from activities.services.study import (
    activity_settings_for,
    activity_settings_update,
    study_points_record,
    study_record_create,
    study_record_delete,
    study_record_may_delete,
)
from activities.services.talks import talk_create
from core.access import CHANGE, VIEW, get_for_user, get_scope, user_can
from core.dates import today
from core.numbers import as_id, is_number
from members.models import Member
from members.selectors import member_is_full_on
from organizations.choices import BRANCH_TYPES, OrgType
from organizations.models import Organization

PAGE_SIZE = 30


def _org(request: HttpRequest, pk: int, action: str = VIEW) -> Organization:
    """An organization whose organizational-life data the user may read (a member's own branch
    is visible to them as an organization, but its meetings are not: 404)."""
    org = get_for_user(Organization, request.user, action, pk=pk)
    if not user_can(request.user, VIEW, org, for_org_model=False):
        raise Http404("对象不存在或无权访问")
    return org


def _attach_errors(form: Any, exc: ValidationError) -> list[str]:
    """Put a service's field errors on the form; return the ones that belong to no field."""
    loose: list[str] = []
    for field, errors in exc.message_dict.items():
        name = field.removesuffix("_id") if field.endswith("_id") else field
        if form is not None and name in form.fields:
            for error in errors:
                form.add_error(name, error)
        else:
            loose.extend(errors)
    return loose


def _int_param(value: str | None, field: str, lo: int, hi: int) -> int | None:
    if value in (None, ""):
        return None
    if not is_number(value) or not lo <= int(value) <= hi:
        raise ValidationError({field: "参数无效"})
    return int(value)


# --- index ---------------------------------------------------------------------------------------


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """组织生活: the organizations the user records for, with this year's compliance at a glance."""
    orgs = managed_organizations(user=request.user)
    scope = get_scope(request.user)
    if not orgs and scope.member_id:
        return redirect("activities:my_study")
    if not orgs:
        raise Http404("没有可查看的组织")
    on = today()
    year = on.year
    rows = []
    for org in orgs[:20]:
        items = compliance_items(organization=org, year=year)
        current = [i for i in items if i.period_start <= on <= i.deadline]
        overdue = sum(1 for i in items if i.status == "overdue")
        rows.append((org, current, overdue, user_can(request.user, CHANGE, org)))
    return render(request, "activities/index.html", {"rows": rows, "year": year})


@login_required
def compliance_home(request: HttpRequest) -> HttpResponse:
    orgs = managed_organizations(user=request.user)
    if not orgs:
        raise Http404("没有可查看的组织")
    org = orgs[0]
    if org.org_type in BRANCH_TYPES or org.org_type == OrgType.GROUP:
        return redirect("activities:compliance", pk=org.pk)
    return redirect("activities:rollup", pk=org.pk)


# --- meetings ------------------------------------------------------------------------------------


@login_required
def meetings(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request, pk)
    form = MeetingFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("查询参数无效")
    data = form.cleaned_data
    qs = meeting_list(
        user=request.user,
        organization=org,
        meeting_type=data["meeting_type"],
        year=data["year"],
        status=data["status"],
    )
    page = Paginator(qs, PAGE_SIZE).get_page(data["page"] or 1)
    return render(
        request,
        "activities/meeting_list.html",
        {"org": org, "form": form, "page": page, "can_change": user_can(request.user, CHANGE, org)},
    )


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
    }
    return render(request, "activities/meeting_form.html", context, status=status)


def _roster_params_from_post(post: Any) -> tuple[str, dt.date, bool] | None:
    meeting_type = post.get("roster_type", "")
    try:
        held_on = dt.date.fromisoformat(post.get("roster_date", ""))
    except ValueError:
        return None
    if meeting_type not in MeetingType.values:
        return None
    return meeting_type, held_on, bool(post.get("roster_cg"))


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
        saved = meeting_save(
            user=request.user,
            organization=org,
            data=header,
            attendance=attendance,
            resolutions=resolutions,
            meeting=meeting,
            finish=finish,
        )
    except ValidationError as exc:
        errors = {k: v for k, v in exc.message_dict.items() if k in ("attendance", "resolutions")}
        other = {k: v for k, v in exc.message_dict.items() if k not in errors}
        loose = _attach_errors(form, ValidationError(other)) if other else []
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


@login_required
def meeting_new(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request, pk, CHANGE)
    return _meeting_form(request, org, None)


def _meeting(request: HttpRequest, pk: int, action: str = VIEW) -> Meeting:
    qs = Meeting.objects.select_related("organization", "chair", "recorder", "lecturer").prefetch_related(
        Prefetch("attendance", queryset=Attendance.objects.order_by("-is_expected", "is_guest", "name", "pk")),
        Prefetch("resolutions", queryset=Resolution.objects.select_related("follow_up", "subject_member")),
        "attachments",
    )
    return get_for_user(qs, request.user, action, pk=pk)


@login_required
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk, CHANGE)
    return _meeting_form(request, meeting.organization, meeting)


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    attendance = list(meeting.attendance.all())
    groups = {
        "present": [a for a in attendance if a.status == AttendanceStatus.PRESENT],
        "leave": [a for a in attendance if a.status == AttendanceStatus.LEAVE],
        "absent": [a for a in attendance if a.status == AttendanceStatus.ABSENT],
        "nonvoting": [a for a in attendance if a.status == AttendanceStatus.ATTENDING_NONVOTING],
    }
    appraisal = []
    if MeetingType.APPRAISAL in meeting.acting_types:
        appraisal = list(
            AppraisalEntry.objects.filter(meeting=meeting).select_related("member").order_by("member__name")
        )
    return render(
        request,
        "activities/meeting_detail.html",
        {
            "meeting": meeting,
            "org": meeting.organization,
            "groups": groups,
            "speakers": [a for a in attendance if a.is_speaker],
            "follow_ups": follow_ups_for_meeting(meeting=meeting),
            "can_change": user_can(request.user, CHANGE, meeting),
            "upload_form": AttachmentForm(),
            "appraisal": appraisal,
            "max_mb": settings.PB_ATTACHMENT_MAX_BYTES // (1024 * 1024),
        },
    )


@login_required
def meeting_delete(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk, CHANGE)
    if request.method == "POST":
        org_pk = meeting.organization_id
        meeting_delete_service(user=request.user, meeting=meeting)
        messages.success(request, "会议记录已删除")
        return redirect("activities:meetings", pk=org_pk)
    return render(request, "activities/meeting_delete.html", {"meeting": meeting, "org": meeting.organization})


@login_required
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk, CHANGE)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            attachment_add(
                user=request.user,
                meeting=meeting,
                name=upload.name or "",
                content=upload.read(settings.PB_ATTACHMENT_MAX_BYTES + 1),
                kind=form.cleaned_data["kind"],
            )
        except ValidationError as exc:
            for errors in exc.message_dict.values():
                for error in errors:
                    messages.error(request, f"上传失败：{error}")
        else:
            messages.success(request, "附件已上传")
    else:
        messages.error(request, "请选择要上传的文件")
    return redirect(reverse("activities:meeting", args=[meeting.pk]) + "#attachments")


@login_required
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = get_for_user(Attachment, request.user, VIEW, pk=pk)
    return attachment_response(attachment)


@login_required
@require_POST
def attachment_remove(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = get_for_user(Attachment, request.user, CHANGE, pk=pk)
    meeting_pk = attachment.meeting_id
    attachment_delete(user=request.user, attachment=attachment)
    messages.success(request, "附件已删除")
    return redirect(reverse("activities:meeting", args=[meeting_pk]) + "#attachments")


@login_required
def appraisal(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk, CHANGE)
    if MeetingType.APPRAISAL not in meeting.acting_types:
        raise Http404("该会议不是民主评议党员会议")
    roster = [
        p.member
        for p in meeting_roster(
            organization=meeting.organization, on=meeting.held_on, meeting_type=MeetingType.APPRAISAL
        ).expected
    ]
    members = [(m, not member_is_full_on(m, meeting.held_on)) for m in roster]
    existing = {e.member_id: e.grade for e in AppraisalEntry.objects.filter(meeting=meeting)}
    initial = {f"grade-{pk_}": grade for pk_, grade in existing.items()}
    form = AppraisalForm(request.POST or None, members=members, initial=initial)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        grades = [
            {"member_id": m.pk, "grade": "" if prob else form.cleaned_data.get(f"grade-{m.pk}", "")}
            for m, prob in members
        ]
        try:
            appraisal_grades_set(user=request.user, meeting=meeting, grades=grades)
        except ValidationError as exc:
            errors = [e for v in exc.message_dict.values() for e in v]
        else:
            messages.success(request, "民主评议结果已保存")
            return redirect("activities:meeting", pk=meeting.pk)
    graded = sum(1 for _, prob in members if not prob)
    return render(
        request,
        "activities/appraisal.html",
        {
            "meeting": meeting,
            "org": meeting.organization,
            "form": form,
            "errors": errors,
            "limit": graded // 3,
            "graded": graded,
        },
        status=400 if errors else 200,
    )


# --- follow-ups ----------------------------------------------------------------------------------


@login_required
def follow_ups(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request, pk)
    status = request.GET.get("status", "open")
    if status not in ("open", "done", "cancelled", "in_progress", "all"):
        return HttpResponseBadRequest("参数无效")
    qs = follow_up_list(user=request.user, organization=org, status="" if status == "all" else status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page") or 1)
    return render(
        request,
        "activities/follow_ups.html",
        {
            "org": org,
            "page": page,
            "status": status,
            "can_change": user_can(request.user, CHANGE, org),
            "form": FollowUpStatusForm(),
        },
    )


@login_required
@require_POST
def follow_up_update(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = get_for_user(FollowUp.objects.select_related("organization"), request.user, CHANGE, pk=pk)
    form = FollowUpStatusForm(request.POST)
    if form.is_valid():
        follow_up_update_service(
            user=request.user,
            follow_up=follow_up,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"] or None,
        )
        messages.success(request, "落实情况已更新")
    else:
        messages.error(request, "状态无效")
    back = request.POST.get("next", "")
    if back.startswith("/activities/"):
        return redirect(back)
    return redirect("activities:follow_ups", pk=follow_up.organization_id)


# --- compliance ----------------------------------------------------------------------------------


def _year(request: HttpRequest) -> tuple[int, int | None]:
    try:
        year = _int_param(request.GET.get("year"), "year", 2000, 2100) or today().year
        quarter = _int_param(request.GET.get("quarter"), "quarter", 1, 4)
    except ValidationError as exc:
        raise Http404("参数无效") from exc
    return year, quarter


@login_required
def compliance(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request, pk)
    year, _ = _year(request)
    items = compliance_items(organization=org, year=year)
    parent = Organization.objects.parent_of(org)
    can_waive = parent is not None and user_is_org_admin_over(request.user, parent)
    on = today()
    current = [i for i in items if i.period_start <= on <= i.deadline]
    overdue = [i for i in items if i.status == "overdue"]
    return render(
        request,
        "activities/compliance.html",
        {
            "org": org,
            "year": year,
            "grid": year_grid(items),
            "months": range(1, 13),
            "current": current,
            "overdue": overdue,
            "can_waive": can_waive,
            "is_branch": org.org_type in BRANCH_TYPES or org.org_type == OrgType.GROUP,
            "can_change": user_can(request.user, CHANGE, org),
            "today": today(),
            "grace": grace_days(),
        },
    )


@login_required
def rollup(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request, pk)
    year, quarter = _year(request)
    result = compliance_rollup(organization=org, year=year, quarter=quarter)
    return render(
        request,
        "activities/rollup.html",
        {
            "org": org,
            "year": year,
            "quarter": quarter,
            "rollup": result,
            "overdue": result.overdue_items[:50],
            "quarters": [1, 2, 3, 4],
        },
    )


@login_required
def waive(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request, pk)
    parent = Organization.objects.parent_of(org)
    if parent is None or not user_is_org_admin_over(request.user, parent):
        raise PermissionDenied("免于事项须由上级党组织批准")
    initial = {"kind": request.GET.get("kind", ""), "period_start": request.GET.get("start", "")}
    form = WaiverForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            compliance_waive(user=request.user, organization=org, **form.cleaned_data)
        except ValidationError as exc:
            for error in _attach_errors(form, exc):
                form.add_error(None, error)
        else:
            messages.success(request, "已批准免于该事项")
            return redirect(
                reverse("activities:compliance", args=[org.pk]) + f"?year={form.cleaned_data['period_start'].year}"
            )
    return render(request, "activities/waive.html", {"org": org, "form": form}, status=400 if form.errors else 200)


@login_required
def rules(request: HttpRequest, pk: int) -> HttpResponse:
    """The rule table in force for this organization's subtree; an org_admin adds new versions."""
    org = _org(request, pk)
    can_edit = user_is_org_admin_over(request.user, org)
    form = RuleChangeForm(
        request.POST or None,
        initial={"effective_from": today(), "is_active": True, "org_type": OrgType.BRANCH, "minimum": 1},
    )
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("只有组织部门（org_admin）可以调整合规规则")
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                compliance_rule_change(
                    user=request.user,
                    organization=org,
                    org_type=data.pop("org_type"),
                    kind=data.pop("kind"),
                    effective_from=data.pop("effective_from"),
                    **data,
                )
            except ValidationError as exc:
                for error in _attach_errors(form, exc):
                    form.add_error(None, error)
            else:
                messages.success(request, "已新增规则版本；已开始的周期仍按原规则判断")
                return redirect("activities:rules", pk=org.pk)
    step = Organization.steplen
    ancestor_paths = [org.path[: step * i] for i in range(1, org.depth + 1)]
    rows = list(
        ComplianceRule.objects.filter(Q(organization__isnull=True) | Q(organization__path__in=ancestor_paths)).order_by(
            "org_type", "kind", "effective_from", "pk"
        )
    )
    scope_names = dict(Organization.objects.filter(path__in=ancestor_paths).values_list("pk", "name"))
    for row in rows:
        row.scope_name = scope_names.get(row.organization_id, "系统默认")
    return render(
        request,
        "activities/rules.html",
        {"org": org, "rows": rows, "form": form, "can_edit": can_edit},
        status=400 if form.errors else 200,
    )


# --- talks ---------------------------------------------------------------------------------------


@login_required
def talks(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request, pk)
    year, _ = _year(request)
    on = min(dt.date(year, 12, 31), today())
    coverage = talk_coverage(organization=org, year=year, on=on)
    people = [(m.pk, m.name) for m in coverage.members]
    form = TalkForm(request.POST or None, people=people, initial={"held_on": today()})
    can_change = user_can(request.user, CHANGE, org)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied("无权登记")
        if form.is_valid():
            data = dict(form.cleaned_data)
            found = {m.pk: m for m in Member.objects.filter(pk__in=[data["initiator"], data["counterpart"]])}
            try:
                talk_create(
                    user=request.user,
                    organization=org,
                    held_on=data["held_on"],
                    initiator=found[data.pop("initiator")],
                    counterpart=found[data.pop("counterpart")],
                    topic=data["topic"],
                    place=data["place"],
                    note=data["note"],
                )
            except ValidationError as exc:
                for error in _attach_errors(form, exc):
                    form.add_error(None, error)
            else:
                messages.success(request, "谈话记录已保存")
                return redirect(reverse("activities:talks", args=[org.pk]) + f"?year={year}")
    recent = list(
        Talk.objects.visible_to(request.user, VIEW)
        .filter(organization=org, held_on__year=year)
        .select_related("initiator", "counterpart")
        .order_by("-held_on", "-pk")[:50]
    )
    return render(
        request,
        "activities/talks.html",
        {
            "org": org,
            "year": year,
            "coverage": coverage,
            "form": form,
            "recent": recent,
            "can_change": can_change,
            "today": today(),
        },
        status=400 if form.errors else 200,
    )


# --- study ---------------------------------------------------------------------------------------


@login_required
def study(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request, pk)
    year, _ = _year(request)
    on = min(dt.date(year, 12, 31), today())
    progress = branch_study_progress(organization=org, year=year, on=on)
    can_change = user_can(request.user, CHANGE, org)
    people = [(row.member.pk, row.member.name) for row in progress]
    form = StudyRecordForm(request.POST or None, people=people, initial={"studied_on": today()})
    settings_row = activity_settings_for(org)
    settings_form = ActivitySettingsForm(
        initial={
            "study_points_enabled": settings_row.study_points_enabled,
            "advisory_summary_enabled": settings_row.advisory_summary_enabled,
        }
    )
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied("无权登记")
        if "settings" in request.POST:
            settings_form = ActivitySettingsForm(request.POST)
            if settings_form.is_valid():
                activity_settings_update(user=request.user, organization=org, **settings_form.cleaned_data)
                messages.success(request, "设置已保存")
                return redirect("activities:study", pk=org.pk)
        elif form.is_valid():
            data = dict(form.cleaned_data)
            member = Member.objects.filter(pk=data.pop("member")).first()
            try:
                study_record_create(user=request.user, member=member, **data)
            except ValidationError as exc:
                for error in _attach_errors(form, exc):
                    form.add_error(None, error)
            else:
                messages.success(request, "学习记录已保存")
                return redirect(reverse("activities:study", args=[org.pk]) + f"?year={year}")
    summary = advisory_summary(progress) if settings_row.advisory_summary_enabled and can_change else None
    return render(
        request,
        "activities/study.html",
        {
            "org": org,
            "year": year,
            "progress": progress,
            "form": form,
            "can_change": can_change,
            "settings_form": settings_form,
            "summary": summary,
            "target": settings.PB_STUDY_TARGET_HOURS,
        },
        status=400 if form.errors else 200,
    )


@login_required
def my_study_page(request: HttpRequest) -> HttpResponse:
    scope = get_scope(request.user)
    if not scope.member_id:
        raise Http404("没有党员档案")
    member = Member.objects.select_related("organization").get(pk=scope.member_id)
    form = StudyRecordForm(
        request.POST if request.method == "POST" and "points" not in request.POST else None,
        initial={"studied_on": today(), "source": StudySource.SELF_STUDY},
    )
    points_enabled = activity_settings_for(member.organization).study_points_enabled
    points_form = StudyPointsForm(request.POST if "points" in request.POST else None, initial={"recorded_on": today()})
    if request.method == "POST":
        if "points" in request.POST:
            if points_form.is_valid():
                try:
                    study_points_record(user=request.user, member=member, **points_form.cleaned_data)
                except ValidationError as exc:
                    for error in _attach_errors(points_form, exc):
                        points_form.add_error(None, error)
                else:
                    messages.success(request, "积分已登记")
                    return redirect("activities:my_study")
        elif form.is_valid():
            try:
                study_record_create(user=request.user, member=member, **form.cleaned_data)
            except ValidationError as exc:
                for error in _attach_errors(form, exc):
                    form.add_error(None, error)
            else:
                messages.success(request, "自学记录已保存")
                return redirect("activities:my_study")
    points = list(StudyPoints.objects.visible_to(request.user, VIEW).filter(member=member)[:12])
    return render(
        request,
        "activities/my_study.html",
        {
            "member": member,
            "form": form,
            "points_enabled": points_enabled,
            "points_form": points_form,
            "points": points,
        },
        status=400 if (form.errors or points_form.errors) else 200,
    )


@login_required
@require_POST
def study_record_remove(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_for_user(StudyRecord.objects.select_related("member", "organization"), request.user, VIEW, pk=pk)
    if not study_record_may_delete(request.user, record):
        raise PermissionDenied("无权删除该学习记录")
    try:
        study_record_delete(user=request.user, record=record)
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            for error in errors:
                messages.error(request, error)
    else:
        messages.success(request, "学习记录已删除")
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/activities/") else "activities:my_study")


# --- committee study -----------------------------------------------------------------------------


@login_required
def committee_study(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request, pk)
    year, quarter = _year(request)
    quarter = quarter or (today().month - 1) // 3 + 1
    start, end = quarter_bounds(year, quarter)
    report = committee_study_report(organization=org, start=start, end=end)
    return render(
        request,
        "activities/committee_study.html",
        {"org": org, "year": year, "quarter": quarter, "start": start, "end": end, **report, "quarters": [1, 2, 3, 4]},
    )


# --- plans and calendar --------------------------------------------------------------------------


@login_required
def plans(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request, pk)
    year, quarter = _year(request)
    quarter = quarter or (today().month - 1) // 3 + 1
    plan = (
        Plan.objects.visible_to(request.user, VIEW)
        .filter(organization=org, year=year, quarter=quarter)
        .prefetch_related(Prefetch("items", queryset=PlanItem.objects.select_related("meeting")))
        .first()
    )
    can_change = user_can(request.user, CHANGE, org)
    initial = [
        {
            "meeting_type": i.meeting_type,
            "planned_on": i.planned_on,
            "start_time": i.start_time,
            "title": i.title,
            "place": i.place,
        }
        for i in (plan.items.all() if plan else [])
    ]
    formset = PlanItemFormSet(request.POST or None, initial=initial, prefix="items")
    errors: list[str] = []
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied("无权填报")
        if formset.is_valid():
            items = [f.cleaned_data for f in formset if f.cleaned_data.get("meeting_type")]
            try:
                plan_save(
                    user=request.user,
                    organization=org,
                    year=year,
                    quarter=quarter,
                    items=items,
                    note=request.POST.get("note", ""),
                    submit="submit" in request.POST,
                )
            except ValidationError as exc:
                errors = [e for v in exc.message_dict.values() for e in v]
            else:
                messages.success(request, "季度计划已报备" if "submit" in request.POST else "季度计划已保存")
                return redirect(reverse("activities:plans", args=[org.pk]) + f"?year={year}&quarter={quarter}")
        else:
            errors = ["请检查填写的日期和时间"]
    return render(
        request,
        "activities/plans.html",
        {
            "org": org,
            "year": year,
            "quarter": quarter,
            "plan": plan,
            "formset": formset,
            "errors": errors,
            "can_change": can_change,
            "quarters": [1, 2, 3, 4],
            "note": request.POST.get("note", plan.note if plan else ""),
        },
        status=400 if errors else 200,
    )


@login_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("month", "")
    try:
        first = dt.date.fromisoformat(f"{raw}-01") if raw else today().replace(day=1)
    except ValueError:
        return HttpResponseBadRequest("月份格式应为 YYYY-MM")
    if not 2000 <= first.year <= 2100:
        return HttpResponseBadRequest("月份超出范围")
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    entries = calendar_entries(user=request.user, start=first, end=last)
    days: dict[dt.date, list] = {}
    for entry in entries:
        days.setdefault(entry.day, []).append(entry)
    prev_month = (first - dt.timedelta(days=1)).replace(day=1)
    next_month = last + dt.timedelta(days=1)
    feed = CalendarFeed.objects.filter(user=request.user, revoked_at__isnull=True).first()
    token = request.session.pop("pb_new_feed_token", None)
    feed_url = request.build_absolute_uri(reverse("activities:feed", args=[token])) if token else ""
    return render(
        request,
        "activities/calendar.html",
        {
            "first": first,
            "days": sorted(days.items()),
            "prev": prev_month,
            "next": next_month,
            "feed": feed,
            "feed_url": feed_url,
        },
    )


@login_required
@require_POST
def calendar_feed(request: HttpRequest) -> HttpResponse:
    if request.POST.get("action") == "revoke":
        calendar_feed_revoke(user=request.user)
        messages.success(request, "日历订阅链接已停用，旧链接立即失效")
    else:
        _, token = calendar_feed_create(user=request.user)
        request.session["pb_new_feed_token"] = token
        messages.success(request, "已生成新的订阅链接（只显示这一次，请复制保存）；旧链接已失效")
    return redirect("activities:calendar")


def calendar_feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The personal iCalendar feed: public by token on purpose (calendar apps cannot log in).
    A wrong or revoked token is a 404."""
    user = calendar_feed_user(token)
    if user is None:
        raise Http404("订阅不存在")
    start, end = feed_window()
    body = ical_render(calendar_entries(user=user, start=start, end=end))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
