"""The person-by-person records: 谈心谈话 (talks and their coverage) and 民主评议党员 (grades at an
appraisal meeting)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from activities.choices import MeetingType
from activities.forms import AppraisalForm, TalkForm
from activities.models import AppraisalEntry, Talk
from activities.selectors import meeting_roster, talk_coverage
from activities.services.appraisal import appraisal_grades_set
from activities.services.talks import talk_create
from activities.views._common import attach_errors, meeting_for, organization_for, year_and_quarter
from core.access import CHANGE, VIEW, user_can
from core.dates import today
from members.models import Member
from members.selectors import member_is_full_on


@login_required
def talks(request: HttpRequest, pk: int) -> HttpResponse:
    org = organization_for(request, pk)
    year, _ = year_and_quarter(request)
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
                for error in attach_errors(form, exc):
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


@login_required
def appraisal(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_for(request, pk, CHANGE)
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
