"""Shared API conventions: strict query parameters, idempotent POSTs and gated querysets."""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework.exceptions import ValidationError

from core.access import VIEW
from core.api.idempotency import IdempotencyKeyMixin
from core.numbers import is_number

COMMON_QUERY_PARAMS = frozenset({"page", "page_size", "format"})


class StrictQueryParamsMixin(IdempotencyKeyMixin):
    """Unknown query parameters are a 400, never silently ignored, never a 500. Every API view has
    this base, so every POST also honours ``Idempotency-Key`` (core/api/idempotency.py)."""

    allowed_query_params: ClassVar[frozenset[str]] = frozenset()

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        allowed = COMMON_QUERY_PARAMS | self.allowed_query_params
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError({name: "不支持的查询参数" for name in unknown})
        page = request.query_params.get("page")
        if page is not None and page != "last" and not is_number(page):
            raise ValidationError({"page": "页码应为正整数"})
        page_size = request.query_params.get("page_size")
        if page_size is not None and (not is_number(page_size) or int(page_size) < 1):
            raise ValidationError({"page_size": "每页条数应为正整数"})


class GatedViewMixin(StrictQueryParamsMixin):
    """Every API view starts its queryset from the access gate (``visible_to``)."""

    gated_model: ClassVar[Any] = None

    def gated_queryset(self) -> Any:
        return self.gated_model.objects.visible_to(self.request.user, VIEW)  # type: ignore[attr-defined]
