"""整改 pages: the list, registering an item, reporting completion, sign-off (销号) and evidence."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render

from assessments import selectors
from assessments.choices import RectificationStatus
from assessments.forms import EvidenceForm, RectificationFilter, RectificationForm, RectificationSubmitForm, SignOffForm
from assessments.models import InspectionReport, RectificationItem
from assessments.services.evidence import evidence_add
from assessments.services.rectification import (
    can_sign_off,
    rectification_create,
    rectification_sign_off,
    rectification_submit,
)
from assessments.views.base import bad_query, errors_to_form, paginate
from core.access import CHANGE, VIEW, get_for_user, get_scope, refuse_read_only, user_can
from core.dates import today
from core.numbers import as_id, is_number
from core.versioning import VersionConflict, changed_values, form_version, page_conflict, page_edit
from organizations.models import Organization


@login_required
def rectification_list(request: HttpRequest) -> HttpResponse:
    form = RectificationFilter(request.GET)
    if not form.is_valid():
        return bad_query(form)
    qs = selectors.rectification_list(
        user=request.user, status=form.cleaned_data["status"], search=form.cleaned_data["q"] or ""
    )
    page = paginate(request, qs, form.cleaned_data["page"])
    can_create = bool(get_scope(request.user).recording_paths())
    return render(
        request,
        "assessments/rectification_list.html",
        {"page": page, "form": form, "can_create": can_create, "today": today()},
    )


@login_required
def rectification_new(request: HttpRequest) -> HttpResponse:
    if not get_scope(request.user).recording_paths():
        raise PermissionDenied
    initial: dict[str, Any] = {}
    report_id = request.GET.get("report", "")
    source_report = None
    if report_id:
        if not is_number(report_id):
            return HttpResponseBadRequest("report 参数无效")
        source_report = get_for_user(InspectionReport, request.user, VIEW, pk=as_id(report_id))
        initial["organization"] = source_report.organization_id
    form = RectificationForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        org = get_for_user(Organization, request.user, VIEW, pk=data["organization"])
        try:
            item = rectification_create(
                organization=org,
                user=request.user,
                problem=data["problem"],
                requirement=data["requirement"],
                owner_name=data["owner_name"],
                deadline=data["deadline"],
                source=data["source"],
                source_report=source_report,
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "整改事项已登记")
            return redirect("assessments:rectification-detail", pk=item.pk)
    return render(request, "assessments/rectification_form.html", {"form": form, "source_report": source_report})


@login_required
def rectification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_for_user(
        RectificationItem.objects.select_related("organization", "source_report"), request.user, VIEW, pk=pk
    )
    action = request.POST.get("action", "")
    submit_form = RectificationSubmitForm(request.POST if action == "submit" else None)
    sign_form = SignOffForm(request.POST if action == "sign_off" else None)
    evidence_form = EvidenceForm(request.POST, request.FILES) if action == "evidence" else EvidenceForm()
    conflict = None
    if request.method == "POST":
        refuse_read_only(request.user)
        try:
            if action == "submit" and submit_form.is_valid():
                with page_edit(request, item):  # #17.3: reported against the item as loaded
                    rectification_submit(
                        item=item,
                        user=request.user,
                        completion_note=submit_form.cleaned_data["completion_note"],
                        completed_on=submit_form.cleaned_data["completed_on"],
                    )
                messages.success(request, "整改情况已报送")
                return redirect("assessments:rectification-detail", pk=pk)
            if action == "sign_off" and sign_form.is_valid():
                with page_edit(request, item):  # #17.3: signed off as the reviewer saw it
                    rectification_sign_off(
                        item=item,
                        user=request.user,
                        accept=sign_form.cleaned_data["accept"],
                        note=sign_form.cleaned_data["note"],
                    )
                messages.success(request, "验收结果已保存")
                return redirect("assessments:rectification-detail", pk=pk)
            if action == "evidence" and evidence_form.is_valid():
                upload = evidence_form.cleaned_data["file"]
                evidence_add(
                    user=request.user,
                    target=item,
                    title=evidence_form.cleaned_data["title"],
                    name=upload.name if upload else "",
                    content=upload.read() if upload else None,
                    meeting_id=evidence_form.cleaned_data["meeting_id"],
                )
                messages.success(request, "整改材料已添加")
                return redirect("assessments:rectification-detail", pk=pk)
            if action not in ("submit", "sign_off", "evidence"):
                return HttpResponseBadRequest("未知操作")
        except VersionConflict:
            item = RectificationItem.objects.select_related("organization", "source_report").get(pk=pk)
            conflict = page_conflict(
                item,
                changed_values(_typed_against(item, action, request.POST)),
                note="他人修改了这项整改（见上方当前内容），请核对后再提交。",
            )
        except ValidationError as exc:
            target = {"submit": submit_form, "sign_off": sign_form, "evidence": evidence_form}[action]
            errors_to_form(target, exc)
    can_edit = user_can(request.user, CHANGE, item)
    return render(
        request,
        "assessments/rectification_detail.html",
        {
            "item": item,
            "evidence": list(item.evidence.order_by("pk")),
            "can_submit": can_edit and item.status == RectificationStatus.OPEN,
            "can_sign_off": can_sign_off(request.user, item) and item.status == RectificationStatus.SUBMITTED,
            "can_add_evidence": can_edit and item.status != RectificationStatus.CLOSED,
            "submit_form": submit_form,
            "sign_form": sign_form,
            "evidence_form": evidence_form,
            "overdue": item.status == RectificationStatus.OPEN and item.deadline < today(),
            "conflict": conflict,
            "row_version": form_version(request, item, conflict),
        },
        status=409 if conflict else 200,
    )


def _typed_against(item: RectificationItem, action: str, post: Any) -> list[tuple[str, Any, Any]]:
    """(label, saved, typed) for a stale 报送 or 验收 (#17.3): what the other person saved against
    what this user typed (the record above the forms shows the rest as it is now)."""
    if action == "submit":
        return [
            ("整改完成情况", item.completion_note, post.get("completion_note")),
            ("完成日期", item.completed_on, post.get("completed_on")),
        ]
    verdicts = {"1": "同意销号", "0": "不予销号，退回整改"}
    saved = ""
    if item.status == RectificationStatus.CLOSED:
        saved = verdicts["1"]
    elif item.reviewed_at is not None:
        saved = verdicts["0"]
    return [
        ("验收结论", saved, verdicts.get(post.get("accept", ""), "")),
        ("验收意见", item.review_note, post.get("note")),
    ]
