"""Query parameters of the list endpoints: django-filter FilterSets, validated, applied, documented.

Every list view names a ``filterset_class``; its filters are the only query parameters the list
accepts (``core.api.mixins.StrictQueryParamsMixin`` refuses any other with a 400), bad values are a
400 with a list of messages per parameter, and drf-spectacular documents them from the FilterSet.

Two kinds of FilterSet:

- a plain ``django_filters.FilterSet`` whose filters apply themselves to the view's queryset;
- a ``SelectorFilterSet`` for lists whose rules live in the app's selector (``member_list``,
  ``rating_list`` …): the FilterSet validates and documents the parameters, the view passes
  ``selector_kwargs()`` to the selector, and only the remaining filters (``ordering``) apply here.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import django_filters
from django import forms
from django_filters.filters import FilterMethod
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from core.numbers import as_id, is_number

YEAR_MIN, YEAR_MAX = 2000, 2100


class AsciiIntegerField(forms.IntegerField):
    """ASCII digits only (``int`` takes "١٢", ``isdigit`` takes "²"); an id beyond any row is capped."""

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not is_number(text):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return as_id(text)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.Filter):
    """A positive integer id (``?organization=12``)."""

    field_class = AsciiIntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("error_messages", {"invalid": "应为正整数 ID", "min_value": "应为正整数 ID"})
        super().__init__(*args, **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class IntRangeFilter(django_filters.Filter):
    """An integer within bounds (``?quarter=1`` … ``4``); the message names the bounds."""

    field_class = AsciiIntegerField

    def __init__(self, *args: Any, low: int, high: int, label_: str = "取值", **kwargs: Any) -> None:
        message = f"{label_}应为 {low} 至 {high} 之间的整数"
        kwargs.update(
            min_value=low,
            max_value=high,
            error_messages={"invalid": message, "min_value": message, "max_value": message},
        )
        super().__init__(*args, **kwargs)


class YearFilter(IntRangeFilter):
    """A calendar year, 2000–2100 (``?year=2026``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "年度，如 2026")
        super().__init__(*args, low=YEAR_MIN, high=YEAR_MAX, label_="年度", **kwargs)


class ChoiceFilter(django_filters.ChoiceFilter):
    """A choice with the project's message for a value outside the list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"invalid_choice": "不支持的取值：%(value)s"})
        super().__init__(*args, **kwargs)


class SearchFilter(django_filters.CharFilter):
    """Free text, at most 100 characters used, NUL refused."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [_no_nul])
        super().__init__(*args, **kwargs)

    def filter(self, qs: Any, value: Any) -> Any:
        return super().filter(qs, (value or "")[:100])


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise forms.ValidationError("搜索内容包含无效字符")


# Labels of the sortable fields, for the schema's description of ``ordering``.
ORDERING_LABELS = {
    "name": "名称",
    "path": "组织树顺序",
    "title": "标题",
    "joined_on": "入党日期",
    "held_on": "日期",
    "due_on": "期限",
    "deadline": "整改期限",
    "studied_on": "学习日期",
    "recorded_on": "登记日期",
    "occurred_on": "日期",
    "issued_on": "开具日期",
    "month": "月份",
    "paid_on": "缴纳日期",
    "approved_on": "批准日期",
}


def ordering_filter(*fields: str) -> django_filters.OrderingFilter:
    """``?ordering=name`` / ``?ordering=-held_on``: only the listed fields; several comma-separated."""
    return django_filters.OrderingFilter(
        fields=tuple((f, f) for f in fields),
        field_labels={f: ORDERING_LABELS.get(f, f) for f in fields},
        help_text="排序：" + "、".join(fields) + "（前加 - 为倒序）",
        error_messages={"invalid_choice": "不支持的排序字段：%(value)s"},
    )


class _CopiedShallow(dict):
    """Filters or form fields whose per-request copy is one level deep.

    django-filter deep-copies a FilterSet's filters and Django a form's fields for every request
    (widgets, choices, validators and messages included: a third of a millisecond for the member
    list). Here nothing of them changes per request — the API never renders these forms, the
    choices are static — so each request gets its own filter and field objects (each filter's
    ``model`` and ``parent`` are set per request) that share what they hold."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        copied = {}
        for name, item in self.items():
            twin = copy.copy(item)
            if isinstance(twin.__dict__.get("filter"), FilterMethod):
                twin.method = twin.method  # a ``method=`` filter: bound to this copy, not the original
            copied[name] = twin
        return copied


class CachedFormFilterSet(django_filters.FilterSet):
    """The form class of a FilterSet built once per class, not per request (#20.2).

    django-filter builds a new form class from its filters on every request (each filter makes its
    form field anew); the fields depend only on the class's filters here (static choices, no
    request-dependent querysets), so the class is kept. Each request still gets its own form
    instance, its own field objects and its own filter objects, copied one level deep
    (``_CopiedShallow``).
    """

    _form_classes: ClassVar[dict[type, Any]] = {}
    _shallow_filters: ClassVar[dict[type, _CopiedShallow]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        shallow = CachedFormFilterSet._shallow_filters.get(type(self))
        if shallow is None:
            shallow = CachedFormFilterSet._shallow_filters[type(self)] = _CopiedShallow(type(self).base_filters)
        self.base_filters = shallow  # what django-filter's __init__ copies for this instance
        super().__init__(*args, **kwargs)

    def get_form_class(self) -> Any:
        form_class = CachedFormFilterSet._form_classes.get(type(self))
        if form_class is None:
            form_class = super().get_form_class()
            form_class.base_fields = _CopiedShallow(form_class.base_fields)  # a class of its own: built here
            CachedFormFilterSet._form_classes[type(self)] = form_class
        return form_class


class SelectorFilterSet(CachedFormFilterSet):
    """Parameters validated and documented here and applied by the app's selector.

    ``selector_params`` names the filters handed to the selector (``selector_kwargs()``); the others
    (``ordering``) apply to the selector's queryset as usual.
    """

    selector_params: ClassVar[tuple[str, ...]] = ()

    def filter_queryset(self, queryset: Any) -> Any:
        for name, value in self.form.cleaned_data.items():
            if name not in self.selector_params:
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def selector_kwargs(self) -> dict[str, Any]:
        if not self.is_valid():
            raise ValidationError(self.errors)
        return {name: self.selector_value(name, self.form.cleaned_data.get(name)) for name in self.selector_params}

    def selector_value(self, name: str, value: Any) -> Any:
        """The value the selector takes: ``""`` for an absent choice, ``None`` for an absent id."""
        if value in (None, "") and isinstance(self.filters[name], django_filters.CharFilter | ChoiceFilter):
            return ""
        return value


class FilterSetBackend(DjangoFilterBackend):
    """Applies the view's FilterSet; invalid parameters are a 400 with a list per parameter."""

    def get_filterset_kwargs(self, request: Any, queryset: Any, view: Any) -> dict[str, Any]:
        return {"data": request.query_params, "queryset": queryset, "request": request}

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        """A ``SelectorFilterSet`` the view already validated (``validated_filterset``) is applied
        again to the selector's queryset, not built and validated a second time."""
        validated = getattr(view, "_validated_filterset", None)
        if isinstance(validated, SelectorFilterSet) and type(validated) is getattr(view, "filterset_class", None):
            return validated.filter_queryset(queryset)
        return super().filter_queryset(request, queryset, view)


def validated_filterset(view: Any, queryset: Any = None) -> Any:
    """The view's FilterSet bound to the request's query string, valid or a 400."""
    if queryset is None:
        queryset = view.queryset  # an empty queryset of the list's model (views declare it for the schema)
    filterset = view.filterset_class(view.request.query_params, queryset=queryset, request=view.request)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    if queryset is view.queryset:
        view._validated_filterset = filterset  # the list's FilterSetBackend reuses it
    return filterset
