"""The organization department's 工作台: where in the subtree something is overdue or waiting."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse

from activities.compliance import compliance_rollup
from assessments.choices import BatchStatus, RatingStatus, RectificationStatus
from assessments.selectors import batch_list, rating_list, rectification_list
from core.dates import add_months
from dashboard.workbench.items import Entry, Progress, RoleBoard, Section, first
from organizations.choices import OrgType
from organizations.models import Organization
from organizations.selectors import organization_flags, organization_with_flag_data

BATCH_DAYS = 14


def _overdue(root: Organization, on: dt.date) -> tuple[Section, Progress]:
    quarter = (on.month - 1) // 3 + 1
    rollup = compliance_rollup(organization=root, year=on.year, quarter=quarter, on=on)
    counts = Counter(org.pk for org, _ in rollup.overdue_items)
    orgs = {org.pk: org for org, _ in rollup.overdue_items}
    entries = [
        Entry(
            title=orgs[pk].name,
            detail="、".join(sorted({i.label for o, i in rollup.overdue_items if o.pk == pk})),
            when=f"{n} 项逾期",
            url=reverse("activities:compliance", args=[pk]),
            action="查看",
            level="danger",
        )
        for pk, n in counts.most_common()
    ]
    shown, total = first(entries)
    section = Section(
        key="overdue_orgs",
        title="组织生活逾期的党组织",
        icon="exclamation-triangle",
        empty="下属党组织本季度组织生活均未逾期",
        entries=shown,
        total=total,
        more_url=reverse("activities:rollup", args=[root.pk]),
        more_label="完成情况汇总",
    )
    tally = rollup.total
    progress = Progress(
        label=f"{root.short_name or root.name} 第 {quarter} 季度按期完成", done=tally.done, total=tally.judged
    )
    return section, progress


def _terms(root: Organization, on: dt.date) -> Section:
    horizon = add_months(on, settings.PB_TERM_WARNING_MONTHS)
    orgs = (
        organization_with_flag_data(Organization.objects.filter(path__startswith=root.path))
        .exclude(org_type=OrgType.GROUP)
        .annotate(expiry=Coalesce(F("term_extended_until"), F("term_expires_on")))
        .filter(Q(expiry__lte=horizon))
        .order_by("expiry", "path")
    )
    entries = []
    for org in orgs:
        flag = next((f for f in organization_flags(org, on=on) if f.code.startswith("term_")), None)
        if flag is None:
            continue
        entries.append(
            Entry(
                title=org.name,
                detail=flag.label,
                url=reverse("organizations:detail", args=[org.pk]),
                action="换届",
                level=flag.level,
            )
        )
    shown, total = first(entries)
    return Section(
        key="terms",
        title=f"{settings.PB_TERM_WARNING_MONTHS} 个月内届满或已届满",
        icon="hourglass-split",
        empty=f"没有 {settings.PB_TERM_WARNING_MONTHS} 个月内届满的党组织",
        entries=shown,
        total=total,
    )


def _reviews(user: Any, root: Organization) -> Section:
    entries = [
        Entry(
            title=f"整改待验收：{item.organization.name}",
            detail=item.problem[:40],
            when=f"时限 {item.deadline:%Y-%m-%d}",
            url=reverse("assessments:rectification-detail", args=[item.pk]),
            action="验收销号",
            level="warning",
        )
        for item in rectification_list(user=user, organization=root, status=RectificationStatus.SUBMITTED)
    ]
    entries += [
        Entry(
            title=f"星级评定待审核：{rating.organization.name}",
            detail=f"{rating.year} 年度",
            url=reverse("assessments:rating-detail", args=[rating.pk]),
            action="审核",
            level="warning",
        )
        for rating in rating_list(user=user, status=RatingStatus.SUBMITTED, organization=root)
    ]
    shown, total = first(entries)
    return Section(
        key="reviews",
        title="待我审核",
        icon="clipboard-check",
        empty="没有等待审核的整改或星级评定",
        entries=shown,
        total=total,
    )


def _batches(user: Any, on: dt.date) -> Section:
    since = on - dt.timedelta(days=BATCH_DAYS)
    batches = batch_list(user=user).filter(
        status__in=[BatchStatus.DONE, BatchStatus.FAILED], finished_at__date__gte=since
    )[:6]
    entries = [
        Entry(
            title=f"{b.organization.name} {b.year} 年第 {b.quarter} 季度督查报告",
            detail=f"{b.done}/{b.total} 份已生成" + (f"，{b.failed} 份失败" if b.failed else ""),
            url=reverse("assessments:batch-detail", args=[b.pk]),
            action="下载",
            level="warning" if b.status == BatchStatus.FAILED else "",
        )
        for b in batches
    ]
    return Section(
        key="batches",
        title=f"近 {BATCH_DAYS} 天生成完的报告",
        icon="file-earmark-pdf",
        empty="近期没有新生成的报告",
        entries=entries,
        more_url=reverse("assessments:report-list"),
        more_label="报告列表",
    )


def org_admin_board(*, user: Any, roots: list[Organization], on: dt.date) -> RoleBoard:
    board = RoleBoard(role="org_admin", title="组织部门")
    for root in roots:
        overdue, progress = _overdue(root, on)
        board.progress.append(progress)
        board.sections += [overdue, _terms(root, on)]
    if roots:
        board.sections += [_reviews(user, roots[0]), _batches(user, on)]
    return board
