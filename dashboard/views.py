"""Dashboard pages: thin views over ``dashboard.selectors``."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from audit.services import audit_log
from audit.throttle import refused_page
from core.access import VIEW, get_for_user
from core.xlsx import new_workbook
from dashboard import selectors as sel
from organizations.models import Organization

EXPORT_MAX_ROWS = 20000


def _bad_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    messages = (
        [f"{m}" for msgs in exc.message_dict.values() for m in msgs] if hasattr(exc, "error_dict") else exc.messages
    )
    return render(request, "dashboard/bad_request.html", {"messages_list": messages}, status=400)


def _check_params(request: HttpRequest, allowed: set[str]) -> None:
    unknown = sorted(set(request.GET) - allowed)
    if unknown:
        raise ValidationError({name: "不支持的查询参数" for name in unknown})


def _dashboard_org(request: HttpRequest, pk: int) -> Organization:
    org = get_for_user(Organization, request.user, VIEW, pk=pk)
    if not sel.dashboard_allowed(request.user, org):
        raise Http404("对象不存在或无权访问")
    return org


@require_safe
@login_required
def dashboard_page(request: HttpRequest, pk: int) -> HttpResponse:
    org = _dashboard_org(request, pk)
    try:
        _check_params(request, {"year", "quarter", "page"})
        period = sel.dashboard_period(request.GET)
        page = sel.page_param(request.GET)
    except ValidationError as exc:
        return _bad_request(request, exc)
    data = sel.dashboard_data(user=request.user, org=org, period=period, page=page)
    if not data["facts"].ready:
        for ancestor in data["ancestors"]:
            ancestor.dash = sel.dashboard_allowed(request.user, ancestor)
        return render(request, "dashboard/building.html", data)
    charts = {
        "stage": data["members"]["stage"],
        "category": data["members"]["category"],
        "sex": data["members"]["sex"],
        "education": data["members"]["education"],
        "age": data["members"]["age"],
        "party_age": data["members"]["party_age"],
        "pipeline": data["pipeline"],
        "life_by_kind": data["life"]["by_kind"],
        "heat": {
            "orgs": [row["name"] for row in data["children"]],
            "ids": [row["id"] for row in data["children"]],
            "cells": [[m, i, v] for i, row in enumerate(data["children"]) for m, v in enumerate(row["heat"])],
        },
        "stars": data["ratings"]["distribution"],
        "dashboard_url": f"?year={period.year}&quarter={period.quarter}",
    }
    data["charts_data"] = charts
    data["members_base"] = reverse("dashboard:members", args=[org.pk])
    data["orgs_base"] = reverse("dashboard:orgs", args=[org.pk])
    data["page_base"] = reverse("organizations:tree")
    for ancestor in data["ancestors"]:
        ancestor.dash = sel.dashboard_allowed(request.user, ancestor)
    data["years"] = list(range(period.on.year + 1, sel.MIN_YEAR - 1, -1))[:12]
    data["quarters"] = [1, 2, 3, 4]
    return render(request, "dashboard/page.html", data)


def _member_list_args(request: HttpRequest) -> tuple[str, str, sel.Period, int]:
    _check_params(request, {"metric", "value", "year", "quarter", "page"})
    period = sel.dashboard_period(request.GET)
    metric = request.GET.get("metric", "")
    value = request.GET.get("value", "")
    sel.member_drill_q(metric, value, period.year)  # validates
    return metric, value, period, sel.page_param(request.GET)


@require_safe
@login_required
def member_list_page(request: HttpRequest, pk: int) -> HttpResponse:
    org = _dashboard_org(request, pk)
    try:
        metric, value, period, page_no = _member_list_args(request)
    except ValidationError as exc:
        return _bad_request(request, exc)
    qs = sel.member_drill_list(user=request.user, org=org, metric=metric, value=value, year=period.year)
    offset = (page_no - 1) * sel.LIST_PAGE_SIZE
    rows = list(qs[offset : offset + sel.LIST_PAGE_SIZE + 1])
    has_next = len(rows) > sel.LIST_PAGE_SIZE
    context = {
        "org": org,
        "period": period,
        "title": sel.member_drill_label(metric, value, period.year),
        "rows": rows[: sel.LIST_PAGE_SIZE],
        "page_no": page_no,
        "has_next": has_next,
        "has_previous": page_no > 1,
        "query": {"metric": metric, "value": value, "year": period.year, "quarter": period.quarter},
    }
    return render(request, "dashboard/members.html", context)


def _xlsx(title: str, header: list[str], rows: list[list[Any]], user: Any) -> bytes:
    wb = new_workbook(write_only=True)
    ws = wb.create_sheet(title="名单")
    ws.append([title])
    ws.append([f"导出人：{user.get_username()}  导出时间：{timezone.localtime():%Y-%m-%d %H:%M}"])
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _download(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    response["Cache-Control"] = "no-store"
    return response


MEMBER_HEADER = ["姓名", "性别", "出生年份", "所在党组织", "发展阶段", "党籍状态", "党费类别", "学历", "转正日期"]


def member_export_rows(members: list[Any]) -> list[list[Any]]:
    """Masked by design: no ID numbers, phones or addresses in dashboard exports."""
    return [
        [
            m.name,
            m.get_sex_display(),
            m.birth_date.year,
            str(m.organization),
            m.get_stage_display(),
            m.get_membership_status_display(),
            m.get_dues_category_display(),
            m.get_education_display() or "",
            f"{m.full_on:%Y-%m-%d}" if m.full_on else "",
        ]
        for m in members
    ]


@require_safe
@login_required
def member_export(request: HttpRequest, pk: int) -> HttpResponse:
    org = _dashboard_org(request, pk)
    if (limited := refused_page(request, "export")) is not None:
        return limited
    try:
        _check_params(request, {"metric", "value", "year", "quarter"})
        period = sel.dashboard_period(request.GET)
        metric, value = request.GET.get("metric", ""), request.GET.get("value", "")
        qs = sel.member_drill_list(user=request.user, org=org, metric=metric, value=value, year=period.year)
    except ValidationError as exc:
        return _bad_request(request, exc)
    members = list(qs[: EXPORT_MAX_ROWS + 1])
    if len(members) > EXPORT_MAX_ROWS:
        return _bad_request(request, ValidationError(f"名单超过 {EXPORT_MAX_ROWS} 人，请进入下级组织后分别导出"))
    title = f"{org} · {sel.member_drill_label(metric, value, period.year)}"
    with transaction.atomic():
        audit_log(
            event="dashboard_export",
            obj=org,
            organization=org,
            detail={"list": "members", "metric": metric, "value": value, "year": period.year, "rows": len(members)},
        )
    return _download(_xlsx(title, MEMBER_HEADER, member_export_rows(members), request.user), "dashboard-members.xlsx")


def _org_list_args(request: HttpRequest) -> tuple[str, str, sel.Period, int]:
    _check_params(request, {"metric", "value", "year", "quarter", "page"})
    period = sel.dashboard_period(request.GET)
    return request.GET.get("metric", ""), request.GET.get("value", ""), period, sel.page_param(request.GET)


@require_safe
@login_required
def org_list_page(request: HttpRequest, pk: int) -> HttpResponse:
    org = _dashboard_org(request, pk)
    try:
        metric, value, period, page_no = _org_list_args(request)
        qs = sel.org_drill_rows(user=request.user, org=org, metric=metric, value=value, period=period)
    except ValidationError as exc:
        return _bad_request(request, exc)
    page = Paginator(qs, sel.LIST_PAGE_SIZE).get_page(page_no)
    return render(
        request,
        "dashboard/orgs.html",
        {
            "org": org,
            "period": period,
            "title": sel.org_drill_title(metric, value),
            "page": page,
            "query": {"metric": metric, "value": value, "year": period.year, "quarter": period.quarter},
        },
    )


@require_safe
@login_required
def org_export(request: HttpRequest, pk: int) -> HttpResponse:
    org = _dashboard_org(request, pk)
    if (limited := refused_page(request, "export")) is not None:
        return limited
    try:
        _check_params(request, {"metric", "value", "year", "quarter"})
        period = sel.dashboard_period(request.GET)
        metric, value = request.GET.get("metric", ""), request.GET.get("value", "")
        rows = list(
            sel.org_drill_rows(user=request.user, org=org, metric=metric, value=value, period=period)[:EXPORT_MAX_ROWS]
        )
    except ValidationError as exc:
        return _bad_request(request, exc)
    title = f"{org} · {sel.org_drill_title(metric, value)} · {period.label}"
    data = [[r["organization__name"], r["total"]] for r in rows]
    with transaction.atomic():
        audit_log(
            event="dashboard_export",
            obj=org,
            organization=org,
            detail={"list": "organizations", "metric": metric, "value": value, "rows": len(data)},
        )
    return _download(_xlsx(title, ["党组织", "数量"], data, request.user), "dashboard-organizations.xlsx")
