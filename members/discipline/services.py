"""Writes for 处分/组织处置, suspended rights and the status procedures.

``member_status_change`` is the status procedure (停止党籍, 恢复党籍, 除名, 开除党籍, 去世): the only
writer of ``Member.membership_status`` besides transfers (转出) and the development pipeline
(取消预备党员资格). 开除党籍 and 除名 recorded as a sanction go through it, with the decision's 文号.
Every function takes the acting user (``recorded_by``; None = system call), validates everything
first (Chinese messages by field, nothing written on refusal) and writes the audit log in the same
transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import audit_log
from core.access import authorize
from core.dates import add_months, today
from members.choices import PARTY_MEMBER_STAGES, MembershipStatus, TransferStatus
from members.discipline.models import (
    ENDING_KINDS,
    TIMED_KINDS,
    MemberSanction,
    MembershipStatusChange,
    RightsSuspension,
    SanctionKind,
    SuspensionReason,
)
from members.dues.rules import month_start
from members.dues.services.ledger import dues_ledger_close, dues_ledger_reopen
from members.models import Member, MemberTransfer, OrganizationMembership
from members.services import FieldErrors
from organizations.models import Organization

# Which status procedure may follow which status.
STATUS_TRANSITIONS = {
    MembershipStatus.NORMAL: {
        MembershipStatus.SUSPENDED,
        MembershipStatus.REMOVED,
        MembershipStatus.EXPELLED,
        MembershipStatus.DECEASED,
    },
    MembershipStatus.SUSPENDED: {
        MembershipStatus.NORMAL,
        MembershipStatus.REMOVED,
        MembershipStatus.EXPELLED,
        MembershipStatus.DECEASED,
    },
}
PROCEDURE_LABELS = {
    MembershipStatus.NORMAL: "恢复党籍",
    MembershipStatus.SUSPENDED: "停止党籍",
    MembershipStatus.REMOVED: "除名",
    MembershipStatus.EXPELLED: "开除党籍",
    MembershipStatus.DECEASED: "去世",
}
# Statuses that end the membership: the roster row closes and the dues ledger stops.
LEAVING = {MembershipStatus.REMOVED, MembershipStatus.EXPELLED, MembershipStatus.DECEASED}
NEEDS_BASIS = {MembershipStatus.REMOVED, MembershipStatus.EXPELLED}


def _check_day(errors: FieldErrors, field: str, value: date | None, label: str, member: Member) -> None:
    if value is None:
        errors.add(field, f"请填写{label}")
    elif value > today():
        errors.add(field, f"{label}不能晚于今天")
    elif member.joined_on and value < member.joined_on:
        errors.add(field, f"{label}不能早于加入党组织日期")


@transaction.atomic
def member_status_change(
    *,
    member: Member,
    status: str,
    on: date,
    basis: str = "",
    reason: str = "",
    recorded_by: Any = None,
    sanction: MemberSanction | None = None,
) -> MembershipStatusChange:
    """Run one status procedure: 停止党籍 (with reason), 恢复党籍, 除名 and 开除党籍 (with the 文号 of
    the decision), 去世. From ``on`` the member is no longer expected at meetings, has no vote and
    owes no dues (the ledger stops from the next month); 恢复党籍 reverses that from ``on``."""
    authorize(recorded_by, member, message="无权变更该党员的党籍状态")
    member = Member.objects.select_for_update(of=("self",)).select_related("organization").get(pk=member.pk)
    errors = FieldErrors()
    current = member.membership_status
    label = PROCEDURE_LABELS.get(status, "")
    if status not in PROCEDURE_LABELS:
        errors.add("status", "不支持的党籍状态变更")
    elif member.stage not in PARTY_MEMBER_STAGES:
        errors.add("status", "入党申请人、积极分子和发展对象没有党籍，不能办理党籍状态变更")
    elif status not in STATUS_TRANSITIONS.get(current, set()):
        errors.add("status", f"党籍状态为“{member.get_membership_status_display()}”，不能办理{label}")
    _check_day(errors, "on", on, "日期", member)
    last = MembershipStatusChange.objects.filter(member=member).order_by("-on").values_list("on", flat=True).first()
    if on and last and on < last:
        errors.add("on", f"日期不能早于上一次党籍状态变更（{last:%Y-%m-%d}）")
    basis, reason = (basis or "").strip(), (reason or "").strip()
    if status in NEEDS_BASIS and not basis:
        errors.add("basis", f"{label}应填写决定的文号")
    if status == MembershipStatus.SUSPENDED and not reason:
        errors.add("reason", "停止党籍应填写原因（如失联满六个月、出国定居等）")
    if MemberTransfer.objects.filter(member=member, status=TransferStatus.PENDING).exists():
        errors.add("status", "该党员有一笔待接收的组织关系转接，请先办结或撤销")
    errors.raise_if_any()
    change = MembershipStatusChange.objects.create(
        member=member,
        from_status=current,
        to_status=status,
        on=on,
        basis=basis,
        reason=reason,
        sanction=sanction,
        organization=member.organization,
        recorded_by=recorded_by,
    )
    member.membership_status = status
    member.suspended_on = on if status == MembershipStatus.SUSPENDED else None
    member.save(update_fields=["membership_status", "suspended_on", "updated_at"])
    if status in LEAVING:
        OrganizationMembership.objects.select_for_update().filter(member=member, end_on__isnull=True).update(
            end_on=on
        )
    next_month = add_months(month_start(on), 1)
    if status == MembershipStatus.NORMAL:
        dues_ledger_reopen(member=member, from_month=month_start(on))
    elif current == MembershipStatus.NORMAL:
        dues_ledger_close(member=member, from_month=next_month, reason=label)
    audit_log(
        event="member_status_change",
        user=recorded_by,
        obj=member,
        organization=member.organization,
        detail={"member_id": member.pk, "from": current, "to": status, "on": f"{on:%Y-%m-%d}", "basis": basis},
    )
    return change


@transaction.atomic
def member_sanction_record(
    *,
    member: Member,
    kind: str,
    decided_on: date,
    until: date | None = None,
    basis: str = "",
    deciding_organization: Organization | None = None,
    deciding_body: str = "",
    note: str = "",
    recorded_by: Any = None,
) -> MemberSanction:
    """Record a 处分 or 组织处置. 留党察看 (≤ 2 years) and 限期改正 (≤ 1 year) carry the last day of
    their period; 开除党籍 and 除名 end the membership through ``member_status_change``."""
    authorize(recorded_by, member, message="无权为该党员登记处分或组织处置")
    errors = FieldErrors()
    if kind not in SanctionKind.values:
        errors.add("kind", "未知的处分或处置种类")
    if member.stage not in PARTY_MEMBER_STAGES:
        errors.add("member", "处分和组织处置只适用于党员")
    _check_day(errors, "decided_on", decided_on, "决定日期", member)
    label = SanctionKind(kind).label if kind in SanctionKind.values else ""
    months = TIMED_KINDS.get(kind)
    if months:
        if until is None:
            errors.add("until", f"{label}应填写期满日期")
        elif decided_on and (until <= decided_on or until > add_months(decided_on, months)):
            limit = "两年" if months == 24 else "一年"
            errors.add("until", f"{label}期满日期应在决定日期之后，最长不超过{limit}")
    elif until is not None:
        errors.add("until", "只有留党察看和限期改正填写期满日期")
    if deciding_organization is not None and not member.organization.path.startswith(deciding_organization.path):
        errors.add("deciding_organization", "决定机关应为党员所在的党组织或其上级党组织")
    if kind in ENDING_KINDS and not (basis or "").strip():
        errors.add("basis", f"{label}应填写决定的文号")
    errors.raise_if_any()
    sanction = MemberSanction.objects.create(
        member=member,
        kind=kind,
        decided_on=decided_on,
        until=until,
        basis=(basis or "").strip(),
        deciding_organization=deciding_organization,
        deciding_body=(deciding_body or "").strip(),
        note=(note or "").strip(),
        recorded_by=recorded_by,
    )
    if kind in ENDING_KINDS:
        member_status_change(
            member=member,
            status=ENDING_KINDS[kind],
            on=decided_on,
            basis=sanction.basis,
            reason=label,
            recorded_by=recorded_by,
            sanction=sanction,
        )
    audit_log(
        event="member_sanction_record",
        user=recorded_by,
        obj=sanction,
        organization=member.organization,
        detail={"member_id": member.pk, "kind": kind, "decided_on": f"{decided_on:%Y-%m-%d}", "basis": sanction.basis},
    )
    return sanction


@transaction.atomic
def rights_suspension_record(
    *,
    member: Member,
    reason: str,
    start_on: date,
    end_on: date | None = None,
    basis: str = "",
    note: str = "",
    recorded_by: Any = None,
) -> RightsSuspension:
    """Record a period of suspended rights (留置/逮捕, XJ §5): no vote from ``start_on`` until
    ``end_on`` (the first day back; empty while it lasts)."""
    authorize(recorded_by, member, message="无权为该党员登记暂停权利")
    errors = FieldErrors()
    if reason not in SuspensionReason.values:
        errors.add("reason", "原因应为留置或逮捕")
    if member.stage not in PARTY_MEMBER_STAGES:
        errors.add("member", "暂停党员权利只适用于党员")
    _check_day(errors, "start_on", start_on, "起始日期", member)
    if end_on is not None and start_on is not None and end_on <= start_on:
        errors.add("end_on", "恢复日期应晚于起始日期")
    if start_on is not None:
        overlapping = RightsSuspension.objects.filter(member=member, start_on__lte=end_on or date.max).exclude(
            end_on__isnull=False, end_on__lte=start_on
        )
        if overlapping.exists():
            errors.add("start_on", "与已登记的暂停权利期间重叠")
    errors.raise_if_any()
    suspension = RightsSuspension.objects.create(
        member=member,
        reason=reason,
        start_on=start_on,
        end_on=end_on,
        basis=(basis or "").strip(),
        note=(note or "").strip(),
        recorded_by=recorded_by,
    )
    audit_log(
        event="rights_suspension_record",
        user=recorded_by,
        obj=suspension,
        organization=member.organization,
        detail={"member_id": member.pk, "reason": reason, "start_on": f"{start_on:%Y-%m-%d}"},
    )
    return suspension


@transaction.atomic
def rights_suspension_end(*, suspension: RightsSuspension, end_on: date, recorded_by: Any = None) -> RightsSuspension:
    """The rights are back from ``end_on``."""
    suspension = RightsSuspension.objects.select_for_update().select_related("member__organization").get(
        pk=suspension.pk
    )
    authorize(recorded_by, suspension.member, message="无权为该党员登记恢复权利")
    if suspension.end_on is not None:
        raise ValidationError({"end_on": "该期间已登记恢复日期"})
    if end_on is None or end_on <= suspension.start_on:
        raise ValidationError({"end_on": "恢复日期应晚于起始日期"})
    if end_on > today():
        raise ValidationError({"end_on": "恢复日期不能晚于今天"})
    suspension.end_on = end_on
    suspension.save(update_fields=["end_on"])
    audit_log(
        event="rights_suspension_end",
        user=recorded_by,
        obj=suspension,
        organization=suspension.member.organization,
        detail={"member_id": suspension.member_id, "end_on": f"{end_on:%Y-%m-%d}"},
    )
    return suspension
