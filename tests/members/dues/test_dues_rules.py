"""The 党费 rule (§5): every bracket boundary, every category, rounding modes, bad input."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from members.dues.rules import (
    COUNT,
    DEDUCT,
    EXCLUDE,
    base_from_items,
    dues_standard,
    parse_money,
    parse_month,
    round_amount,
)

D = Decimal


@pytest.mark.parametrize(
    "base,rate,amount",
    [
        ("0", "0.0050", "0.00"),
        ("3000.00", "0.0050", "15.00"),
        ("3000.01", "0.0100", "30.00"),
        ("4900", "0.0100", "49.00"),  # official example (DFQA)
        ("5000", "0.0100", "50.00"),
        ("5000.01", "0.0150", "75.00"),
        ("5100", "0.0150", "76.50"),  # official example (DFQA): whole base, not tiered
        ("10000", "0.0150", "150.00"),
        ("10000.01", "0.0200", "200.00"),
        ("20000", "0.0200", "400.00"),
    ],
)
def test_employed_brackets_inclusive_upper_bounds(base, rate, amount):
    result = dues_standard(category="employed", base=D(base))
    assert (result.rate, result.amount) == (D(rate), D(amount))
    assert str(result.amount) == amount


@pytest.mark.parametrize("category", ["annual_salary", "self_employed"])
def test_annual_salary_and_self_employed_use_the_employed_table(category):
    assert dues_standard(category=category, base=D("5100")).amount == D("76.50")
    assert dues_standard(category=category, base=D("3000")).rate == D("0.005")


@pytest.mark.parametrize(
    "base,rate,amount",
    [("4000", "0.005", "20.00"), ("5000", "0.005", "25.00"), ("5000.01", "0.01", "50.00"), ("8000", "0.01", "80.00")],
)
def test_retired_brackets(base, rate, amount):
    result = dues_standard(category="retired", base=D(base))
    assert result.rate == D(rate) and result.amount == D(amount)


@pytest.mark.parametrize("category", ["student", "unemployed", "relief"])
def test_fixed_small_amount_categories(category):
    result = dues_standard(category=category)
    assert result.amount == D("0.20") and result.rate is None


def test_farmer_amount_is_set_by_the_branch_within_range():
    with pytest.raises(ValidationError) as exc:
        dues_standard(category="farmer")
    assert "0.20元至1.00元" in exc.value.message_dict["amount"][0]
    assert dues_standard(category="farmer", amount=D("0.20")).amount == D("0.20")
    assert dues_standard(category="farmer", amount=D("1.00")).amount == D("1.00")
    for bad in ("0.19", "1.01"):
        with pytest.raises(ValidationError):
            dues_standard(category="farmer", amount=D(bad))


def test_amount_only_for_farmers_and_base_required_for_income_categories():
    with pytest.raises(ValidationError) as exc:
        dues_standard(category="employed", base=D("5000"), amount=D("1"))
    assert "amount" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        dues_standard(category="employed")
    assert "base" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        dues_standard(category="planet", base=D("1"))
    assert exc.value.message_dict["category"] == ["未知的党费类别"]


def test_monthly_cap_unless_voluntary():
    assert dues_standard(category="employed", base=D("50000")).amount == D("1000.00")
    capped = dues_standard(category="employed", base=D("60000"))
    assert capped.amount == D("1000.00") and capped.capped


@pytest.mark.parametrize(
    "mode,base,expected",
    [
        ("cent", "3333.33", "33.33"),
        ("cent", "3000.10", "30.00"),
        ("cent", "1001", "5.01"),  # 5.005 → half-up
        ("jiao", "3333.33", "33.30"),
        ("jiao", "3335", "33.40"),  # 33.35 → half-up to 33.4
        ("jiao", "4900", "49.00"),
        ("yuan_up", "3333.33", "34.00"),  # 只入不舍
        ("yuan_up", "4900", "49.00"),
        ("yuan_up", "5100", "77.00"),
    ],
)
def test_rounding_modes(mode, base, expected):
    with override_settings(PB_DUES_ROUNDING=mode):
        assert str(dues_standard(category="employed", base=D(base)).amount) == expected


def test_rounding_does_not_touch_fixed_amounts():
    with override_settings(PB_DUES_ROUNDING="yuan_up"):
        assert dues_standard(category="student").amount == D("0.20")
    assert round_amount(D("0.005"), "cent") == D("0.01")


@pytest.mark.parametrize(
    "raw,message",
    [
        ("", "请填写计算基数"),
        (None, "请填写计算基数"),
        ("abc", "应为数字"),
        ("-1", "不能为负数"),
        ("5100.123", "两位小数"),
        ("NaN", "应为数字"),
        ("Infinity", "应为数字"),
        ("1e30", "超出允许范围"),
        (True, "应为数字"),
    ],
)
def test_parse_money_refuses_bad_input_in_chinese(raw, message):
    with pytest.raises(ValidationError) as exc:
        parse_money(raw, field="base", label="计算基数")
    assert message in exc.value.message_dict["base"][0]


def test_parse_money_accepts_plain_and_grouped_numbers():
    assert parse_money("5,100.5", field="base", label="x") == D("5100.50")
    assert parse_money(5100, field="base", label="x") == D("5100.00")
    assert parse_money("5100.100", field="base", label="x") == D("5100.10")


def test_income_items_apply_df17_exclusions_visibly():
    base, lines = base_from_items(
        category="employed",
        items=[
            ("position_salary", D("4000")),
            ("grade_salary", D("2000")),
            ("basic_performance", D("1000")),
            ("incentive_performance", D("3000")),  # not counted (DF17)
            ("reform_subsidy", D("800")),  # not counted
            ("income_tax", D("150")),  # deducted: after tax
            ("social_insurance", D("700")),  # deducted (DF17)
            ("housing_fund", D("600")),
            ("annuity", D("200")),
        ],
    )
    assert base == D("5350.00")
    effects = {line.kind: line.effect for line in lines}
    assert effects["incentive_performance"] == EXCLUDE and effects["reform_subsidy"] == EXCLUDE
    assert effects["income_tax"] == DEDUCT and effects["position_salary"] == COUNT
    assert "DF17" in next(line.reason for line in lines if line.kind == "incentive_performance")


def test_retiree_base_is_basic_pension_only():
    base, lines = base_from_items(
        category="retired",
        items=[("basic_pension", D("4800")), ("retiree_subsidy", D("900")), ("allowance", D("300"))],
    )
    assert base == D("4800.00")
    assert [line.effect for line in lines] == [COUNT, EXCLUDE, EXCLUDE]
    assert dues_standard(category="retired", base=base).amount == D("24.00")


def test_income_items_refused_for_fixed_categories_and_without_counted_items():
    with pytest.raises(ValidationError):
        base_from_items(category="student", items=[("allowance", D("1"))])
    with pytest.raises(ValidationError):
        base_from_items(category="employed", items=[("income_tax", D("1"))])


def test_parse_month():
    assert str(parse_month("2026-03")) == "2026-03-01"
    for bad in ("2026-13", "26-03", "2026/03", "", "abcd-ef"):
        with pytest.raises(ValidationError):
            parse_month(bad)
