"""Recording dues payments: one member's months, or a branch's month at once."""


from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from audit.services import audit_log
from core import dates
from core.access import authorize, get_scope
from members.dues.models import (
    ApprovalKind,
    DuesApproval,
    DuesMonth,
    DuesPayment,
    PaymentMethod,
    RecordedAs,
)
from members.dues.rules import (
    CENT,
    month_start,
    months_back,
)
from members.dues.services.common import Errors, dues_changed, month_label
from members.models import Member
from organizations.models import Organization

# --- Payments ------------------------------------------------------------------------------


@dataclass
class PaymentPlan:
    """A validated payment for one member, ready to write."""

    member: Member
    rows: list[DuesMonth]
    amounts: dict[date, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), Decimal("0.00"))


def _plan_payment(
    *,
    member: Member,
    months: Iterable[date],
    paid_on: date,
    amounts: dict[date, Decimal] | None,
    rows_by_month: dict[date, DuesMonth],
    late_approvals: list[DuesApproval],
    errors: Errors,
    field: str,
) -> PaymentPlan | None:
    """Check one member's payment against the ledger; add Chinese errors under ``field``."""
    months = [month_start(m) for m in months]
    amounts = {month_start(k): v for k, v in (amounts or {}).items()}
    before = len(errors.by_field.get(field, []))
    if not months:
        errors.add(field, "请选择要缴纳的月份")
    if len(set(months)) != len(months):
        errors.add(field, "缴纳月份重复")
    backpay_limit = settings.PB_DUES_BACKPAY_MONTHS
    planned: dict[date, Decimal] = {}
    rows = []
    for month in sorted(set(months)):
        row = rows_by_month.get(month)
        label = month_label(month)
        if row is None:
            errors.add(field, f"{label}的党费尚未核定，不能登记缴纳")
            continue
        if row.paid_on is not None:
            errors.add(field, f"{label}的党费已于 {row.paid_on:%Y-%m-%d} 缴纳")
            continue
        if row.amount_due == 0:
            errors.add(field, f"{label}已批准免交，无需缴纳")
            continue
        amount = amounts.get(month, row.amount_due)
        if amount < 0:
            errors.add(field, "金额不能为负数")
            continue
        if amount != amount.quantize(CENT):
            errors.add(field, "金额最多保留两位小数")
            continue
        if amount < row.amount_due:
            errors.add(field, f"{label}实交 {amount} 元少于应交 {row.amount_due} 元；困难党员少交须先经批准")
            continue
        back = months_back(month, paid_on)
        if back > backpay_limit and not any(a.covers(month) for a in late_approvals):
            errors.add(
                field,
                f"{label}距缴纳日期已超过 {backpay_limit} 个月；补交党费一般不超过 {backpay_limit} 个月，须先登记批准补交记录",
            )
            continue
        planned[month] = amount.quantize(CENT)
        rows.append(row)
    if len(errors.by_field.get(field, [])) > before:
        return None
    return PaymentPlan(member=member, rows=rows, amounts=planned)


def _check_payment_header(*, paid_on: date, method: str, errors: Errors) -> None:
    if paid_on > dates.today():
        errors.add("paid_on", "缴纳日期不能晚于今天")
    if method not in PaymentMethod.values:
        errors.add("method", "未知的缴纳方式")


def _write_payments(
    plans: list[PaymentPlan], *, paid_on: date, method: str, recorded_by: Any, note: str
) -> list[DuesPayment]:
    """One payment per plan and its ledger months, in two queries whatever the number of plans."""
    user = recorded_by if getattr(recorded_by, "is_authenticated", False) else None
    payments = [
        DuesPayment(
            member=plan.member,
            organization_id=plan.rows[0].organization_id,
            paid_on=paid_on,
            total=plan.total,
            months_count=len(plan.rows),
            method=method,
            recorded_by=user,
            # 本人登记 when the member records it; otherwise the branch records it for them (代为登记)
            recorded_as=RecordedAs.SELF
            if user is not None and plan.member.user_id == user.pk
            else RecordedAs.ON_BEHALF,
            note=note[:200],
        )
        for plan in plans
    ]
    DuesPayment.objects.bulk_create(payments)
    rows = []
    for plan, payment in zip(plans, payments, strict=True):
        for row in plan.rows:
            row.amount_paid = plan.amounts[row.month]
            row.paid_on = paid_on
            row.payment = payment
            rows.append(row)
    DuesMonth.objects.bulk_update(rows, ["amount_paid", "paid_on", "payment"], batch_size=1000)
    dues_changed(row.organization_id for row in rows)
    return payments


def _late_approvals(member_ids: list[int]) -> dict[int, list[DuesApproval]]:
    by_member: dict[int, list[DuesApproval]] = {}
    for approval in DuesApproval.objects.filter(member_id__in=member_ids, kind=ApprovalKind.LATE_PAYMENT):
        by_member.setdefault(approval.member_id, []).append(approval)
    return by_member


@transaction.atomic
def dues_payment_record(
    *,
    member: Member,
    months: list[date],
    paid_on: date,
    recorded_by: Any = None,
    amounts: dict[date, Decimal] | None = None,
    method: str = PaymentMethod.CASH,
    note: str = "",
) -> DuesPayment:
    """Record that a member paid for one or more months (prepayment for several months included).

    Refused, with nothing saved: a month not yet fixed or already paid, a negative amount or one
    below what is due, a month more than ``PB_DUES_BACKPAY_MONTHS`` (6) before the payment date
    without a ``late_payment`` approval, a payment date in the future, months of two branches.
    ``recorded_as`` is ``self`` when the member records it, else ``on_behalf`` (代为登记).
    """
    if recorded_by is None or get_scope(recorded_by).member_id != member.pk:  # a member pays their own
        authorize(recorded_by, member, message="无权为该党员登记党费")
    errors = Errors()
    _check_payment_header(paid_on=paid_on, method=method, errors=errors)
    wanted = [month_start(m) for m in months]
    rows = {
        row.month: row
        for row in DuesMonth.objects.select_for_update().filter(member=member, month__in=wanted).order_by("month")
    }
    plan = _plan_payment(
        member=member,
        months=wanted,
        paid_on=paid_on,
        amounts=amounts,
        rows_by_month=rows,
        late_approvals=_late_approvals([member.pk]).get(member.pk, []),
        errors=errors,
        field="months",
    )
    if plan is not None and len({row.organization_id for row in plan.rows}) > 1:
        errors.add("months", "所选月份属于不同的党支部，请分别登记")
    errors.raise_if_any()
    assert plan is not None
    (payment,) = _write_payments([plan], paid_on=paid_on, method=method, recorded_by=recorded_by, note=note)
    audit_log(
        event="dues_payment_record",
        user=payment.recorded_by,
        obj=payment,
        organization=payment.organization,
        detail={
            "member_id": member.pk,
            "months": [f"{row.month:%Y-%m}" for row in plan.rows],
            "total": str(payment.total),
            "recorded_as": payment.recorded_as,
        },
    )
    return payment


@transaction.atomic
def dues_branch_payments_record(
    *,
    organization: Organization,
    month: date,
    entries: list[tuple[int, Decimal | None]],
    paid_on: date,
    recorded_by: Any = None,
    method: str = PaymentMethod.CASH,
) -> list[DuesPayment]:
    """One submit for the whole branch: record ``month`` for each (member id, amount) entry.

    All or nothing: when any entry is refused, the errors come back keyed ``member_<id>`` and no
    payment is saved. An amount of ``None`` means "what is due".
    """
    authorize(recorded_by, organization, message="无权为该党组织登记党费")
    errors = Errors()
    _check_payment_header(paid_on=paid_on, method=method, errors=errors)
    month = month_start(month)
    if not entries:
        errors.add("entries", "请至少勾选一名党员")
    member_ids = [member_id for member_id, _ in entries]
    if len(set(member_ids)) != len(member_ids):
        errors.add("entries", "同一党员重复登记")
    errors.raise_if_any()
    rows = {
        row.member_id: row
        for row in DuesMonth.objects.select_for_update()
        .filter(organization=organization, month=month, member_id__in=member_ids)
        .select_related("member")
    }
    late = _late_approvals(member_ids)
    plans = []
    for member_id, amount in entries:
        row = rows.get(member_id)
        field = f"member_{member_id}"
        if row is None:
            errors.add(field, f"该党员{month_label(month)}的党费未在本支部核定")
            continue
        plan = _plan_payment(
            member=row.member,
            months=[month],
            paid_on=paid_on,
            amounts={month: amount} if amount is not None else None,
            rows_by_month={month: row},
            late_approvals=late.get(member_id, []),
            errors=errors,
            field=field,
        )
        if plan is not None:
            plans.append(plan)
    errors.raise_if_any()
    payments = _write_payments(plans, paid_on=paid_on, method=method, recorded_by=recorded_by, note="")
    audit_log(
        event="dues_payments_record_branch",
        user=recorded_by if getattr(recorded_by, "is_authenticated", False) else None,
        obj=organization,
        organization=organization,
        detail={
            "month": f"{month:%Y-%m}",
            "member_ids": member_ids,
            "count": len(payments),
            "total": str(sum((p.total for p in payments), Decimal("0.00"))),
        },
    )
    return payments
