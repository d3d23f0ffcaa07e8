"""Quarterly inspection report pages: the list and batch requests, progress, downloads, retries."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from assessments import selectors
from assessments.api.views import report_download_response
from assessments.choices import ReportStatus
from assessments.forms import ORG_SELECT_LIMIT, ReportRequestForm, YearQuarterFilter
from assessments.models import InspectionReport, ReportBatch
from assessments.services.reports import inspection_report_retry, report_batch_request
from assessments.views.base import bad_query, errors_to_form, flash_errors, paginate
from core.access import VIEW, get_for_user, get_scope
from organizations.choices import OrgType
from organizations.models import Organization


def _admin_org_choices(user: Any) -> list[tuple[int, str]]:
    """Organizations under the user's org_admin roles (reports are requested per subtree)."""
    paths = get_scope(user).managed_paths()
    if not paths:
        return []
    q = Q()
    for path in paths:
        q |= Q(path__startswith=path)
    qs = Organization.objects.filter(q).exclude(org_type=OrgType.GROUP).order_by("path")
    return list(qs.values_list("pk", "name")[:ORG_SELECT_LIMIT])


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    form = YearQuarterFilter(request.GET)
    if not form.is_valid():
        return bad_query(form)
    data = form.cleaned_data
    qs = selectors.report_list(user=request.user, year=data["year"], quarter=data["quarter"], kind=data["kind"])
    if data["status"]:
        qs = qs.filter(status=data["status"])
    page = paginate(request, qs, data["page"])
    scope = get_scope(request.user)
    request_form = None
    if scope.is_org_admin:
        request_form = ReportRequestForm(
            request.POST or None, user=request.user, choices=_admin_org_choices(request.user)
        )
        if request.method == "POST" and request_form.is_valid():
            cleaned = request_form.cleaned_data
            org = get_for_user(Organization, request.user, VIEW, pk=cleaned["organization"])
            try:
                batch = report_batch_request(
                    organization=org,
                    year=cleaned["year"],
                    quarter=cleaned["quarter"],
                    user=request.user,
                    force=cleaned["force"],
                    development_list=cleaned["development_list"],
                )
            except ValidationError as exc:
                errors_to_form(request_form, exc)
            else:
                messages.success(request, "已开始生成报告", extra_tags="transient")
                return redirect("assessments:batch-detail", pk=batch.pk)
    elif request.method == "POST":
        raise PermissionDenied
    batches = list(selectors.batch_list(user=request.user)[:5])
    return render(
        request,
        "assessments/report_list.html",
        {"page": page, "form": form, "request_form": request_form, "batches": batches},
    )


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_for_user(ReportBatch.objects.select_related("organization"), request.user, VIEW, pk=pk)
    template = "assessments/_batch_progress.html" if request.htmx else "assessments/batch_detail.html"
    failed = list(batch.reports.filter(status=ReportStatus.FAILED).select_related("organization")[:50])
    return render(request, template, {"batch": batch, "failed": failed})


@login_required
def report_download(request: HttpRequest, pk: int, fmt: str) -> FileResponse:
    if fmt not in ("pdf", "xlsx"):
        raise Http404
    report = get_for_user(InspectionReport.objects.select_related("organization"), request.user, VIEW, pk=pk)
    return report_download_response(report, fmt, request)


@login_required
@require_POST
def report_retry(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_for_user(InspectionReport.objects.select_related("organization"), request.user, VIEW, pk=pk)
    try:
        inspection_report_retry(report=report, user=request.user)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, "已重新排队生成")
    return redirect("assessments:report-list")
