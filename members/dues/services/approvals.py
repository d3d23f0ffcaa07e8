"""Approvals that change what a member owes (少交/免交、调整、批准补交、正当理由)."""


from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from audit.services import audit_log
from core import dates
from core.access import authorize
from members.dues.models import (
    AMOUNT_APPROVALS,
    ApprovalKind,
    DuesApproval,
    DuesFixing,
    DuesMonth,
)
from members.dues.rules import (
    CENT,
    month_start,
)
from members.dues.services.common import Errors, dues_changed, dues_collecting_org
from members.models import Member

# --- Approvals (少交/免交、调整、批准补交、正当理由) ------------------------------------------


@transaction.atomic
def dues_approval_record(
    *,
    member: Member,
    kind: str,
    start_month: date,
    end_month: date | None = None,
    amount: Decimal | None = None,
    reason: str,
    approver: str,
    approved_on: date,
    reference: str = "",
    recorded_by: Any = None,
) -> DuesApproval:
    """Record an approved decision and apply it to the ledger.

    - ``reduce`` / ``exempt`` (困难少交/免交, DF08 §7) and ``change`` (年度内调整) set the monthly
      amount of the unpaid months in range (paid months stay as they were);
    - ``late_payment`` allows 补交 for months more than ``PB_DUES_BACKPAY_MONTHS`` back;
    - ``excused`` marks unpaid months as having a proper reason (no 自行脱党 flag for them).
    """
    authorize(recorded_by, member, message="无权为该党员登记党费审批")
    errors = Errors()
    today = dates.today()
    reason, approver, reference = (reason or "").strip(), (approver or "").strip(), (reference or "").strip()
    if kind not in ApprovalKind.values:
        errors.add("kind", "未知的审批类型")
    if not reason:
        errors.add("reason", "请填写理由")
    if not approver:
        errors.add("approver", "请填写批准人或批准组织")
    if approved_on > today:
        errors.add("approved_on", "批准日期不能晚于今天")
    start_month = month_start(start_month)
    if end_month is None:
        end_month = date(start_month.year, 12, 1) if kind in AMOUNT_APPROVALS else start_month
    end_month = month_start(end_month)
    if end_month < start_month:
        errors.add("end_month", "截止月份不能早于起始月份")
    errors.raise_if_any()

    fixing = None
    if kind in AMOUNT_APPROVALS:
        if end_month.year != start_month.year:
            errors.add("end_month", "调整应在同一年度内；跨年度请在新年度核定时办理")
        fixing = DuesFixing.objects.filter(member=member, year=start_month.year).first()
        if fixing is None:
            errors.add("start_month", f"{start_month.year} 年度党费尚未核定")
        if kind == ApprovalKind.EXEMPT:
            if amount not in (None, Decimal("0")):
                errors.add("amount", "免交时金额应为 0")
            amount = Decimal("0.00")
        elif amount is None:
            errors.add("amount", "请填写调整后的月缴金额")
        elif amount < 0:
            errors.add("amount", "金额不能为负数")
        elif kind == ApprovalKind.REDUCE and fixing is not None and not Decimal("0") < amount < fixing.monthly_amount:
            errors.add("amount", f"少交金额应大于 0 且低于核定的 {fixing.monthly_amount} 元；全部免交请选择“困难免交”")
        if amount is not None and amount > Decimal(settings.PB_DUES_MONTHLY_CAP) and kind == ApprovalKind.CHANGE:
            errors.add(
                "amount", f"月缴金额一般不超过 {settings.PB_DUES_MONTHLY_CAP} 元（本人自愿多交的请在年度核定时登记）"
            )
    elif amount is not None:
        errors.add("amount", "该审批类型不涉及金额")
    errors.raise_if_any()

    org = fixing.organization if fixing is not None else dues_collecting_org(member)
    approval = DuesApproval.objects.create(
        member=member,
        organization=org,
        kind=kind,
        start_month=start_month,
        end_month=end_month,
        amount=amount.quantize(CENT) if amount is not None else None,
        reason=reason[:300],
        approver=approver[:100],
        approved_on=approved_on,
        reference=reference[:100],
        recorded_by=recorded_by if getattr(recorded_by, "is_authenticated", False) else None,
    )
    changed = 0
    if kind in AMOUNT_APPROVALS:
        changed = DuesMonth.objects.filter(
            member=member, month__gte=start_month, month__lte=end_month, paid_on__isnull=True
        ).update(amount_due=approval.amount, approval=approval)
        dues_changed([org.pk])
    audit_log(
        event="dues_approval_record",
        user=approval.recorded_by,
        obj=approval,
        organization=org,
        detail={
            "member_id": member.pk,
            "kind": kind,
            "start_month": f"{start_month:%Y-%m}",
            "end_month": f"{end_month:%Y-%m}",
            "amount": str(approval.amount) if approval.amount is not None else None,
            "months_changed": changed,
        },
    )
    return approval
