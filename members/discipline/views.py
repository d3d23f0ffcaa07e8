"""The member's discipline page (处分与党籍): sanctions, suspended rights and the status procedures,
for those who may change the member's record."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from core.access import VIEW, get_for_user
from core.forms import attach_errors
from members.discipline import services
from members.discipline.forms import RightsSuspensionForm, SanctionForm, StatusChangeForm
from members.discipline.selectors import (
    may_see_discipline,
    member_rights_suspensions,
    member_sanctions,
    member_status_changes,
)
from members.models import Member
from organizations.models import Organization

FORMS = {"sanction": SanctionForm, "suspension": RightsSuspensionForm, "status": StatusChangeForm}


def _deciding_organizations(member: Member) -> list[Organization]:
    """The member's organization and its ancestors (who decide on 处分/处置). One query."""
    org = member.organization
    step = Organization.steplen
    paths = [org.path[: step * i] for i in range(1, org.depth + 1)]
    return list(Organization.objects.filter(path__in=paths).order_by("-depth"))


@never_cache
@login_required
def member_discipline(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_for_user(Member.objects.select_related("organization"), request.user, VIEW, pk=pk)
    if not may_see_discipline(request.user, member):
        raise PermissionDenied("只有可以修改该党员信息的书记和组织部门可以查看处分和党籍记录")
    organizations = _deciding_organizations(member)
    forms = {
        "sanction": SanctionForm(organizations=organizations, prefix="sanction"),
        "suspension": RightsSuspensionForm(prefix="suspension"),
        "status": StatusChangeForm(prefix="status"),
    }
    if request.method == "POST":
        which = request.POST.get("action", "")
        if which not in FORMS:
            return HttpResponseBadRequest("未知的操作")
        extra = {"organizations": organizations} if which == "sanction" else {}
        form = FORMS[which](request.POST, prefix=which, **extra)
        forms[which] = form
        if form.is_valid():
            data = form.cleaned_data
            try:
                if which == "sanction":
                    services.member_sanction_record(member=member, recorded_by=request.user, **data)
                    messages.success(request, "已登记处分/处置")
                elif which == "suspension":
                    services.rights_suspension_record(member=member, recorded_by=request.user, **data)
                    messages.success(request, "已登记暂停权利期间")
                else:
                    services.member_status_change(member=member, recorded_by=request.user, **data)
                    messages.success(request, "已办理党籍状态变更")
                return redirect("members:discipline", pk=member.pk)
            except ValidationError as exc:
                attach_errors(form, exc)
    return render(
        request,
        "members/discipline.html",
        {
            "member": member,
            "sanctions": list(member_sanctions(member=member)),
            "suspensions": list(member_rights_suspensions(member=member)),
            "changes": list(member_status_changes(member=member)),
            "forms": forms,
        },
    )
