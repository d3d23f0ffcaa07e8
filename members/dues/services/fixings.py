"""The yearly fixing of each member's dues (年度核定, DF17): one member or a batch."""


from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import audit_log
from core import dates
from core.access import authorize, authorize_organizations
from members.choices import DuesCategory
from members.dues.models import (
    AMOUNT_APPROVALS,
    BaseMode,
    DuesApproval,
    DuesFixing,
    DuesIncomeItem,
    DuesMonth,
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
)
from members.dues.services.common import Errors, check_party_member, dues_changed, dues_collecting_org, members_changed
from members.models import Member
from organizations.models import Organization

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
    errors = Errors()
    today = dates.today()
    if not 2000 <= year <= today.year + 1:
        errors.add("year", f"年度应在 2000 至 {today.year + 1} 之间")
    if fixed_on > today:
        errors.add("fixed_on", "核定日期不能晚于今天")
    check_party_member(member, errors)
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
        months.extend(month_rows(fixing, approvals.get(fixing.member_id, [])))
    DuesMonth.objects.bulk_create(months, batch_size=2000)
    changed = []
    for plan in plans:
        if plan.member.dues_category != plan.category:
            plan.member.dues_category = plan.category
            changed.append(plan.member)
    if changed:
        Member.objects.bulk_update(changed, ["dues_category"], batch_size=1000)
        members_changed(m.organization_id for m in changed)
    dues_changed(plan.organization.pk for plan in plans)
    return fixings


def ledger_month_indexes(fixing: DuesFixing) -> range:
    """The months a fixing's ledger covers: from its start month to December of its year."""
    return range(month_index(fixing.start_month), month_index(date(fixing.year, 12, 1)) + 1)


def month_rows(fixing: DuesFixing, approvals: list[DuesApproval]) -> list[DuesMonth]:
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
    authorize(fixed_by, member, message="无权为该党员核定党费")
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
    if fixed_by is not None:
        orgs = Organization.objects.filter(pk__in={spec.member.organization_id for spec in specs})
        authorize_organizations(fixed_by, orgs, message="无权为这些党员核定党费")
    member_ids = [spec.member.pk for spec in specs]
    existing = {
        f.member_id: f for f in DuesFixing.objects.select_for_update().filter(member_id__in=member_ids, year=year)
    }
    errors = Errors()
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
