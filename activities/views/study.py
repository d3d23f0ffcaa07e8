"""Study: a branch's hours and settings, a member's own study page, and the committee's study
report."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from activities.choices import StudySource
from activities.compliance import quarter_bounds
from activities.forms import ActivitySettingsForm, StudyPointsForm, StudyRecordForm
from activities.models import StudyPoints, StudyRecord
from activities.selectors import advisory_summary, branch_study_progress, committee_study_report
from activities.services.study import (
    activity_settings_for,
    activity_settings_update,
    study_points_record,
    study_record_create,
    study_record_delete,
    study_record_may_delete,
)
from activities.views._common import attach_errors, organization_for, year_and_quarter
from core.access import CHANGE, VIEW, get_for_user, get_scope, user_can
from core.dates import today
from members.models import Member


@login_required
def study(request: HttpRequest, pk: int) -> HttpResponse:
    org = organization_for(request, pk)
    year, _ = year_and_quarter(request)
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
                for error in attach_errors(form, exc):
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
                    for error in attach_errors(points_form, exc):
                        points_form.add_error(None, error)
                else:
                    messages.success(request, "积分已登记")
                    return redirect("activities:my_study")
        elif form.is_valid():
            try:
                study_record_create(user=request.user, member=member, **form.cleaned_data)
            except ValidationError as exc:
                for error in attach_errors(form, exc):
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


@login_required
def committee_study(request: HttpRequest, pk: int) -> HttpResponse:
    org = organization_for(request, pk)
    year, quarter = year_and_quarter(request)
    quarter = quarter or (today().month - 1) // 3 + 1
    start, end = quarter_bounds(year, quarter)
    report = committee_study_report(organization=org, start=start, end=end)
    return render(
        request,
        "activities/committee_study.html",
        {"org": org, "year": year, "quarter": quarter, "start": start, "end": end, **report, "quarters": [1, 2, 3, 4]},
    )
