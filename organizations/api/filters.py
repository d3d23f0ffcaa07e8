"""Query parameters of the organization list (django-filter, see core.api.filters)."""

from __future__ import annotations

from typing import Any

from core.access import VIEW, get_for_user
from core.api.filters import ChoiceFilter, IdFilter, SearchFilter, SelectorFilterSet, ordering_filter
from organizations.choices import OrgType
from organizations.models import Organization


class OrganizationFilterSet(SelectorFilterSet):
    search = SearchFilter(help_text="名称、简称或代码包含")
    org_type = ChoiceFilter(choices=OrgType.choices)
    within = IdFilter(method="filter_within", help_text="党组织 ID：只列出该组织及其下级组织")
    ordering = ordering_filter("name", "path")
    selector_params = ("search", "org_type")

    class Meta:
        model = Organization
        fields: list[str] = []

    def filter_within(self, queryset: Any, name: str, value: int) -> Any:
        root = get_for_user(Organization, self.request.user, VIEW, pk=value)
        return queryset.filter(path__startswith=root.path)
