"""The 党费 rule itself (domain-rules §5), with no database: rates, rounding, income items, parsing.

Newer rules win where sources conflict (§11): the base excludes everything DF17 (2017) lists, a
retiree's base is the 基本离退休费 only (DF18), and the amount is fixed once a year (DF17).
Money is ``Decimal`` throughout; a float never enters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from core.numbers import is_number
from members.choices import DuesCategory

CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")
MAX_BASE = Decimal("99999999.99")  # fits Decimal(12, 2)

# Employed, annual-salary and self-employed members: the whole base at one rate (全额, not tiered),
# inclusive upper bounds (DF08 §2). None = no upper bound.
EMPLOYED_RATES: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("3000"), Decimal("0.005")),
    (Decimal("5000"), Decimal("0.01")),
    (Decimal("10000"), Decimal("0.015")),
    (None, Decimal("0.02")),
)
# Retired members: 基本离退休费 only (DF18); ≤5000 → 0.5 %, >5000 → 1 % (DF08 §3).
RETIRED_RATES: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("5000"), Decimal("0.005")),
    (None, Decimal("0.01")),
)
RATE_TABLES = {
    DuesCategory.EMPLOYED: EMPLOYED_RATES,
    DuesCategory.ANNUAL_SALARY: EMPLOYED_RATES,  # that month's pay, same table (DF08 §4)
    DuesCategory.SELF_EMPLOYED: EMPLOYED_RATES,  # last quarter's average monthly net income (DF08 §5)
    DuesCategory.RETIRED: RETIRED_RATES,
}
# Students, the unemployed and people living on 抚恤/救济/低保 pay 0.2 yuan a month (DF08 §6).
FIXED_AMOUNTS = {
    DuesCategory.STUDENT: Decimal("0.20"),
    DuesCategory.UNEMPLOYED: Decimal("0.20"),
    DuesCategory.RELIEF: Decimal("0.20"),
}
# Farmers pay 0.2–1 yuan a month; the branch decides the amount (DF08 §6).
FARMER_MIN = Decimal("0.20")
FARMER_MAX = Decimal("1.00")

BASE_CATEGORIES = frozenset(RATE_TABLES)

# Rounding modes (no central rule; units differ: §5 "Rounding").
ROUNDING_CENT = "cent"  # half-up to 0.01 yuan (default)
ROUNDING_JIAO = "jiao"  # half-up to 0.1 yuan
ROUNDING_YUAN_UP = "yuan_up"  # 只入不舍: always up to a whole yuan
ROUNDING_MODES = {
    ROUNDING_CENT: (Decimal("0.01"), ROUND_HALF_UP),
    ROUNDING_JIAO: (Decimal("0.1"), ROUND_HALF_UP),
    ROUNDING_YUAN_UP: (Decimal("1"), ROUND_CEILING),
}


def round_amount(value: Decimal, mode: str | None = None) -> Decimal:
    """Round a computed amount by the configured mode, always returned with 2 decimals."""
    mode = mode or settings.PB_DUES_ROUNDING
    step, how = ROUNDING_MODES[mode]
    return value.quantize(step, rounding=how).quantize(CENT)


def rate_for(category: str, base: Decimal) -> Decimal:
    for upper, rate in RATE_TABLES[category]:
        if upper is None or base <= upper:
            return rate
    raise AssertionError("rate table has no open upper bound")  # pragma: no cover


@dataclass(frozen=True)
class DuesStandard:
    category: str
    base: Decimal | None
    rate: Decimal | None
    amount: Decimal
    capped: bool = False


def parse_money(raw: object, *, field: str, label: str, required: bool = True) -> Decimal | None:
    """A yuan amount from user input: a non-negative number with at most 2 decimals.

    Raises ``ValidationError({field: 中文})`` for anything else; never lets a float through.
    """
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        if required:
            raise ValidationError({field: f"请填写{label}"})
        return None
    if isinstance(raw, float):
        raw = repr(raw)
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        raise ValidationError({field: f"{label}应为数字"})
    text = str(raw).strip().replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError({field: f"{label}应为数字，例如 5100 或 5100.50"}) from None
    if not value.is_finite():
        raise ValidationError({field: f"{label}应为数字，例如 5100 或 5100.50"})
    if value < 0:
        raise ValidationError({field: f"{label}不能为负数"})
    if value.as_tuple().exponent < -2 and value != value.quantize(CENT):
        raise ValidationError({field: f"{label}最多保留两位小数（精确到分）"})
    if value > MAX_BASE:
        raise ValidationError({field: f"{label}超出允许范围"})
    return value.quantize(CENT)


def dues_standard(*, category: str, base: Decimal | None = None, amount: Decimal | None = None) -> DuesStandard:
    """The monthly amount the rules give for a category and base.

    - employed / annual_salary / self_employed / retired: ``base`` required; the whole base times
      the bracket's rate, rounded by ``PB_DUES_ROUNDING``, capped at ``PB_DUES_MONTHLY_CAP``
      (generally ≤1000 yuan a month unless the member volunteers more, DF17).
    - student / unemployed / relief: 0.20 yuan, no base, no rounding.
    - farmer: the branch sets 0.20–1.00 yuan, so ``amount`` is required and checked against the
      range; the rule cannot invent the branch's decision.
    """
    if category not in DuesCategory.values:
        raise ValidationError({"category": "未知的党费类别"})
    if category == DuesCategory.FARMER:
        if amount is None:
            raise ValidationError(
                {"amount": f"农民党员每月交纳{FARMER_MIN}元至{FARMER_MAX}元，具体数额由党支部确定，请填写金额"}
            )
        if not FARMER_MIN <= amount <= FARMER_MAX:
            raise ValidationError({"amount": f"农民党员每月交纳{FARMER_MIN}元至{FARMER_MAX}元"})
        return DuesStandard(category=category, base=base, rate=None, amount=amount.quantize(CENT))
    if amount is not None:
        raise ValidationError({"amount": "只有农民党员由党支部确定金额；其他类别按规定计算"})
    if category in FIXED_AMOUNTS:
        return DuesStandard(category=category, base=base, rate=None, amount=FIXED_AMOUNTS[category])
    if base is None:
        raise ValidationError({"base": "请填写计算基数（元）"})
    rate = rate_for(category, base)
    computed = round_amount(base * rate)
    cap = Decimal(settings.PB_DUES_MONTHLY_CAP)
    capped = computed > cap
    return DuesStandard(
        category=category, base=base, rate=rate, amount=cap.quantize(CENT) if capped else computed, capped=capped
    )


# --- Income items (DF17 exclusions, made visible) --------------------------------------------

COUNT = "count"  # 计入基数
DEDUCT = "deduct"  # 从基数中扣除 (税后、扣除个人缴纳的社保公积金年金)
EXCLUDE = "exclude"  # 不计入基数 (DF17)

EFFECT_LABELS = {COUNT: "计入", DEDUCT: "扣除", EXCLUDE: "不计入"}


class IncomeKind(models.TextChoices):
    POSITION_SALARY = "position_salary", "职务（岗位）工资"
    GRADE_SALARY = "grade_salary", "级别（薪级、技术等级）工资"
    ALLOWANCE = "allowance", "规范津贴补贴"
    BASIC_PERFORMANCE = "basic_performance", "基础性绩效工资"
    REGULAR_BONUS = "regular_bonus", "经常性奖金（企业“活的部分”）"
    BASIC_PENSION = "basic_pension", "基本离退休费（基本养老金）"
    OTHER_REGULAR = "other_regular", "其他相对固定、经常性的收入"
    INCOME_TAX = "income_tax", "个人所得税"
    SOCIAL_INSURANCE = "social_insurance", "养老、医疗、失业、工伤、生育保险费"
    HOUSING_FUND = "housing_fund", "住房公积金"
    ANNUITY = "annuity", "职业年金、企业年金"
    REFORM_SUBSIDY = "reform_subsidy", "改革性补贴（住房、交通、公车、通讯、加班、误餐、取暖、防暑降温、物业等）"
    SPECIAL_ALLOWANCE = "special_allowance", "仅发放给部分地区、单位、岗位或人员的津贴补贴"
    INCENTIVE_PERFORMANCE = "incentive_performance", "奖励性绩效工资"
    IRREGULAR_BONUS = "irregular_bonus", "非经常性、非普遍性奖金"
    RETIREE_SUBSIDY = "retiree_subsidy", "离退休人员补贴"


INCOME_EFFECTS: dict[str, tuple[str, str]] = {
    IncomeKind.POSITION_SALARY: (COUNT, ""),
    IncomeKind.GRADE_SALARY: (COUNT, ""),
    IncomeKind.ALLOWANCE: (COUNT, ""),
    IncomeKind.BASIC_PERFORMANCE: (COUNT, "只计基础性绩效（DF17）"),
    IncomeKind.REGULAR_BONUS: (COUNT, ""),
    IncomeKind.BASIC_PENSION: (COUNT, ""),
    IncomeKind.OTHER_REGULAR: (COUNT, ""),
    IncomeKind.INCOME_TAX: (DEDUCT, "基数为税后收入"),
    IncomeKind.SOCIAL_INSURANCE: (DEDUCT, "五险不计入基数（DF17）"),
    IncomeKind.HOUSING_FUND: (DEDUCT, "住房公积金不计入基数（DF17）"),
    IncomeKind.ANNUITY: (DEDUCT, "职业年金、企业年金不计入基数（DF17）"),
    IncomeKind.REFORM_SUBSIDY: (EXCLUDE, "改革性补贴不计入（DF17）"),
    IncomeKind.SPECIAL_ALLOWANCE: (EXCLUDE, "特定地区、单位、岗位、人员的津贴补贴不计入（DF17）"),
    IncomeKind.INCENTIVE_PERFORMANCE: (EXCLUDE, "奖励性绩效工资不计入（DF17）"),
    IncomeKind.IRREGULAR_BONUS: (EXCLUDE, "非经常性、非普遍性奖金不计入（DF17）"),
    IncomeKind.RETIREE_SUBSIDY: (EXCLUDE, "离退休人员补贴不计入（DF18）"),
}
RETIREE_ONLY_COUNTED = IncomeKind.BASIC_PENSION


def income_effect(kind: str, category: str) -> tuple[str, str]:
    """How one income item enters the base for a category: (effect, reason shown to people)."""
    effect, reason = INCOME_EFFECTS[kind]
    if category == DuesCategory.RETIRED and effect == COUNT and kind != RETIREE_ONLY_COUNTED:
        return EXCLUDE, "离退休党员只以基本离退休费为基数（DF18）"
    return effect, reason


@dataclass(frozen=True)
class IncomeLine:
    kind: str
    amount: Decimal
    effect: str
    reason: str


def base_from_items(*, category: str, items: list[tuple[str, Decimal]]) -> tuple[Decimal, list[IncomeLine]]:
    """The base from declared income items: counted items minus deductions, never below zero."""
    if category not in BASE_CATEGORIES:
        raise ValidationError({"income_items": "该党费类别不按收入计算，无需填写收入项目"})
    if not items:
        raise ValidationError({"income_items": "请至少填写一项收入"})
    lines: list[IncomeLine] = []
    total = Decimal("0")
    for kind, amount in items:
        if kind not in INCOME_EFFECTS:
            raise ValidationError({"income_items": f"未知的收入项目：{kind}"})
        effect, reason = income_effect(kind, category)
        lines.append(IncomeLine(kind=kind, amount=amount, effect=effect, reason=reason))
        if effect == COUNT:
            total += amount
        elif effect == DEDUCT:
            total -= amount
    if not any(line.effect == COUNT for line in lines):
        raise ValidationError({"income_items": "没有计入基数的收入项目"})
    return max(total, Decimal("0")).quantize(CENT), lines


# --- Months --------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_from_index(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def months_back(month: date, reference: date) -> int:
    """How many months ``month`` lies before ``reference``'s month (0 = the same month)."""
    return month_index(reference) - month_index(month)


def parse_month(raw: str, *, field: str = "month") -> date:
    """'YYYY-MM' → the first day of that month; a Chinese field error otherwise."""
    text = (raw or "").strip()
    parts = text.split("-")
    if len(parts) != 2 or not all(is_number(part) for part in parts) or len(parts[0]) != 4:
        raise ValidationError({field: "月份格式应为 YYYY-MM，例如 2026-03"})
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise ValidationError({field: "月份格式应为 YYYY-MM，例如 2026-03"})
    return date(year, month, 1)
