"""Shared API conventions: strict query parameters (FilterSets on lists), idempotent POSTs and
gated querysets."""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework.exceptions import ValidationError

from core.access import VIEW
from core.api.filters import FilterSetBackend
from core.api.idempotency import IdempotencyKeyMixin
from core.numbers import is_number

COMMON_QUERY_PARAMS = frozenset({"page", "page_size", "format"})


class StrictQueryParamsMixin(IdempotencyKeyMixin):
    """Unknown query parameters are a 400, never silently ignored, never a 500. Every API view has
    this base, so every POST also honours ``Idempotency-Key`` (core/api/idempotency.py).

    A viewset's ``list`` accepts exactly the filters of its ``filterset_class``; another action
    accepts the names in ``action_query_params[action]`` (none by default), so the parameters of
    one action (``roster``'s ``held_on``) are refused by the list. A plain APIView lists its
    parameters in ``allowed_query_params``.
    """

    allowed_query_params: ClassVar[frozenset[str]] = frozenset()
    action_query_params: ClassVar[dict[str, frozenset[str]]] = {}
    filterset_class: ClassVar[Any] = None

    @property
    def filter_backends(self) -> list[Any]:
        """The FilterSet backend on the list (or an APIView) with a FilterSet; read by the schema
        generator too, so a detail action returning many rows documents no list filters."""
        if self.filterset_class is None or getattr(self, "action", None) not in (None, "list"):
            return []
        return [FilterSetBackend]

    def allowed_params(self) -> frozenset[str]:
        action = getattr(self, "action", None)
        if action is None:  # an APIView, or a method the viewset does not route
            names = set(self.allowed_query_params)
            if self.filterset_class is not None:
                names |= set(self.filterset_class.base_filters)
            return frozenset(names)
        if action == "list" and self.filterset_class is not None:
            return frozenset(self.filterset_class.base_filters)
        return self.action_query_params.get(action, frozenset())

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        allowed = COMMON_QUERY_PARAMS | self.allowed_params()
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError({name: ["不支持的查询参数"] for name in unknown})
        page = request.query_params.get("page")
        if page is not None and page != "last" and not is_number(page):
            raise ValidationError({"page": ["页码应为正整数"]})
        page_size = request.query_params.get("page_size")
        if page_size is not None and (not is_number(page_size) or int(page_size) < 1):
            raise ValidationError({"page_size": ["每页条数应为正整数"]})

    def filter_queryset(self, queryset: Any) -> Any:
        """The FilterSet applied (plain ViewSets have no ``filter_queryset`` of their own)."""
        for backend in list(self.filter_backends):
            queryset = backend().filter_queryset(self.request, queryset, self)  # type: ignore[attr-defined]
        return queryset


class GatedViewMixin(StrictQueryParamsMixin):
    """Every API view starts its queryset from the access gate (``visible_to``)."""

    gated_model: ClassVar[Any] = None

    def gated_queryset(self) -> Any:
        return self.gated_model.objects.visible_to(self.request.user, VIEW)  # type: ignore[attr-defined]
