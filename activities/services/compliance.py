"""Writes to the compliance calendar: new versions of a rule, and waivers of a due item. The
reads (which rule applies, each item's status, the roll-ups) are in ``activities.compliance``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from activities.choices import ComplianceKind, Period
from activities.compliance import user_is_org_admin_over
from activities.models import ComplianceRule, ComplianceWaiver
from audit.services import audit_log
from core.access import CHANGE, user_can
from core.dates import today
from organizations.choices import OrgType
from organizations.models import Organization

RULE_FIELDS = ("period", "quarter", "minimum", "requires_committee", "is_active", "basis")


@transaction.atomic
def compliance_rule_change(
    *, user: Any, organization: Organization, org_type: str, kind: str, effective_from: dt.date, **values: Any
) -> ComplianceRule:
    """A new version of a rule for ``organization``'s subtree, in force from ``effective_from``
    (today or later). The version it replaces is closed, never edited, so past periods keep it."""
    if not user_is_org_admin_over(user, organization):
        raise ValidationError({"organization": "只有上级党组织的组织部门（org_admin）可以调整合规规则"})
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({name: "不支持的字段" for name in unknown})
    errors: dict[str, str] = {}
    if org_type not in OrgType.values:
        errors["org_type"] = "组织类别无效"
    if kind not in ComplianceKind.values:
        errors["kind"] = "事项无效"
    if effective_from < today():
        errors["effective_from"] = "生效日期不能早于今天（已开始的周期保留原规则）"
    period = values.get("period", Period.MONTH)
    if period not in Period.values:
        errors["period"] = "周期无效"
    quarter = values.get("quarter")
    if quarter is not None and (period != Period.YEAR or quarter not in (1, 2, 3, 4)):
        errors["quarter"] = "限定季度只用于年度事项，应为 1 至 4"
    minimum = values.get("minimum", 1)
    if not isinstance(minimum, int) or minimum < 1 or minimum > 1000:
        errors["minimum"] = "最低次数应为 1 至 1000 之间的整数"
    if errors:
        raise ValidationError(errors)
    current = (
        ComplianceRule.objects.select_for_update()
        .filter(organization=organization, org_type=org_type, kind=kind, effective_until__isnull=True)
        .first()
    )
    if current is not None:
        if current.effective_from >= effective_from:
            current.delete()  # it never took effect
        else:
            current.effective_until = effective_from
            current.save(update_fields=["effective_until"])
    rule = ComplianceRule.objects.create(
        organization=organization,
        org_type=org_type,
        kind=kind,
        period=period,
        quarter=quarter,
        minimum=minimum,
        requires_committee=bool(values.get("requires_committee", False)),
        is_active=bool(values.get("is_active", True)),
        basis=(values.get("basis") or "")[:100],
        effective_from=effective_from,
        created_by=user,
    )
    audit_log(
        event="compliance_rule_change",
        user=user,
        obj=rule,
        organization=organization,
        detail={
            "org_type": org_type,
            "kind": kind,
            "period": period,
            "minimum": minimum,
            "effective_from": effective_from.isoformat(),
            "is_active": rule.is_active,
        },
    )
    return rule


@transaction.atomic
def compliance_waive(
    *, user: Any, organization: Organization, kind: str, period_start: dt.date, reason: str
) -> ComplianceWaiver:
    """Exempt one due item. Approved by the organization above (its org_admin), with a reason."""
    parent = Organization.objects.parent_of(organization)
    approver_ok = getattr(user, "is_superuser", False) or (
        parent is not None
        and user_can(user, CHANGE, parent, for_org_model=True)
        and user_is_org_admin_over(user, parent)
    )
    if not approver_ok:
        raise ValidationError({"approved_by": "免于事项须由上级党组织批准"})
    errors: dict[str, str] = {}
    if kind not in ComplianceKind.values:
        errors["kind"] = "事项无效"
    if period_start.day != 1:
        errors["period_start"] = "周期开始日期应为某月 1 日"
    if not reason.strip():
        errors["reason"] = "请填写免于原因"
    if (
        not errors
        and ComplianceWaiver.objects.filter(organization=organization, kind=kind, period_start=period_start).exists()
    ):
        errors["period_start"] = "该事项已批准免于"
    if errors:
        raise ValidationError(errors)
    waiver = ComplianceWaiver.objects.create(
        organization=organization, kind=kind, period_start=period_start, reason=reason.strip()[:300], approved_by=user
    )
    audit_log(
        event="compliance_waive",
        user=user,
        obj=waiver,
        organization=organization,
        detail={"kind": kind, "period_start": period_start.isoformat()},
    )
    return waiver
