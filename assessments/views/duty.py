"""述职评议 pages: the list, writing the secretary's report, submitting, appraisal and attachments."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render

from assessments import selectors
from assessments.choices import DutyReportStatus
from assessments.forms import AppraiseForm, DutyReportForm, EvidenceForm, PageFilter
from assessments.models import DutyReport
from assessments.services.duty import (
    can_appraise,
    duty_report_appraise,
    duty_report_save,
    duty_report_submit,
    open_questions_for,
)
from assessments.services.evidence import evidence_add
from assessments.services.ratings import is_org_editor
from assessments.views.base import bad_query, errors_to_form, flash_errors, paginate
from core.access import CHANGE, VIEW, get_for_user, get_scope, refuse_read_only
from core.dates import today
from core.numbers import is_number
from organizations.choices import OrgType
from organizations.models import Organization


@login_required
def duty_list(request: HttpRequest) -> HttpResponse:
    form = PageFilter(request.GET)
    if not form.is_valid():
        return bad_query(form)
    qs = selectors.duty_report_list(user=request.user, year=form.cleaned_data["year"])
    page = paginate(request, qs, form.cleaned_data["page"])
    return render(
        request, "assessments/duty_list.html", {"page": page, "form": form, "editable": _editor_orgs(request.user)}
    )


def _editor_orgs(user: Any) -> list[tuple[int, str]]:
    """Organizations the user works in directly (a read-write role on the organization itself)."""
    paths = set(get_scope(user).recording_paths())
    qs = Organization.objects.filter(path__in=paths).exclude(org_type=OrgType.GROUP).order_by("path")
    return list(qs.values_list("pk", "name"))


@login_required
def duty_edit(request: HttpRequest, org_pk: int) -> HttpResponse:
    org = get_for_user(Organization, request.user, CHANGE, pk=org_pk)
    if not is_org_editor(request.user, org):
        raise PermissionDenied
    year = request.GET.get("year") or request.POST.get("year") or str(today().year)
    if not is_number(year) or not 2000 <= int(year) <= 2100:
        return HttpResponseBadRequest("年度无效")
    existing = DutyReport.objects.filter(organization=org, year=int(year)).first()
    questions = open_questions_for(organization=org, year=int(year))
    initial = {"year": int(year)}
    if existing:
        initial.update(secretary_name=existing.secretary_name, text=existing.text)
    form = DutyReportForm(request.POST or None, initial=initial, questions=questions)
    if request.method == "POST" and form.is_valid():
        try:
            report = duty_report_save(
                organization=org,
                year=form.cleaned_data["year"],
                user=request.user,
                secretary_name=form.cleaned_data["secretary_name"],
                text=form.cleaned_data["text"],
                answers=form.answers(),
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "述职报告已保存")
            return redirect("assessments:duty-detail", pk=report.pk)
    return render(request, "assessments/duty_form.html", {"form": form, "org": org, "report": existing})


@login_required
def duty_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_for_user(DutyReport.objects.select_related("organization"), request.user, VIEW, pk=pk)
    editor = is_org_editor(request.user, report.organization)
    appraiser = can_appraise(request.user, report)
    appraise_form = AppraiseForm(request.POST if request.POST.get("action") == "appraise" else None)
    evidence_form = (
        EvidenceForm(request.POST or None, request.FILES or None)
        if request.POST.get("action") == "evidence"
        else EvidenceForm()
    )
    if request.method == "POST":
        refuse_read_only(request.user)
        action = request.POST.get("action")
        try:
            if action == "submit":
                duty_report_submit(report=report, user=request.user)
                messages.success(request, "述职报告已提交")
                return redirect("assessments:duty-detail", pk=pk)
            if action == "appraise":
                if appraise_form.is_valid():
                    data = appraise_form.cleaned_data
                    duty_report_appraise(
                        report=report,
                        user=request.user,
                        counts={k: data[f"count_{k}"] for k in ("good", "fairly_good", "average", "poor")},
                        score=data["score"],
                        note=data["note"],
                        questions=[data["question_1"], data["question_2"]],
                    )
                    messages.success(request, "评议结果已保存")
                    return redirect("assessments:duty-detail", pk=pk)
            elif action == "evidence":
                if evidence_form.is_valid():
                    upload = evidence_form.cleaned_data["file"]
                    evidence_add(
                        user=request.user,
                        target=report,
                        title=evidence_form.cleaned_data["title"],
                        name=upload.name if upload else "",
                        content=upload.read() if upload else None,
                        meeting_id=evidence_form.cleaned_data["meeting_id"],
                    )
                    messages.success(request, "附件已添加")
                    return redirect("assessments:duty-detail", pk=pk)
            else:
                return HttpResponseBadRequest("未知操作")
        except ValidationError as exc:
            errors_to_form(evidence_form if action == "evidence" else appraise_form, exc)
            flash_errors(request, exc)
    history = list(
        DutyReport.objects.filter(organization=report.organization).exclude(pk=report.pk).order_by("-year")[:5]
    )
    return render(
        request,
        "assessments/duty_detail.html",
        {
            "report": report,
            "questions": list(report.questions.order_by("pk")),
            "answered": list(report.answered_questions.order_by("pk")),
            "attachments": list(report.attachments.order_by("pk")),
            "editor": editor and report.status != DutyReportStatus.APPRAISED,
            "can_submit": editor and report.status == DutyReportStatus.DRAFT,
            "appraiser": appraiser and report.status == DutyReportStatus.SUBMITTED,
            "appraise_form": appraise_form,
            "evidence_form": evidence_form,
            "history": history,
            "ratings": selectors.rating_history(organization=report.organization),
        },
    )
