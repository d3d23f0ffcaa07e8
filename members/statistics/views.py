"""The 年度党内统计 page (``/members/statistics/<org>/?year=``) and its workbook."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from audit.exports import xlsx_response
from core.access import VIEW, get_for_user, get_scope
from core.dates import today
from core.numbers import is_number
from members.statistics.selectors import imbalance_rows, party_statistics, statistics_rows
from organizations.choices import BRANCH_TYPES
from organizations.models import Organization


def statistics_organization(request: Any, pk: int) -> Organization:
    """The organization, if the user reads its subtree's member data: 404 outside the user's
    reach, 403 for a member or a secretary of a branch asking about the 党委 above."""
    org = get_for_user(Organization, request.user, VIEW, pk=pk)
    scope = get_scope(request.user)
    if not (scope.reads_subtree(org) or (org.org_type in BRANCH_TYPES and scope.may_read_data_of(org))):
        raise PermissionDenied("无权查看该组织的党内统计")
    return org


def statistics_xlsx(request: Any, org: Organization, stats: dict[str, Any]) -> HttpResponse:
    rows: list[tuple[Any, ...]] = [(*row, "") for row in statistics_rows(stats)]
    balance = stats["balance"]
    rows.append(("核对", "年初数 + 增加 − 减少 = 年末数", "", "平衡" if balance["balanced"] else "不平衡"))
    rows += [("不平衡明细", f"{name}（{where}）", "", f"{on:%Y-%m-%d} {change}：{note}")
             for name, where, on, change, note in imbalance_rows(stats)]  # fmt: skip
    year = stats["year"]
    return xlsx_response(
        rows=rows,
        headers=["统计表", "项目", "数量", "说明"],
        filename=f"{org.name}{year}年度党内统计.xlsx",
        request=request,
        title=f"{org.name} {year} 年度党内统计（截至 {year} 年 12 月 31 日）",
        organization=org,
    )


@never_cache
@login_required
def party_statistics_page(request: HttpRequest, pk: int) -> HttpResponse:
    org = statistics_organization(request, pk)
    value = request.GET.get("year", "")
    year = int(value) if is_number(value) and 2000 <= int(value) <= 2100 else today().year - (today().month < 12)
    stats = party_statistics(organization=org, year=year)
    if request.GET.get("format") == "xlsx":
        return statistics_xlsx(request, org, stats)
    sections = [
        ("党员构成（年末）", stats["members"]),
        ("当年发展党员", stats["development"]),
    ]
    return render(
        request,
        "members/statistics.html",
        {"org": org, "year": year, "stats": stats, "sections": sections, "years": range(today().year, 2014, -1)},
    )
