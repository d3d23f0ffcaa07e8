"""Query parameters of the dues lists (django-filter FilterSets, see core.api.filters)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field

from core.api.filters import ChoiceFilter, IdFilter, YearFilter, ordering_filter
from members.api.filters import SubtreeFilterSet
from members.dues.models import DuesApproval, DuesFixing, DuesMonth, DuesPayment
from members.dues.rules import parse_month


class MonthField(forms.CharField):
    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if not value:
            return None
        try:
            return parse_month(value)
        except DjangoValidationError:
            raise forms.ValidationError("月份格式应为 YYYY-MM") from None


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-03"})
class MonthFilter(django_filters.Filter):
    field_class = MonthField


class DuesLedgerFilterSet(SubtreeFilterSet):
    member = IdFilter(field_name="member_id", help_text="党员 ID")
    year = YearFilter(field_name="month__year")
    month = MonthFilter(field_name="month", help_text="YYYY-MM")
    status = ChoiceFilter(choices=[("paid", "已交"), ("unpaid", "未交"), ("exempt", "免交")], method="filter_status")
    ordering = ordering_filter("month")

    class Meta:
        model = DuesMonth
        fields: list[str] = []

    def filter_status(self, queryset: Any, name: str, value: str) -> Any:
        if value == "paid":
            return queryset.filter(paid_on__isnull=False)
        if value == "unpaid":
            return queryset.filter(paid_on__isnull=True, amount_due__gt=0)
        return queryset.filter(amount_due=0)


class DuesPaymentFilterSet(SubtreeFilterSet):
    member = IdFilter(field_name="member_id", help_text="党员 ID")
    ordering = ordering_filter("paid_on")

    class Meta:
        model = DuesPayment
        fields: list[str] = []


class DuesFixingFilterSet(SubtreeFilterSet):
    member = IdFilter(field_name="member_id", help_text="党员 ID")
    year = YearFilter(field_name="year")

    class Meta:
        model = DuesFixing
        fields: list[str] = []


class DuesApprovalFilterSet(SubtreeFilterSet):
    member = IdFilter(field_name="member_id", help_text="党员 ID")
    ordering = ordering_filter("approved_on")

    class Meta:
        model = DuesApproval
        fields: list[str] = []
