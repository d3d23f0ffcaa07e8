"""The audit log search page and its XLSX export: for the auditor role only (三员)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from audit.exports import xlsx_response
from audit.forms import AuditSearchForm
from audit.selectors import EVENT_LABELS, audit_event_list, audit_scope_q
from audit.services import audit_log
from audit.throttle import refused_page

PAGE_SIZE = 50
EXPORT_LIMIT = 50_000


def _auditor_only(request: HttpRequest) -> None:
    if audit_scope_q(request.user) is None:
        raise PermissionDenied("审计日志仅审计员可以查看")


def _describe(filters: dict) -> dict:
    return {
        key: (value.isoformat() if hasattr(value, "isoformat") else value) for key, value in filters.items() if value
    }


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    _auditor_only(request)
    form = AuditSearchForm(request.GET)
    if not form.is_valid():
        return render(request, "audit/list.html", {"form": form, "page": None, "labels": EVENT_LABELS}, status=400)
    filters = form.filters()
    qs = audit_event_list(user=request.user, **filters)
    page = Paginator(qs, PAGE_SIZE).get_page(form.cleaned_data["page"] or 1)
    page.object_list = list(page.object_list)
    for event in page.object_list:
        event.label = EVENT_LABELS.get(event.event, event.event)
    audit_log(event="audit_query", detail={"filters": _describe(filters), "page": page.number})
    return render(request, "audit/list.html", {"form": form, "page": page, "labels": EVENT_LABELS})


@login_required
def audit_export(request: HttpRequest) -> HttpResponse:
    _auditor_only(request)
    if (limited := refused_page(request, "export")) is not None:
        return limited
    form = AuditSearchForm(request.GET)
    if not form.is_valid():
        return render(request, "audit/list.html", {"form": form, "page": None, "labels": EVENT_LABELS}, status=400)
    filters = form.filters()
    qs = audit_event_list(user=request.user, **filters)[:EXPORT_LIMIT]
    rows = (
        (
            timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            e.username,
            e.roles,
            e.ip_address or "",
            EVENT_LABELS.get(e.event, e.event),
            e.event,
            e.outcome,
            e.object_type,
            e.object_id,
            e.organization.name if e.organization_id and e.organization else "",
            e.request_id,
            str(e.detail),
        )
        for e in qs.iterator(chunk_size=2000)
    )
    return xlsx_response(
        rows=rows,
        headers=[
            "时间",
            "用户名",
            "角色",
            "来源地址",
            "事件",
            "事件代码",
            "结果",
            "对象类型",
            "对象编号",
            "党组织",
            "请求编号",
            "详情",
        ],
        filename=f"审计日志_{timezone.localdate():%Y%m%d}.xlsx",
        request=request,
        title="审计日志",
    )
