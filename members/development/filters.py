"""Query parameters of the development-step list (django-filter, see core.api.filters)."""

from __future__ import annotations

from core.api.filters import ChoiceFilter, IdFilter, ordering_filter
from members.api.filters import SubtreeFilterSet
from members.development.models import DevelopmentStep, StepCode


class DevelopmentStepFilterSet(SubtreeFilterSet):
    member = IdFilter(field_name="member_id", help_text="人员 ID")
    step = ChoiceFilter(choices=StepCode.choices)
    ordering = ordering_filter("occurred_on")

    class Meta:
        model = DevelopmentStep
        fields: list[str] = []
