"""Quarterly plans (计划报备)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from activities.calendar import plan_save
from activities.forms import PlanItemFormSet
from activities.models import Plan, PlanItem
from activities.views._common import organization_for, year_and_quarter
from core.access import CHANGE, VIEW, user_can
from core.dates import today


@login_required
def plans(request: HttpRequest, pk: int) -> HttpResponse:
    org = organization_for(request, pk)
    year, quarter = year_and_quarter(request)
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
