"""Helpers shared by the organizational-life pages (private to the package).

The pages are thin: parse input, call selectors/services, render. Every object is fetched through
the access gate; foreign objects are 404."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest

from activities.models import Attendance, Meeting, Resolution
from core.access import VIEW, get_for_user, user_can
from core.dates import today
from core.numbers import is_number
from organizations.models import Organization

PAGE_SIZE = 30


def organization_for(request: HttpRequest, pk: int, action: str = VIEW) -> Organization:
    """An organization whose organizational-life data the user may read (a member's own branch
    is visible to them as an organization, but its meetings are not: 404)."""
    org = get_for_user(Organization, request.user, action, pk=pk)
    if not user_can(request.user, VIEW, org, for_org_model=False):
        raise Http404("对象不存在或无权访问")
    return org


def attach_errors(form: Any, exc: ValidationError) -> list[str]:
    """Put a service's field errors on the form; return the ones that belong to no field."""
    loose: list[str] = []
    for field, errors in exc.message_dict.items():
        name = field.removesuffix("_id") if field.endswith("_id") else field
        if form is not None and name in form.fields:
            for error in errors:
                form.add_error(name, error)
        else:
            loose.extend(errors)
    return loose


def int_param(value: str | None, field: str, lo: int, hi: int) -> int | None:
    if value in (None, ""):
        return None
    if not is_number(value) or not lo <= int(value) <= hi:
        raise ValidationError({field: "参数无效"})
    return int(value)


def year_and_quarter(request: HttpRequest) -> tuple[int, int | None]:
    try:
        year = int_param(request.GET.get("year"), "year", 2000, 2100) or today().year
        quarter = int_param(request.GET.get("quarter"), "quarter", 1, 4)
    except ValidationError as exc:
        raise Http404("参数无效") from exc
    return year, quarter


def meeting_for(request: HttpRequest, pk: int, action: str = VIEW) -> Meeting:
    qs = Meeting.objects.select_related("organization", "chair", "recorder", "lecturer").prefetch_related(
        Prefetch("attendance", queryset=Attendance.objects.order_by("-is_expected", "is_guest", "name", "pk")),
        Prefetch("resolutions", queryset=Resolution.objects.select_related("follow_up", "subject_member")),
        "attachments",
    )
    return get_for_user(qs, request.user, action, pk=pk)
