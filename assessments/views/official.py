"""The inspection report as a document: its page (文号, 问题清单 with the reviewer's confirmation)
and an organization's 发文设置 (红头, 文号 pattern, 主送, 落款)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from assessments.models import InspectionReport, ReportHeading
from assessments.services.official import report_findings_confirm, report_heading_save, report_issuer
from assessments.services.reports import is_subtree_admin
from assessments.views.base import errors_to_form, flash_errors
from core.access import VIEW, get_for_user
from organizations.models import Organization


class HeadingForm(forms.Form):
    issuer_mark = forms.CharField(label="发文机关标志", max_length=60, help_text="如 中共××委员会组织部")
    number_pattern = forms.CharField(
        label="文号格式", max_length=60, help_text="{year} 为年度，{n} 为序号，如 测组〔{year}〕{n}号"
    )
    recipients = forms.CharField(label="主送", max_length=200, required=False, help_text="空则主送被督查的组织")
    signatory = forms.CharField(label="落款", max_length=60)


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_for_user(InspectionReport.objects.select_related("organization"), request.user, VIEW, pk=pk)
    reviewer = is_subtree_admin(request.user, report.organization)
    if request.method == "POST":
        if not reviewer:
            raise PermissionDenied
        try:
            indexes = [int(i) for i in request.POST.getlist("finding")]
            deadline = dt.date.fromisoformat(request.POST["deadline"]) if request.POST.get("deadline") else None
        except ValueError:
            messages.error(request, "请正确选择问题并填写整改时限（YYYY-MM-DD）")
            return redirect("assessments:report-detail", pk=report.pk)
        try:
            created = report_findings_confirm(report=report, user=request.user, indexes=indexes, deadline=deadline)
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, f"已确认，生成整改事项 {len(created)} 项")
        return redirect("assessments:report-detail", pk=report.pk)
    findings = list(enumerate((report.summary or {}).get("findings") or []))
    issuer = report_issuer(report)
    return render(
        request,
        "assessments/report_detail.html",
        {
            "report": report,
            "findings": findings,
            "reviewer": reviewer,
            "issuer": issuer,
            "may_edit_heading": is_subtree_admin(request.user, issuer.organization),
        },
    )


@login_required
def report_heading_edit(request: HttpRequest, org_pk: int) -> HttpResponse:
    org = get_for_user(Organization, request.user, VIEW, pk=org_pk)
    if not is_subtree_admin(request.user, org):
        raise PermissionDenied
    heading = ReportHeading.objects.filter(organization=org).first()
    initial = (
        {f: getattr(heading, f) for f in HeadingForm.base_fields}
        if heading
        else {"issuer_mark": org.name, "number_pattern": "〔{year}〕{n}号", "signatory": org.name}
    )
    form = HeadingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            report_heading_save(organization=org, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "发文设置已保存")
            return redirect("assessments:report-heading", org_pk=org.pk)
    return render(request, "assessments/report_heading.html", {"org": org, "form": form, "heading": heading})
