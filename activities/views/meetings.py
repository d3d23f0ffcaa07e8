"""Meeting records: the list, a record's page, deleting it, and its attachments."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from activities.api.views import attachment_response
from activities.attachments import attachment_add, attachment_delete
from activities.choices import AttendanceStatus, MeetingType
from activities.forms import AttachmentForm, MeetingFilterForm
from activities.models import AppraisalEntry, Attachment
from activities.selectors import follow_ups_for_meeting, meeting_list
from activities.services.meetings import meeting_delete as meeting_delete_service
from activities.views._common import PAGE_SIZE, meeting_for, organization_for
from core.access import CHANGE, VIEW, get_for_user, user_can


@login_required
def meetings(request: HttpRequest, pk: int) -> HttpResponse:
    org = organization_for(request, pk)
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


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_for(request, pk)
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
    meeting = meeting_for(request, pk, CHANGE)
    if request.method == "POST":
        org_pk = meeting.organization_id
        meeting_delete_service(user=request.user, meeting=meeting)
        messages.success(request, "会议记录已删除")
        return redirect("activities:meetings", pk=org_pk)
    return render(request, "activities/meeting_delete.html", {"meeting": meeting, "org": meeting.organization})


@login_required
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_for(request, pk, CHANGE)
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
