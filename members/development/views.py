"""发展党员 pages: a branch's pipeline, a new applicant, one person's timeline with the form to record
the next step, and attachment downloads. Thin; rules live in ``members.development.services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from core import dates
from core.access import CHANGE, VIEW, get_for_user, get_scope, user_can
from members.choices import Sex
from members.development.models import STEP_NUMBERS, Decision, DevelopmentStep, FullOutcome, StepCode
from members.development.rules import PREREQUISITES
from members.development.selectors import PIPELINE_STAGES, development_pipeline, development_timeline
from members.development.services import (
    development_applicant_create,
    development_step_record,
    development_step_void,
    development_voidable_step_id,
    development_vote_meetings,
)
from members.development.votes import VoteMeeting
from members.models import Member
from organizations.choices import BRANCH_TYPES
from organizations.models import Organization

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ApplicantForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50)
    sex = forms.ChoiceField(label="性别", choices=Sex.choices)
    birth_date = forms.DateField(label="出生日期", widget=DATE)
    applied_on = forms.DateField(label="递交入党申请书日期", widget=DATE)
    note = forms.CharField(label="情况说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class StepForm(forms.Form):
    step = forms.ChoiceField(label="步骤", choices=StepCode.choices)
    occurred_on = forms.DateField(label="日期", widget=DATE, required=False)
    decision = forms.ChoiceField(
        label="结果（审查、表决、审批类步骤）",
        choices=[("", "—"), (Decision.APPROVED, "同意/通过/合格"), (Decision.REJECTED, "不同意/未通过/不合格")],
        required=False,
    )
    decided_by = forms.CharField(label="决定/经办（如：支委会、谈话人）", max_length=100, required=False)
    people = forms.ModelMultipleChoiceField(
        label="培养联系人 / 入党介绍人（正式党员）",
        queryset=Member.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    training_days = forms.DecimalField(label="培训天数", max_digits=5, decimal_places=1, min_value=0, required=False)
    training_hours = forms.DecimalField(label="培训学时", max_digits=6, decimal_places=1, min_value=0, required=False)
    meeting = forms.TypedChoiceField(
        label="支部党员大会会议记录（可不选；选择后日期和表决人数按会议记录）",
        choices=[("", "—")],
        coerce=int,
        empty_value=None,
        required=False,
    )
    votes_expected = forms.IntegerField(label="应到会有表决权党员", min_value=0, required=False)
    votes_present = forms.IntegerField(label="实到会有表决权党员", min_value=0, required=False)
    votes_for = forms.IntegerField(label="赞成", min_value=0, required=False)
    votes_against = forms.IntegerField(label="反对", min_value=0, required=False)
    votes_abstain = forms.IntegerField(label="弃权", min_value=0, required=False)
    outcome = forms.ChoiceField(label="转正讨论结论", choices=[("", "—"), *FullOutcome.choices], required=False)
    extension_months = forms.IntegerField(label="延长预备期（月，6–12）", min_value=1, max_value=24, required=False)
    note = forms.CharField(label="情况说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    attachment = forms.FileField(label="附件（PDF/PNG/JPEG，可不上传）", required=False)

    def __init__(self, *args: Any, people_qs: Any, meetings: list[VoteMeeting] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["people"].queryset = people_qs
        self.fields["people"].label_from_instance = lambda m: m.name
        self.fields["meeting"].choices = [
            ("", "—（不关联，手工填写日期和表决人数）"),
            *((m.id, f"{m.held_on:%Y-%m-%d} {m.label}") for m in meetings or []),
        ]


class VoidForm(forms.Form):
    step_id = forms.IntegerField(min_value=1)
    reason = forms.CharField(label="作废原因", max_length=2000)


def _org_for_data(request: HttpRequest, pk: int) -> Organization:
    org = get_for_user(Organization, request.user, VIEW, pk=pk)
    if not user_can(request.user, VIEW, org, for_org_model=False):
        raise PermissionDenied("无权查看该组织的发展党员情况")
    return org


@login_required
def development_index(request: HttpRequest) -> HttpResponse:
    orgs = list(
        Organization.objects.filter(path__in=get_scope(request.user).reading_paths()).order_by("path")
    )
    if len(orgs) == 1 and orgs[0].org_type in BRANCH_TYPES:
        return redirect("development:pipeline", pk=orgs[0].pk)
    reach = Q(pk__in=[])
    for org in orgs:
        reach |= Q(path__startswith=org.path)
    branches = list(
        Organization.objects.visible_to(request.user, VIEW)
        .filter(reach, org_type__in=list(BRANCH_TYPES))
        .order_by("path")[:300]
    )
    return render(request, "members/development/index.html", {"branches": branches})


@never_cache
@login_required
def development_pipeline_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Who is at which stage, the next step and its due date, overdue warnings."""
    org = _org_for_data(request, pk)
    stage = request.GET.get("stage", "")
    if stage not in ("", *[s.value for s in PIPELINE_STAGES]):
        stage = ""
    entries = development_pipeline(organization=org, stage=stage)
    counts: dict[str, int] = {}
    for entry in development_pipeline(organization=org) if stage else entries:
        counts[entry.member.stage] = counts.get(entry.member.stage, 0) + 1
    return render(
        request,
        "members/development/pipeline.html",
        {
            "org": org,
            "entries": entries,
            "stage": stage,
            "stages": [(s.value, s.label, counts.get(s.value, 0)) for s in PIPELINE_STAGES],
            "can_change": user_can(request.user, CHANGE, org),
            "overdue": sum(1 for e in entries if e.level == "danger"),
        },
    )


@never_cache
@login_required
def development_applicant_new(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_for_user(Organization, request.user, CHANGE, pk=pk)
    form = ApplicantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            member = development_applicant_create(
                organization=org,
                name=data["name"],
                sex=data["sex"],
                birth_date=data["birth_date"],
                applied_on=data["applied_on"],
                note=data["note"],
                recorded_by=request.user,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, f"已登记入党申请人 {member.name}")
            return redirect("development:person", pk=member.pk)
    return render(
        request,
        "members/development/applicant_form.html",
        {"org": org, "form": form},
        status=400 if form.errors else 200,
    )


def _next_step_code(timeline: dict[str, Any]) -> str:
    """The first of the 25 steps not yet on record whose prerequisites are met (a suggestion)."""
    done = timeline["done_codes"]
    for code in StepCode.values:
        if code not in done and all(req in done for req in PREREQUISITES[code]):
            return code
    return StepCode.ARCHIVE


@never_cache
@login_required
def development_person(request: HttpRequest, pk: int) -> HttpResponse:
    """One person's step timeline by stage, key dates, what is due, and the form for the next step."""
    member = get_for_user(Member.objects.select_related("organization"), request.user, VIEW, pk=pk)
    can_change = user_can(request.user, CHANGE, member)
    timeline = development_timeline(member)
    people_qs = (
        Member.objects.visible_to(request.user, VIEW)
        .filter(organization=member.organization, stage="full", membership_status="normal")
        .exclude(pk=member.pk)
        .order_by("name")
    )
    suggested = _next_step_code(timeline)
    voiding = request.method == "POST" and request.POST.get("action") == "void"
    form = StepForm(
        None if voiding else request.POST or None,
        None if voiding else request.FILES or None,
        people_qs=people_qs,
        meetings=development_vote_meetings(member) if can_change else [],
        initial={"step": suggested, "occurred_on": dates.today()},
    )
    void_errors: list[str] = []
    status = 200
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied("无权登记该人员的发展步骤")
        if voiding:
            void_errors = _void(request, member)
            if not void_errors:
                return redirect("development:person", pk=member.pk)
            status = 400
        elif form.is_valid():
            data = dict(form.cleaned_data)
            people = list(data.pop("people") or [])
            try:
                step = development_step_record(
                    member=member,
                    people=people,
                    recorded_by=request.user,
                    step=data["step"],
                    occurred_on=data["occurred_on"],
                    decision=data["decision"] or "",
                    decided_by=data["decided_by"],
                    note=data["note"],
                    training_days=data["training_days"],
                    training_hours=data["training_hours"],
                    votes_expected=data["votes_expected"],
                    votes_present=data["votes_present"],
                    votes_for=data["votes_for"],
                    votes_against=data["votes_against"],
                    votes_abstain=data["votes_abstain"],
                    meeting_id=data["meeting"],
                    outcome=data["outcome"] or "",
                    extension_months=data["extension_months"],
                    attachment=data["attachment"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, f"已登记：{step.get_step_display()}")
                for warning in step.warnings:
                    messages.warning(request, warning)
                return redirect("development:person", pk=member.pk)
            status = 400
        else:
            status = 400
    return render(
        request,
        "members/development/person.html",
        {
            **timeline,
            "form": form,
            "can_change": can_change,
            "step_numbers": STEP_NUMBERS,
            "main_fields": MAIN_FIELDS,
            "groups": _field_groups(form, form["step"].value() or suggested),
            "voidable_id": development_voidable_step_id(member) if can_change else None,
            "voided_steps": DevelopmentStep.all_objects.filter(member=member, voided_at__isnull=False)
            .select_related("voided_by", "recorded_by")
            .order_by("voided_at", "pk"),
            "void_errors": void_errors,
        },
        status=status,
    )


def _void(request: HttpRequest, member: Member) -> list[str]:
    """Void the step the secretary marked as wrongly recorded; the errors to show, if any."""
    form = VoidForm(request.POST)
    if not form.is_valid():
        return ["请填写作废原因" if "reason" in form.errors else "请选择要作废的记录"]
    step = DevelopmentStep.objects.filter(member=member, pk=form.cleaned_data["step_id"]).first()
    if step is None:
        return ["找不到该记录，或已作废"]
    try:
        development_step_void(step=step, user=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        return [message for messages_ in exc.message_dict.values() for message in messages_]
    messages.success(request, f"已作废：{step.get_step_display()}（{step.occurred_on:%Y-%m-%d}），可重新登记正确的记录")
    return []


MAIN_FIELDS = ("step", "occurred_on", "decision", "decided_by", "note", "attachment")
FIELD_GROUPS = (
    ("培养联系人 / 入党介绍人", ("people",), {StepCode.CONTACTS, StepCode.INTRODUCERS}),
    ("短期集中培训", ("training_days", "training_hours"), {StepCode.TRAINING}),
    (
        "支部大会表决（应到、实到、赞成、反对、弃权）",
        ("meeting", "votes_expected", "votes_present", "votes_for", "votes_against", "votes_abstain"),
        {StepCode.ADMISSION_VOTE, StepCode.FULL_VOTE},
    ),
    ("转正讨论结论", ("outcome", "extension_months"), {StepCode.FULL_VOTE}),
)


def _field_groups(form: StepForm, step: str) -> list[tuple[str, tuple[str, ...], bool]]:
    """Optional field groups, open when they belong to the chosen step or hold errors."""
    return [
        (title, names, step in steps or any(form[name].errors for name in names))
        for title, names, steps in FIELD_GROUPS
    ]


@login_required
def development_attachment(request: HttpRequest, pk: int) -> FileResponse:
    """An attachment, only through the gate, always as a download."""
    # Voided steps included: their record (attachment too) stays on file.
    step = get_for_user(DevelopmentStep.all_objects.select_related("organization"), request.user, VIEW, pk=pk)
    if not step.attachment:
        raise Http404("没有附件")
    # The type from the stored (checked) file's extension, never from the uploaded name (#21.9).
    stored = step.attachment.name.rsplit(".", 1)[-1].lower()
    content_type = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}.get(
        stored, "application/octet-stream"
    )
    response = FileResponse(
        step.attachment.open("rb"),
        as_attachment=True,
        filename=step.attachment_name or "附件",
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
