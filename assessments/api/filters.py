"""Query parameters of the assessment lists (django-filter FilterSets, see core.api.filters).

The organization subtree and the other rules live in ``assessments.selectors``; the FilterSets
validate and document the parameters and hand them to the selectors.
"""

from __future__ import annotations

from typing import Any

from assessments.choices import RatingStatus, RectificationStatus, ReportKind, ReportStatus
from assessments.models import (
    AssessmentRound,
    AssessmentScheme,
    DutyReport,
    InspectionReport,
    Rating,
    RectificationItem,
)
from core.access import VIEW, get_for_user
from core.api.filters import (
    ChoiceFilter,
    IdFilter,
    IntRangeFilter,
    SearchFilter,
    SelectorFilterSet,
    YearFilter,
    ordering_filter,
)
from organizations.choices import OrgType
from organizations.models import Organization


class AssessmentFilterSet(SelectorFilterSet):
    """``organization`` (with its subtree) becomes the gated Organization the selectors take."""

    def selector_value(self, name: str, value: Any) -> Any:
        if name == "organization":
            return get_for_user(Organization, self.request.user, VIEW, pk=value) if value else None
        return super().selector_value(name, value)


class SchemeFilterSet(AssessmentFilterSet):
    year = YearFilter(field_name="year")
    org_type = ChoiceFilter(choices=OrgType.choices, field_name="org_type")

    class Meta:
        model = AssessmentScheme
        fields: list[str] = []


class RoundFilterSet(AssessmentFilterSet):
    year = YearFilter(field_name="year")

    class Meta:
        model = AssessmentRound
        fields: list[str] = []


class RatingFilterSet(AssessmentFilterSet):
    year = YearFilter()
    status = ChoiceFilter(choices=RatingStatus.choices)
    round = IdFilter(help_text="评定批次 ID")
    organization = IdFilter(help_text="党组织 ID（含下级组织）")
    selector_params = ("year", "status", "round", "organization")

    class Meta:
        model = Rating
        fields: list[str] = []

    def selector_kwargs(self) -> dict[str, Any]:
        kwargs = super().selector_kwargs()
        kwargs["round_id"] = kwargs.pop("round")
        return kwargs


class DutyReportFilterSet(AssessmentFilterSet):
    year = YearFilter()
    selector_params = ("year",)

    class Meta:
        model = DutyReport
        fields: list[str] = []


class InspectionReportFilterSet(AssessmentFilterSet):
    year = YearFilter()
    quarter = IntRangeFilter(low=1, high=4, label_="季度")
    organization = IdFilter(help_text="党组织 ID（含下级组织）")
    kind = ChoiceFilter(choices=ReportKind.choices)
    status = ChoiceFilter(choices=ReportStatus.choices, field_name="status")
    selector_params = ("year", "quarter", "organization", "kind")

    class Meta:
        model = InspectionReport
        fields: list[str] = []


class RectificationFilterSet(AssessmentFilterSet):
    organization = IdFilter(help_text="党组织 ID（含下级组织）")
    status = ChoiceFilter(choices=RectificationStatus.choices)
    search = SearchFilter(help_text="问题描述或组织名称包含")
    ordering = ordering_filter("deadline")
    selector_params = ("organization", "status", "search")

    class Meta:
        model = RectificationItem
        fields: list[str] = []
