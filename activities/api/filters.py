"""Query parameters of the organizational-life lists (django-filter FilterSets, see core.api.filters)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import Http404

from activities.choices import FollowUpStatus, MeetingStatus, MeetingType, StudySource
from activities.models import FollowUp, Meeting, Plan, StudyPoints, StudyRecord, Talk
from core.access import VIEW, get_for_user, user_can
from core.api.filters import CachedFormFilterSet, ChoiceFilter, IdFilter, YearFilter, ordering_filter
from organizations.models import Organization


def visible_organization(request: Any, pk: int) -> Organization:
    """An organization named in a query string: 404 when its data is not visible (a member sees
    their own branch as an organization, not its organizational-life data)."""
    org = get_for_user(Organization, request.user, VIEW, pk=pk)
    if not user_can(request.user, VIEW, org, for_org_model=False):
        raise Http404("对象不存在或无权访问")
    return org


class OrganizationFilterSet(CachedFormFilterSet):
    """``?organization=`` (党组织 ID): the rows recorded for that organization."""

    organization = IdFilter(method="filter_organization", help_text="党组织 ID")

    def filter_organization(self, queryset: Any, name: str, value: int) -> Any:
        return queryset.filter(organization=visible_organization(self.request, value))


class MeetingFilterSet(OrganizationFilterSet):
    year = YearFilter(field_name="held_on__year")
    meeting_type = ChoiceFilter(
        choices=MeetingType.choices, method="filter_meeting_type", help_text="含“同时计为”该类型的会议"
    )
    status = ChoiceFilter(choices=MeetingStatus.choices)
    ordering = ordering_filter("held_on", "title")

    class Meta:
        model = Meeting
        fields: list[str] = []

    def filter_meeting_type(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(Q(meeting_type=value) | Q(credits__kind=value)).distinct()


class FollowUpFilterSet(OrganizationFilterSet):
    status = ChoiceFilter(
        choices=FollowUpStatus.choices, method="filter_status", help_text="open 含“落实中”（未办结的全部事项）"
    )
    ordering = ordering_filter("due_on")

    class Meta:
        model = FollowUp
        fields: list[str] = []

    def filter_status(self, queryset: Any, name: str, value: str) -> Any:
        if value == FollowUpStatus.OPEN:
            return queryset.filter(status__in=[FollowUpStatus.OPEN, FollowUpStatus.IN_PROGRESS])
        return queryset.filter(status=value)


class TalkFilterSet(OrganizationFilterSet):
    year = YearFilter(field_name="held_on__year")
    ordering = ordering_filter("held_on")

    class Meta:
        model = Talk
        fields: list[str] = []


class StudyRecordFilterSet(OrganizationFilterSet):
    year = YearFilter(field_name="studied_on__year")
    member = IdFilter(field_name="member_id", help_text="党员 ID")
    source = ChoiceFilter(choices=StudySource.choices)
    ordering = ordering_filter("studied_on")

    class Meta:
        model = StudyRecord
        fields: list[str] = []


class StudyPointsFilterSet(OrganizationFilterSet):
    member = IdFilter(field_name="member_id", help_text="党员 ID")
    ordering = ordering_filter("recorded_on")

    class Meta:
        model = StudyPoints
        fields: list[str] = []


class PlanFilterSet(OrganizationFilterSet):
    year = YearFilter(field_name="year")

    class Meta:
        model = Plan
        fields: list[str] = []
