"""整改: findings become items with a requirement, owner and deadline; the organization reports
completion with evidence; a reviewer above signs it off (销号) or sends it back."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from assessments.choices import RectificationSource, RectificationStatus
from assessments.models import InspectionReport, RectificationItem
from assessments.services.ratings import is_org_editor
from audit.services import audit_log
from core.access import CHANGE, get_scope, user_can
from core.dates import today
from organizations.models import Organization

EDITABLE = ("problem", "requirement", "owner_name", "deadline")


def can_sign_off(user: Any, item: RectificationItem) -> bool:
    """Sign-off comes from above: CHANGE over the parent organization."""
    parent = Organization.objects.parent_of(item.organization)
    return parent is not None and get_scope(user).may_record_for(parent)


def _clean(problem: str, requirement: str, owner_name: str, deadline: Any) -> dict[str, Any]:
    errors: dict[str, str] = {}
    problem = (problem or "").strip()
    requirement = (requirement or "").strip()
    owner_name = (owner_name or "").strip()
    if not problem:
        errors["problem"] = "请填写存在的问题"
    if not requirement:
        errors["requirement"] = "请填写整改要求"
    if not owner_name:
        errors["owner_name"] = "请填写责任人"
    if not isinstance(deadline, date):
        errors["deadline"] = "请填写整改时限"
    if errors:
        raise ValidationError(errors)
    return {"problem": problem, "requirement": requirement, "owner_name": owner_name[:50], "deadline": deadline}


@transaction.atomic
def rectification_create(
    *,
    organization: Organization,
    user: Any,
    problem: str,
    requirement: str,
    owner_name: str,
    deadline: date,
    source: str = RectificationSource.INSPECTION,
    source_report: InspectionReport | None = None,
    owner: Any = None,
) -> RectificationItem:
    if not user_can(user, CHANGE, organization):
        raise PermissionDenied("无权为该组织登记整改事项")
    data = _clean(problem, requirement, owner_name, deadline)
    if source not in RectificationSource.values:
        raise ValidationError({"source": "未知的来源"})
    if source_report is not None and not organization.path.startswith(source_report.organization.path):
        raise ValidationError({"source_report": "来源报告不存在"})
    if data["deadline"] < today() and source != RectificationSource.OTHER:
        raise ValidationError({"deadline": "整改时限不能早于今天"})
    item = RectificationItem.objects.create(
        organization=organization,
        source=source,
        source_report=source_report,
        owner=owner,
        created_by=user,
        **data,
    )
    audit_log(
        event="rectification_create",
        user=user,
        obj=item,
        organization=organization,
        detail={"deadline": item.deadline.isoformat(), "source": source},
    )
    return item


@transaction.atomic
def rectification_update(*, item: RectificationItem, user: Any, **data: Any) -> RectificationItem:
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: "不支持的字段" for name in sorted(unknown)})
    if not user_can(user, CHANGE, item.organization):
        raise PermissionDenied("无权修改该整改事项")
    if item.status == RectificationStatus.CLOSED:
        raise ValidationError({"status": "已销号的整改事项不能修改"})
    merged = {field: data.get(field, getattr(item, field)) for field in EDITABLE}
    cleaned = _clean(**merged)
    for field, value in cleaned.items():
        setattr(item, field, value)
    item.save()
    audit_log(
        event="rectification_update",
        user=user,
        obj=item,
        organization=item.organization,
        detail={"fields": sorted(data)},
    )
    return item


@transaction.atomic
def rectification_submit(
    *, item: RectificationItem, user: Any, completion_note: str, completed_on: date | None = None
) -> RectificationItem:
    item = RectificationItem.objects.select_for_update().get(pk=item.pk)
    if not (is_org_editor(user, item.organization) or user_can(user, CHANGE, item.organization)):
        raise PermissionDenied("无权报送整改情况")
    if item.status != RectificationStatus.OPEN:
        raise ValidationError({"status": "该整改事项不在整改中"})
    completion_note = (completion_note or "").strip()
    if len(completion_note) < 4:
        raise ValidationError({"completion_note": "请说明整改完成情况"})
    completed_on = completed_on or today()
    if completed_on > today():
        raise ValidationError({"completed_on": "完成日期不能晚于今天"})
    item.completion_note = completion_note
    item.completed_on = completed_on
    item.status = RectificationStatus.SUBMITTED
    item.save()
    audit_log(event="rectification_submit", user=user, obj=item, organization=item.organization)
    return item


@transaction.atomic
def rectification_sign_off(*, item: RectificationItem, user: Any, accept: bool, note: str = "") -> RectificationItem:
    item = RectificationItem.objects.select_for_update().get(pk=item.pk)
    if not can_sign_off(user, item):
        raise PermissionDenied("只有上级党组织可以验收销号")
    if item.status != RectificationStatus.SUBMITTED:
        raise ValidationError({"status": "只有已报送整改情况的事项可以验收"})
    note = (note or "").strip()
    if not accept and len(note) < 4:
        raise ValidationError({"review_note": "不予销号须说明理由"})
    item.reviewer = user
    item.reviewer_name = user.get_full_name() or user.username
    item.reviewed_at = timezone.now()
    item.review_note = note
    item.status = RectificationStatus.CLOSED if accept else RectificationStatus.OPEN
    item.save()
    audit_log(
        event="rectification_sign_off" if accept else "rectification_reject",
        user=user,
        obj=item,
        organization=item.organization,
        detail={"accepted": accept},
    )
    return item
