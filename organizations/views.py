"""Pages for the organization tree. Views are thin: parse input, call selectors/services, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render

from core.access import CHANGE, VIEW, get_for_user, user_can
from core.forms import attach_errors
from core.numbers import as_id, is_number
from organizations import services
from organizations.forms import (
    OrganizationForm,
    OrganizationSearchForm,
    PositionAssignForm,
    PositionEndForm,
    TermExtendForm,
    TermStartForm,
)
from organizations.models import CommitteeTerm, Organization, Position
from organizations.selectors import organization_detail, organization_flags, organization_list

PAGE_SIZE = 50


@login_required
def organization_tree(request: HttpRequest) -> HttpResponse:
    form = OrganizationSearchForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("查询参数无效")
    search = form.cleaned_data["q"] or ""
    qs = organization_list(user=request.user, search=search, org_type=form.cleaned_data["org_type"])
    paginator = Paginator(qs, PAGE_SIZE)
    page = paginator.get_page(form.cleaned_data["page"] or 1)
    rows = list(page.object_list)
    min_depth = min((org.depth for org in rows), default=1)
    items = [(org, organization_flags(org), org.depth - min_depth) for org in rows]
    return render(
        request,
        "organizations/tree.html",
        {"form": form, "page": page, "items": items, "search": search},
    )


@login_required
def organization_page(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_for_user(Organization, request.user, VIEW, pk=pk)
    form = OrganizationSearchForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("查询参数无效")
    context = organization_detail(
        org=org, children_search=form.cleaned_data["q"] or "", children_page=form.cleaned_data["page"] or 1
    )
    context["can_change"] = user_can(request.user, CHANGE, org)
    context["ancestors"] = [(a, user_can(request.user, VIEW, a, for_org_model=True)) for a in context["ancestors"]]
    return render(request, "organizations/detail.html", context)


def _initial_from(org: Organization) -> dict[str, Any]:
    parent = Organization.objects.parent_of(org)
    return {
        "parent_code": parent.code if parent else "",
        **{field: getattr(org, field) for field in services.ORG_FIELDS},
    }


@login_required
def organization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_for_user(Organization, request.user, CHANGE, pk=pk)
    form = OrganizationForm(request.POST or None, user=request.user, initial=_initial_from(org))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        parent = data.pop("parent_code")
        try:
            services.organization_update(org=org, parent=parent, user=request.user, **data)
        except ValidationError as exc:
            attach_errors(form, exc, {"parent": "parent_code"})
        else:
            messages.success(request, "已保存")
            return redirect("organizations:detail", pk=org.pk)
    return render(request, "organizations/form.html", {"form": form, "org": org, "title": f"编辑 {org}"})


@login_required
def organization_create(request: HttpRequest) -> HttpResponse:
    parent_id = request.GET.get("parent", "")
    initial: dict[str, Any] = {}
    if is_number(parent_id):
        parent = get_for_user(Organization, request.user, CHANGE, pk=as_id(parent_id))
        initial["parent_code"] = parent.code
    elif parent_id:
        return HttpResponseBadRequest("parent 参数无效")
    form = OrganizationForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        parent = data.pop("parent_code")
        try:
            org = services.organization_create(parent=parent, user=request.user, **data)
        except ValidationError as exc:
            attach_errors(form, exc, {"parent": "parent_code"})
        else:
            messages.success(request, f"已新建 {org}")
            return redirect("organizations:detail", pk=org.pk)
    return render(request, "organizations/form.html", {"form": form, "org": None, "title": "新建党组织"})


def _term_form_view(request: HttpRequest, org: Organization, form: Any, action: Any, title: str) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            action(form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "已保存")
            return redirect("organizations:detail", pk=org.pk)
    return render(request, "organizations/form.html", {"form": form, "org": org, "title": title})


@login_required
def term_start(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_for_user(Organization, request.user, CHANGE, pk=pk)
    form = TermStartForm(request.POST or None, initial={"kind": "elected"})
    return _term_form_view(
        request,
        org,
        form,
        lambda data: services.committee_term_start(
            org=org, user=request.user, **{k: v for k, v in data.items() if v not in (None, "")}
        ),
        f"登记换届 · {org}",
    )


@login_required
def term_extend(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_for_user(Organization, request.user, CHANGE, pk=pk)
    term = get_object_or_404(CommitteeTerm, organization=org, ended_on__isnull=True)
    form = TermExtendForm(request.POST or None)
    return _term_form_view(
        request,
        org,
        form,
        lambda data: services.committee_term_extend(
            term=term, until=data["extended_until"], note=data["note"], user=request.user
        ),
        f"批准延期换届 · {org}",
    )


@login_required
def position_assign(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_for_user(Organization, request.user, CHANGE, pk=pk)
    term = CommitteeTerm.objects.filter(organization=org, ended_on__isnull=True).first()
    if term is None:
        messages.error(request, "请先登记本届委员会（换届）")
        return redirect("organizations:detail", pk=org.pk)
    form = PositionAssignForm(request.POST or None)
    return _term_form_view(
        request,
        org,
        form,
        lambda data: services.position_assign(term=term, user=request.user, **data),
        f"任命职务 · {org}",
    )


@login_required
def position_end(request: HttpRequest, pk: int, position_id: int) -> HttpResponse:
    org = get_for_user(Organization, request.user, CHANGE, pk=pk)
    position = get_object_or_404(Position, pk=position_id, term__organization=org, end_on__isnull=True)
    form = PositionEndForm(request.POST or None)
    return _term_form_view(
        request,
        org,
        form,
        lambda data: services.position_end(position=position, end_on=data["end_on"], user=request.user),
        f"结束任职：{position} · {org}",
    )
