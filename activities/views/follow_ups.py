"""Follow-up items (决议落实事项): the list and status changes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from activities.forms import FollowUpStatusForm
from activities.models import FollowUp
from activities.selectors import follow_up_list
from activities.services.follow_ups import follow_up_update as follow_up_update_service
from activities.views._common import PAGE_SIZE, organization_for
from core.access import CHANGE, get_for_user, user_can


@login_required
def follow_ups(request: HttpRequest, pk: int) -> HttpResponse:
    org = organization_for(request, pk)
    status = request.GET.get("status", "open")
    if status not in ("open", "done", "cancelled", "in_progress", "all"):
        return HttpResponseBadRequest("参数无效")
    qs = follow_up_list(user=request.user, organization=org, status="" if status == "all" else status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page") or 1)
    return render(
        request,
        "activities/follow_ups.html",
        {
            "org": org,
            "page": page,
            "status": status,
            "can_change": user_can(request.user, CHANGE, org),
            "form": FollowUpStatusForm(),
        },
    )


@login_required
@require_POST
def follow_up_update(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = get_for_user(FollowUp.objects.select_related("organization"), request.user, CHANGE, pk=pk)
    form = FollowUpStatusForm(request.POST)
    if form.is_valid():
        follow_up_update_service(
            user=request.user,
            follow_up=follow_up,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"] or None,
        )
        messages.success(request, "落实情况已更新")
    else:
        messages.error(request, "状态无效")
    back = request.POST.get("next", "")
    if back.startswith("/activities/"):
        return redirect(back)
    return redirect("activities:follow_ups", pk=follow_up.organization_id)
