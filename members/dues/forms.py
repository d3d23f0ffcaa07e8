"""Forms of the 党费 pages. They only parse input; the rules live in ``members.dues.services``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from members.choices import DuesCategory
from members.dues.models import ApprovalKind, BaseMode, PaymentMethod
from members.dues.rules import IncomeKind, parse_money, parse_month

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONTH = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})


class MoneyInput(forms.CharField):
    """A yuan amount: Decimal with at most 2 decimals, never negative, Chinese messages."""

    def __init__(self, *args: Any, money_label: str = "金额", **kwargs: Any) -> None:
        self.money_label = money_label
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> Decimal | None:
        value = super().clean(value)
        try:
            return parse_money(value, field="x", label=self.money_label, required=self.required)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["x"]) from None


class MonthInput(forms.CharField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MONTH)
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not value:
            return None
        try:
            return parse_month(value, field="x")
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["x"]) from None


class FixingForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    category = forms.ChoiceField(label="党费类别", choices=DuesCategory.choices)
    base_mode = forms.ChoiceField(
        label="基数来源",
        choices=[(BaseMode.DIRECT, "直接填写基数"), (BaseMode.ITEMS, "按收入项目计算")],
        widget=forms.RadioSelect,
        initial=BaseMode.DIRECT,
    )
    base = MoneyInput(label="计算基数（元/月）", money_label="计算基数", required=False)
    amount = MoneyInput(label="农民党员月缴金额（元，0.20–1.00，由支部确定）", money_label="月缴金额", required=False)
    voluntary_amount = MoneyInput(
        label="本人自愿多交的月缴金额（元，可不填）", money_label="自愿多交金额", required=False
    )
    fixed_on = forms.DateField(label="核定日期", widget=DATE)
    note = forms.CharField(label="备注", max_length=200, required=False)
    replace = forms.BooleanField(label="重新核定（仅限本年度尚无缴纳记录时）", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind, label in IncomeKind.choices:
            self.fields[f"item_{kind}"] = MoneyInput(label=label, money_label=label, required=False)

    def item_fields(self) -> list[Any]:
        return [self[f"item_{kind}"] for kind in IncomeKind.values]

    def income_items(self) -> list[tuple[str, Decimal]]:
        return [
            (kind, self.cleaned_data[f"item_{kind}"])
            for kind in IncomeKind.values
            if self.cleaned_data.get(f"item_{kind}") is not None
        ]


class MemberPaymentForm(forms.Form):
    """Several months of one member at once (prepayment, or 补交 of earlier months)."""

    months = forms.MultipleChoiceField(label="缴纳月份", widget=forms.CheckboxSelectMultiple)
    paid_on = forms.DateField(label="缴纳日期", widget=DATE)
    method = forms.ChoiceField(label="方式", choices=PaymentMethod.choices)
    note = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args: Any, month_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["months"].choices = month_choices

    def clean_months(self) -> list[Any]:
        return [parse_month(value) for value in self.cleaned_data["months"]]


class ApprovalForm(forms.Form):
    kind = forms.ChoiceField(label="类型", choices=ApprovalKind.choices)
    start_month = MonthInput(label="起始月份")
    end_month = MonthInput(label="截止月份（可不填）", required=False)
    amount = MoneyInput(label="调整后月缴金额（元；免交、补交、正当理由不填）", money_label="金额", required=False)
    reason = forms.CharField(label="理由", max_length=300)
    approver = forms.CharField(label="批准人/批准组织", max_length=100)
    approved_on = forms.DateField(label="批准日期", widget=DATE)
    reference = forms.CharField(label="批准文号（可不填）", max_length=100, required=False)


class ImportUploadForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    file = forms.FileField(label="党费基数表（.xlsx）")
