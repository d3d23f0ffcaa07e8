"""Query parameters of the member and transfer lists (django-filter, see core.api.filters).

The rules (subtree, 党小组, attention flags, ID/phone search) live in ``members.selectors``; these
FilterSets validate and document the parameters and hand them to the selectors.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from core.access import VIEW, get_for_user
from core.api.filters import (
    CachedFormFilterSet,
    ChoiceFilter,
    IdFilter,
    SearchFilter,
    SelectorFilterSet,
    ordering_filter,
)
from members.choices import MembershipStatus, Stage, TransferKind, TransferStatus
from members.models import Member, MemberTransfer
from members.selectors import ATTENTION_FLAGS
from organizations.models import Organization


def organization_subtree_q(request: Any, pk: int, prefix: str = "") -> Q:
    """Rows of the organization and its subtree; 404 when the organization is not visible."""
    org = get_for_user(Organization, request.user, VIEW, pk=pk)
    return Q(**{f"{prefix}organization__path__startswith": org.path})


class SubtreeFilterSet(CachedFormFilterSet):
    """``?organization=`` with the organization's subtree included."""

    organization = IdFilter(method="filter_organization", help_text="党组织 ID（含下级组织）")

    def filter_organization(self, queryset: Any, name: str, value: int) -> Any:
        return queryset.filter(organization_subtree_q(self.request, value))


class MemberFilterSet(SelectorFilterSet):
    organization = IdFilter(help_text="党组织 ID：其下级组织（子树）的党员都包括在内")
    stage = ChoiceFilter(choices=Stage.choices)
    status = ChoiceFilter(choices=MembershipStatus.choices)
    flag = ChoiceFilter(choices=list(ATTENTION_FLAGS.items()))
    search = SearchFilter(help_text="姓名包含（完整号码请用 POST /api/v1/members/find/）")
    ordering = ordering_filter("name", "joined_on")
    selector_params = ("organization", "stage", "status", "flag", "search")

    class Meta:
        model = Member
        fields: list[str] = []

    def selector_value(self, name: str, value: Any) -> Any:
        if name == "organization":
            return get_for_user(Organization, self.request.user, VIEW, pk=value) if value else None
        if name == "search":
            return (value or "")[:100]
        return super().selector_value(name, value)


class TransferFilterSet(SelectorFilterSet):
    status = ChoiceFilter(choices=TransferStatus.choices)
    kind = ChoiceFilter(choices=TransferKind.choices)
    direction = ChoiceFilter(choices=[("in", "转入"), ("out", "转出")], help_text="相对于本人可办理的组织：转入 / 转出")
    member = IdFilter(field_name="member_id", help_text="党员 ID")
    ordering = ordering_filter("issued_on")
    selector_params = ("status", "kind", "direction")

    class Meta:
        model = MemberTransfer
        fields: list[str] = []
