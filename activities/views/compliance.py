"""Organizational life at a glance, the compliance calendar and its roll-up, waivers and the rule
table."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from activities.compliance import (
    compliance_items,
    compliance_rollup,
    grace_days,
    party_group_items,
    user_is_org_admin_over,
    year_grid,
)
from activities.forms import RuleChangeForm, WaiverForm
from activities.models import ComplianceRule
from activities.selectors import managed_organizations
from activities.services.compliance import compliance_rule_change, compliance_waive
from activities.views._common import attach_errors, organization_for, year_and_quarter
from core.access import CHANGE, VIEW, get_scope, user_can
from core.dates import today
from organizations.choices import BRANCH_TYPES, OrgType
from organizations.models import Organization


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """组织生活: the organizations the user records for, with this year's compliance at a glance."""
    orgs = managed_organizations(user=request.user)
    scope = get_scope(request.user)
    if not orgs and scope.member_id:
        return redirect("activities:my_study")
    if not orgs:
        raise Http404("没有可查看的组织")
    on = today()
    year = on.year
    rows = []
    branch_paths = {org.path for org in orgs[:20] if org.org_type in BRANCH_TYPES}
    for org in orgs[:20]:
        if org.org_type == OrgType.GROUP and org.path[: -Organization.steplen] in branch_paths:
            continue  # listed under its branch
        items = compliance_items(organization=org, year=year)
        current = [i for i in items if i.period_start <= on <= i.deadline]
        overdue = sum(1 for i in items if i.status == "overdue")
        groups = [
            (group, [i for i in group_items if i.period_start <= on <= i.deadline])
            for group, group_items in _group_items(request, org, year)
        ]
        rows.append((org, current, overdue, user_can(request.user, CHANGE, org), groups))
    return render(request, "activities/index.html", {"rows": rows, "year": year})


def _group_items(request: HttpRequest, org: Organization, year: int) -> list:
    """A branch's 党小组s that the user may see, with their items of the year."""
    if org.org_type not in BRANCH_TYPES:
        return []
    pairs = party_group_items(branch=org, year=year)
    ids = [group.pk for group, _items in pairs]
    visible = set(Organization.objects.visible_to(request.user, VIEW).filter(pk__in=ids).values_list("pk", flat=True))
    return [(group, items) for group, items in pairs if group.pk in visible]


@login_required
def compliance_home(request: HttpRequest) -> HttpResponse:
    orgs = managed_organizations(user=request.user)
    if not orgs:
        raise Http404("没有可查看的组织")
    org = orgs[0]
    if org.org_type in BRANCH_TYPES or org.org_type == OrgType.GROUP:
        return redirect("activities:compliance", pk=org.pk)
    return redirect("activities:rollup", pk=org.pk)


@login_required
def compliance(request: HttpRequest, pk: int) -> HttpResponse:
    org = organization_for(request, pk)
    year, _ = year_and_quarter(request)
    items = compliance_items(organization=org, year=year)
    parent = Organization.objects.parent_of(org)
    can_waive = parent is not None and user_is_org_admin_over(request.user, parent)
    on = today()
    current = [i for i in items if i.period_start <= on <= i.deadline]
    overdue = [i for i in items if i.status == "overdue"]
    groups = [
        {
            "org": group,
            "current": [i for i in group_items if i.period_start <= on <= i.deadline],
            "overdue": [i for i in group_items if i.status == "overdue"],
            "can_change": user_can(request.user, CHANGE, group),
        }
        for group, group_items in _group_items(request, org, year)
    ]
    return render(
        request,
        "activities/compliance.html",
        {
            "org": org,
            "year": year,
            "grid": year_grid(items),
            "months": range(1, 13),
            "current": current,
            "overdue": overdue,
            "groups": groups,
            "group_can_waive": user_is_org_admin_over(request.user, org) if groups else False,
            "can_waive": can_waive,
            "is_branch": org.org_type in BRANCH_TYPES or org.org_type == OrgType.GROUP,
            "can_change": user_can(request.user, CHANGE, org),
            "today": today(),
            "grace": grace_days(),
        },
    )


@login_required
def rollup(request: HttpRequest, pk: int) -> HttpResponse:
    org = organization_for(request, pk)
    year, quarter = year_and_quarter(request)
    result = compliance_rollup(organization=org, year=year, quarter=quarter)
    return render(
        request,
        "activities/rollup.html",
        {
            "org": org,
            "year": year,
            "quarter": quarter,
            "rollup": result,
            "overdue": result.overdue_items[:50],
            "quarters": [1, 2, 3, 4],
        },
    )


@login_required
def waive(request: HttpRequest, pk: int) -> HttpResponse:
    org = organization_for(request, pk)
    parent = Organization.objects.parent_of(org)
    if parent is None or not user_is_org_admin_over(request.user, parent):
        raise PermissionDenied("免于事项须由上级党组织批准")
    initial = {"kind": request.GET.get("kind", ""), "period_start": request.GET.get("start", "")}
    form = WaiverForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            compliance_waive(user=request.user, organization=org, **form.cleaned_data)
        except ValidationError as exc:
            for error in attach_errors(form, exc):
                form.add_error(None, error)
        else:
            messages.success(request, "已批准免于该事项")
            return redirect(
                reverse("activities:compliance", args=[org.pk]) + f"?year={form.cleaned_data['period_start'].year}"
            )
    return render(request, "activities/waive.html", {"org": org, "form": form}, status=400 if form.errors else 200)


@login_required
def rules(request: HttpRequest, pk: int) -> HttpResponse:
    """The rule table in force for this organization's subtree; an org_admin adds new versions."""
    org = organization_for(request, pk)
    can_edit = user_is_org_admin_over(request.user, org)
    form = RuleChangeForm(
        request.POST or None,
        initial={"effective_from": today(), "is_active": True, "org_type": OrgType.BRANCH, "minimum": 1},
    )
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("只有组织部门（org_admin）可以调整合规规则")
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                compliance_rule_change(
                    user=request.user,
                    organization=org,
                    org_type=data.pop("org_type"),
                    kind=data.pop("kind"),
                    effective_from=data.pop("effective_from"),
                    **data,
                )
            except ValidationError as exc:
                for error in attach_errors(form, exc):
                    form.add_error(None, error)
            else:
                messages.success(request, "已新增规则版本；已开始的周期仍按原规则判断")
                return redirect("activities:rules", pk=org.pk)
    step = Organization.steplen
    ancestor_paths = [org.path[: step * i] for i in range(1, org.depth + 1)]
    rows = list(
        ComplianceRule.objects.filter(Q(organization__isnull=True) | Q(organization__path__in=ancestor_paths)).order_by(
            "org_type", "kind", "effective_from", "pk"
        )
    )
    scope_names = dict(Organization.objects.filter(path__in=ancestor_paths).values_list("pk", "name"))
    for row in rows:
        row.scope_name = scope_names.get(row.organization_id, "系统默认")
    return render(
        request,
        "activities/rules.html",
        {"org": org, "rows": rows, "form": form, "can_edit": can_edit},
        status=400 if form.errors else 200,
    )
