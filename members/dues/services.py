"""Writes and rules for 党费 (§5): the yearly fixing, approvals, payments, the ledger.

Every service validates everything first, raises ``ValidationError({field: 中文})`` and writes
nothing when it refuses; the writes and their audit record share one transaction.
Authorization is the caller's job (pages and API views fetch through the access gate).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import audit_log
from core import dates
from core.signals import rows_changed
from members.choices import DuesCategory, MembershipStatus, Stage
from members.dues.models import (
    AMOUNT_APPROVALS,
    ApprovalKind,
    BaseMode,
    DuesApproval,
    DuesFixing,
    DuesIncomeItem,
    DuesMonth,
    DuesPayment,
    PaymentMethod,
    RecordedAs,
)
from members.dues.rules import (
    BASE_CATEGORIES,
    CENT,
    IncomeLine,
    base_from_items,
    dues_standard,
    month_from_index,
    month_index,
    month_start,
    months_back,
)
from members.models import Member
from organizations.choices import OrgType
from organizations.models import Organization


class _Errors:
    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def _members_changed(org_ids: Iterable[int]) -> None:
    """A bulk update of members' dues category sends no model signal: announce it."""
    rows_changed.send(sender=Member, organization_ids=set(org_ids))


def _dues_changed(org_ids: Iterable[int]) -> None:
    """Bulk writes of ledger rows send no model signal: announce which organizations' dues changed."""
    rows_changed.send(sender=DuesMonth, organization_ids=set(org_ids))


def month_label(month: date) -> str:
    return f"{month.year}年{month.month}月"


def dues_collecting_org(member: Member) -> Organization:
    """The branch that collects the member's dues: the one holding the 正式组织关系 (DF08 §9).

    A record attached to a 党小组 pays to the group's branch (a group is not a level that collects).
    """
    org = member.organization
    if org.org_type == OrgType.GROUP:
        parent = Organization.objects.parent_of(org)
        if parent is not None:
            return parent
    return org


def _check_party_member(member: Member, errors: _Errors) -> None:
    if member.stage not in (Stage.PROBATIONARY, Stage.FULL) or member.joined_on is None:
        errors.add("member", "尚未成为党员（支部大会通过接收并经上级党委批准之前）不核定党费")
    elif member.membership_status != MembershipStatus.NORMAL:
        errors.add("member", f"党籍状态为“{member.get_membership_status_display()}”，不核定党费")


# --- Yearly fixing (年度核定, DF17) ----------------------------------------------------------


@dataclass
class FixingPlan:
    """A validated yearly fixing, ready to write."""

    member: Member
    organization: Organization
    year: int
    category: str
    base_mode: str
    base: Decimal | None
    lines: list[IncomeLine]
    rate: Decimal | None
    standard_amount: Decimal
    monthly_amount: Decimal
    is_voluntary: bool
    start_month: date
    note: str
    replaces: DuesFixing | None


def _plan_fixing(
    *,
    member: Member,
    year: int,
    category: str,
    fixed_on: date,
    base: Decimal | None,
    income_items: list[tuple[str, Decimal]] | None,
    amount: Decimal | None,
    voluntary_amount: Decimal | None,
    note: str,
    replace: bool,
    existing: DuesFixing | None,
    existing_paid: bool,
) -> FixingPlan:
    """Every check of a fixing, no writes (``existing`` is the member's fixing for the year, if any)."""
    errors = _Errors()
    today = dates.today()
    if not 2000 <= year <= today.year + 1:
        errors.add("year", f"年度应在 2000 至 {today.year + 1} 之间")
    if fixed_on > today:
        errors.add("fixed_on", "核定日期不能晚于今天")
    _check_party_member(member, errors)
    org = dues_collecting_org(member)
    if not org.can_collect_dues:
        errors.add("member", f"{org.get_org_type_display()}不收缴党费，党费由党员正式组织关系所在的党支部收缴")
    if category not in DuesCategory.values:
        errors.add("category", "未知的党费类别")
    errors.raise_if_any()

    start = date(year, 1, 1)
    if member.joined_on > date(year, 12, 31):
        errors.add("year", f"该党员于 {member.joined_on:%Y-%m-%d} 入党，{year} 年不缴纳党费")
    else:
        start = max(start, month_start(member.joined_on))

    lines: list[IncomeLine] = []
    base_mode = BaseMode.NONE
    if income_items:
        if base is not None:
            errors.add("base", "请在“直接填写基数”和“按收入项目计算”中选择一种")
        else:
            try:
                base, lines = base_from_items(category=category, items=income_items)
                base_mode = BaseMode.ITEMS
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        errors.add(field, message)
    elif base is not None:
        base_mode = BaseMode.DIRECT
    if category in BASE_CATEGORIES and base is None and "base" not in errors.by_field and not income_items:
        errors.add("base", "请填写计算基数或收入项目")
    if category not in BASE_CATEGORIES and base_mode != BaseMode.NONE:
        errors.add("base", "该党费类别按固定金额交纳，无需填写基数")
    errors.raise_if_any()

    try:
        standard = dues_standard(category=category, base=base, amount=amount)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    monthly = standard.amount
    is_voluntary = False
    if voluntary_amount is not None:
        if voluntary_amount < standard.amount:
            errors.add("voluntary_amount", f"自愿多交的金额不能低于按规定应交的 {standard.amount} 元")
        elif voluntary_amount > standard.amount:
            monthly, is_voluntary = voluntary_amount.quantize(CENT), True
    if existing is not None:
        if not replace:
            errors.add(
                "year",
                f"{year} 年度党费已核定（每月 {existing.monthly_amount} 元）；年度内一般不作调整，确需变更请登记调整记录",
            )
        elif existing_paid:
            errors.add("year", f"{year} 年度已有缴纳记录，不能重新核定；确需变更请登记调整记录")
    errors.raise_if_any()
    return FixingPlan(
        member=member,
        organization=org,
        year=year,
        category=category,
        base_mode=base_mode,
        base=base,
        lines=lines,
        rate=standard.rate,
        standard_amount=standard.amount,
        monthly_amount=monthly,
        is_voluntary=is_voluntary,
        start_month=start,
        note=note[:200],
        replaces=existing,
    )


def _write_fixings(plans: list[FixingPlan], *, fixed_on: date, fixed_by: Any) -> list[DuesFixing]:
    """Insert the fixings, their income items and ledger months in a fixed number of queries."""
    user = fixed_by if getattr(fixed_by, "is_authenticated", False) else None
    replaced = [p.replaces.pk for p in plans if p.replaces is not None]
    if replaced:
        DuesFixing.objects.filter(pk__in=replaced).delete()  # their months and items go too (nothing paid)
    fixings = []
    for plan in plans:
        fixing = DuesFixing(
            member=plan.member,
            organization=plan.organization,
            year=plan.year,
            category=plan.category,
            base_mode=plan.base_mode,
            rate=plan.rate,
            standard_amount=plan.standard_amount,
            monthly_amount=plan.monthly_amount,
            is_voluntary=plan.is_voluntary,
            start_month=plan.start_month,
            fixed_on=fixed_on,
            fixed_by=user,
            note=plan.note,
        )
        fixing.set_base(plan.base)
        fixings.append(fixing)
    DuesFixing.objects.bulk_create(fixings, batch_size=1000)
    items = []
    for plan, fixing in zip(plans, fixings, strict=True):
        for line in plan.lines:
            item = DuesIncomeItem(fixing=fixing, kind=line.kind, effect=line.effect, reason=line.reason)
            item.set_amount(line.amount)
            items.append(item)
    DuesIncomeItem.objects.bulk_create(items, batch_size=1000)
    approvals: dict[int, list[DuesApproval]] = {}
    years = {plan.year for plan in plans}
    for approval in DuesApproval.objects.filter(
        member_id__in=[p.member.pk for p in plans],
        kind__in=list(AMOUNT_APPROVALS),
        start_month__year__in=years,
    ).order_by("approved_on", "pk"):
        approvals.setdefault(approval.member_id, []).append(approval)
    months = []
    for fixing in fixings:
        months.extend(_month_rows(fixing, approvals.get(fixing.member_id, [])))
    DuesMonth.objects.bulk_create(months, batch_size=2000)
    changed = []
    for plan in plans:
        if plan.member.dues_category != plan.category:
            plan.member.dues_category = plan.category
            changed.append(plan.member)
    if changed:
        Member.objects.bulk_update(changed, ["dues_category"], batch_size=1000)
        _members_changed(m.organization_id for m in changed)
    _dues_changed(plan.organization.pk for plan in plans)
    return fixings


def ledger_month_indexes(fixing: DuesFixing) -> range:
    """The months a fixing's ledger covers: from its start month to December of its year."""
    return range(month_index(fixing.start_month), month_index(date(fixing.year, 12, 1)) + 1)


def _month_rows(fixing: DuesFixing, approvals: list[DuesApproval]) -> list[DuesMonth]:
    """One ledger row per month from the start month to December; the latest approval covering a
    month sets its amount."""
    rows = []
    for index in ledger_month_indexes(fixing):
        month = month_from_index(index)
        due, approval = fixing.monthly_amount, None
        for candidate in approvals:
            if candidate.covers(month):
                due, approval = candidate.amount, candidate
        rows.append(
            DuesMonth(
                member_id=fixing.member_id,
                organization_id=fixing.organization_id,
                fixing=fixing,
                month=month,
                amount_due=due,
                approval=approval,
            )
        )
    return rows


def _fixing_audit_detail(plan: FixingPlan) -> dict[str, Any]:
    return {
        "member_id": plan.member.pk,
        "year": plan.year,
        "category": plan.category,
        "base_mode": plan.base_mode,
        "monthly_amount": str(plan.monthly_amount),
        "voluntary": plan.is_voluntary,
    }


@transaction.atomic
def dues_fixing_create(
    *,
    member: Member,
    year: int,
    category: str,
    fixed_on: date,
    fixed_by: Any = None,
    base: Decimal | None = None,
    income_items: list[tuple[str, Decimal]] | None = None,
    amount: Decimal | None = None,
    voluntary_amount: Decimal | None = None,
    note: str = "",
    replace: bool = False,
) -> DuesFixing:
    """Fix a member's monthly amount for ``year`` and open the ledger months it covers.

    The base is either entered directly (``base``) or computed from ``income_items`` (kind, yuan)
    with the DF17 exclusions applied item by item. The ledger starts in January, or in the month
    of the 支部大会 vote for a member admitted during the year (DF08 §8). ``replace`` re-fixes a
    year only while nothing has been paid in it; afterwards a change is a ``DuesApproval``.
    """
    existing = DuesFixing.objects.select_for_update().filter(member=member, year=year).first()
    plan = _plan_fixing(
        member=member,
        year=year,
        category=category,
        fixed_on=fixed_on,
        base=base,
        income_items=income_items,
        amount=amount,
        voluntary_amount=voluntary_amount,
        note=note,
        replace=replace,
        existing=existing,
        existing_paid=existing is not None
        and DuesMonth.objects.filter(fixing=existing, paid_on__isnull=False).exists(),
    )
    (fixing,) = _write_fixings([plan], fixed_on=fixed_on, fixed_by=fixed_by)
    audit_log(
        event="dues_fixing_replace" if existing is not None else "dues_fixing_create",
        user=fixing.fixed_by,
        obj=fixing,
        organization=plan.organization,
        detail=_fixing_audit_detail(plan),
    )
    return fixing


@dataclass
class FixingSpec:
    """One member's input for ``dues_fixings_create_many`` (a row of the yearly-base import)."""

    member: Member
    category: str
    base: Decimal | None = None
    amount: Decimal | None = None
    voluntary_amount: Decimal | None = None
    note: str = ""
    key: Any = None  # echoed in error messages (e.g. the spreadsheet line)


@transaction.atomic
def dues_fixings_create_many(
    *, specs: list[FixingSpec], year: int, fixed_on: date, fixed_by: Any = None, source: str = ""
) -> list[DuesFixing]:
    """Fix many members at once, all or nothing (the yearly-base import).

    Each spec passes the same checks as ``dues_fixing_create``; any refusal raises with the errors
    keyed by ``spec.key`` and nothing is written. Writes take a fixed number of queries and one
    audit record listing the members.
    """
    member_ids = [spec.member.pk for spec in specs]
    existing = {
        f.member_id: f for f in DuesFixing.objects.select_for_update().filter(member_id__in=member_ids, year=year)
    }
    errors = _Errors()
    if len(set(member_ids)) != len(member_ids):
        errors.add("members", "同一党员重复")
    plans = []
    for spec in specs:
        try:
            plans.append(
                _plan_fixing(
                    member=spec.member,
                    year=year,
                    category=spec.category,
                    fixed_on=fixed_on,
                    base=spec.base,
                    income_items=None,
                    amount=spec.amount,
                    voluntary_amount=spec.voluntary_amount,
                    note=spec.note,
                    replace=False,
                    existing=existing.get(spec.member.pk),
                    existing_paid=False,
                )
            )
        except ValidationError as exc:
            for messages in exc.message_dict.values():
                for message in messages:
                    errors.add(str(spec.key if spec.key is not None else spec.member.pk), message)
    errors.raise_if_any()
    fixings = _write_fixings(plans, fixed_on=fixed_on, fixed_by=fixed_by)
    organizations = {plan.organization.pk: plan.organization for plan in plans}
    audit_log(
        event="dues_fixing_create_many",
        user=fixed_by if getattr(fixed_by, "is_authenticated", False) else None,
        obj=next(iter(organizations.values()), None),
        organization=next(iter(organizations.values()), None) if len(organizations) == 1 else None,
        detail={
            "year": year,
            "count": len(fixings),
            "member_ids": member_ids,
            "organization_ids": sorted(organizations),
            "source": source[:200],
        },
    )
    return fixings


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
    errors = _Errors()
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
        _dues_changed([org.pk])
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
    errors: _Errors,
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


def _check_payment_header(*, paid_on: date, method: str, errors: _Errors) -> None:
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
    _dues_changed(row.organization_id for row in rows)
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
    errors = _Errors()
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
    errors = _Errors()
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


# --- Ledger housekeeping (used by transfers and the development pipeline) ---------------------


@transaction.atomic
def dues_ledger_move(*, member: Member, organization: Organization, from_month: date) -> int:
    """After a transfer, the unpaid months from ``from_month`` on are owed to the new branch."""
    if not organization.can_collect_dues:
        raise ValidationError({"organization": f"{organization.get_org_type_display()}不收缴党费"})
    rows = DuesMonth.objects.filter(member=member, month__gte=month_start(from_month), paid_on__isnull=True)
    old_orgs = set(rows.values_list("organization_id", flat=True))
    moved = rows.update(organization=organization)
    _dues_changed(old_orgs | {organization.pk})
    if moved:
        audit_log(
            event="dues_ledger_move",
            obj=member,
            organization=organization,
            detail={"member_id": member.pk, "from_month": f"{from_month:%Y-%m}", "months": moved},
        )
    return moved


@transaction.atomic
def dues_ledger_close(*, member: Member, from_month: date, reason: str) -> int:
    """Stop the ledger (no longer a member): unpaid months from ``from_month`` on are removed."""
    removed, _ = DuesMonth.objects.filter(
        member=member, month__gte=month_start(from_month), paid_on__isnull=True
    ).delete()
    if removed:
        audit_log(
            event="dues_ledger_close",
            obj=member,
            organization=member.organization,
            detail={"member_id": member.pk, "from_month": f"{from_month:%Y-%m}", "months": removed, "reason": reason},
        )
    return removed


@transaction.atomic
def dues_ledger_reopen(*, member: Member, from_month: date) -> int:
    """Undo ``dues_ledger_close`` (the decision that ended the membership was voided): the months of
    the member's fixings from ``from_month`` on that have no ledger row get one again."""
    fixings = list(DuesFixing.objects.filter(member=member, year__gte=from_month.year))
    if not fixings:
        return 0
    have = set(DuesMonth.objects.filter(member=member).values_list("month", flat=True))
    approvals = list(
        DuesApproval.objects.filter(member=member, kind__in=list(AMOUNT_APPROVALS)).order_by("approved_on", "pk")
    )
    rows = [
        row
        for fixing in fixings
        for row in _month_rows(fixing, approvals)
        if row.month >= month_start(from_month) and row.month not in have
    ]
    DuesMonth.objects.bulk_create(rows)
    _dues_changed({fixing.organization_id for fixing in fixings})
    if rows:
        audit_log(
            event="dues_ledger_reopen",
            obj=member,
            organization=member.organization,
            detail={"member_id": member.pk, "from_month": f"{from_month:%Y-%m}", "months": len(rows)},
        )
    return len(rows)


@transaction.atomic
def dues_ledger_drop(*, member: Member, reason: str) -> int:
    """Remove every fixing and ledger month of someone who turns out not to be a party member (the
    admission record was voided). Refused once anything was paid: paid dues are never erased."""
    if DuesMonth.objects.filter(member=member, paid_on__isnull=False).exists():
        raise ValidationError(
            {"step": "该同志已有党费缴纳记录，不能作废接收预备党员的审批；如确属误录，请联系上级党组织处理"}
        )
    fixings = DuesFixing.objects.filter(member=member)
    org_ids = set(fixings.values_list("organization_id", flat=True))
    years = sorted(set(fixings.values_list("year", flat=True)))
    if not years:
        return 0
    fixings.delete()  # their months and income items go with them
    _dues_changed(org_ids)
    audit_log(
        event="dues_ledger_drop",
        obj=member,
        organization=member.organization,
        detail={"member_id": member.pk, "years": years, "reason": reason},
    )
    return len(years)
