"""Query parameters of the inbox list (django-filter, see core.api.filters)."""

from __future__ import annotations

from typing import Any

import django_filters

from core.api.filters import ChoiceFilter
from notifications.models import Notification


class NotificationFilterSet(django_filters.FilterSet):
    unread = ChoiceFilter(
        choices=[("true", "只列出未读消息"), ("false", "全部消息")],
        method="filter_unread",
        help_text="true：只列出未读消息",
    )

    class Meta:
        model = Notification
        fields: list[str] = []

    def filter_unread(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.unread() if value == "true" else queryset
