"""The 工作台 page: the home of every signed-in user."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.access import get_scope
from dashboard.workbench.selectors import workbench_for


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    scope = get_scope(request.user)
    return render(
        request,
        "dashboard/workbench.html",
        {"bench": workbench_for(request.user), "scope_empty": scope.is_empty},
    )
