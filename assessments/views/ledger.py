"""组织生活台账 pages: a 党委's batch over its branches (request, progress bar, ZIP download)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from activities.models import Meeting
from assessments.choices import BatchStatus
from assessments.ledger.batch import ledger_batch_request, ledger_batch_zip_path
from assessments.ledger.data import meeting_record
from assessments.models import LedgerBatch
from assessments.views.base import flash_errors
from audit.services import audit_log
from core.access import VIEW, get_for_user
from organizations.models import Organization


@login_required
@require_POST
def ledger_batch_new(request: HttpRequest, org_pk: int) -> HttpResponse:
    org = get_for_user(Organization, request.user, VIEW, pk=org_pk)
    try:
        batch = ledger_batch_request(
            organization=org, year=request.POST.get("year"), fmt=request.POST.get("format", "pdf"), user=request.user
        )
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("organizations:detail", pk=org.pk)
    messages.success(request, "已开始生成台账")
    return redirect("assessments:ledger-batch", pk=batch.pk)


@login_required
def ledger_batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_for_user(LedgerBatch.objects.select_related("organization"), request.user, VIEW, pk=pk)
    template = "assessments/_ledger_progress.html" if request.htmx else "assessments/ledger_batch.html"
    return render(request, template, {"batch": batch})


@login_required
def ledger_batch_download(request: HttpRequest, pk: int) -> FileResponse:
    batch = get_for_user(LedgerBatch.objects.select_related("organization"), request.user, VIEW, pk=pk)
    if batch.status not in (BatchStatus.DONE, BatchStatus.FAILED) or not batch.zip_file:
        raise Http404("台账尚未生成")
    path = ledger_batch_zip_path(batch)
    if not path.is_file():
        raise Http404("台账文件不存在")
    audit_log(
        event="ledger_batch_download",
        user=request.user,
        obj=batch,
        organization=batch.organization,
        detail={"year": batch.year, "fmt": batch.fmt, "size": batch.zip_size},
    )
    name = f"{batch.organization.name}-{batch.year}年组织生活台账.zip"
    response = FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type="application/zip")
    response["Cache-Control"] = "no-store"
    return response


@login_required
def meeting_record_print(request: HttpRequest, pk: int) -> HttpResponse:
    """One finished meeting's record laid out as the 台账 prints it, styled for paper (@media print)."""
    meeting = get_for_user(Meeting.objects.select_related("organization"), request.user, VIEW, pk=pk)
    try:
        record = meeting_record(meeting)
    except Meeting.DoesNotExist:
        raise Http404("只有已完成录入的会议可以打印记录") from None
    return render(request, "assessments/meeting_record_print.html", {"m": record, "meeting": meeting})
