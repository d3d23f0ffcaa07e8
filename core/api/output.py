"""Output serializers that build their fields once per class, not once per request (#20.2).

DRF's ``ModelSerializer`` introspects the model and deep-copies its declared fields every time a
serializer is created, then reads each attribute through a generic path that calls
``inspect.signature`` on callables such as ``get_stage_display``. For the long lists (members,
meetings, the dues ledger) that was a third of the request. ``PlannedOutputMixin`` keeps one bound
set of fields per class (a "plan") and writes each row with the same DRF field objects and the
same rules as ``Serializer.to_representation`` (``None`` stays ``None``; a missing nested attribute
of a read-only field leaves the key out), so the JSON is the same; tests compare the two.

Only read-only output serializers use it. A ``SerializerMethodField`` is called on the serializer
of the request (its own context); a field type the plan does not know makes the class fall back to
DRF's path for good.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, ClassVar

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.utils.encoding import force_str
from django.utils.functional import Promise
from django.utils.hashable import make_hashable
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject, PrimaryKeyRelatedField

_PLAIN = (
    serializers.ReadOnlyField,
    serializers.CharField,
    serializers.IntegerField,
    serializers.BooleanField,
    serializers.DateField,
    serializers.DateTimeField,
    serializers.TimeField,
    serializers.DecimalField,
    serializers.FloatField,
    serializers.ChoiceField,
    serializers.JSONField,
    serializers.ListField,
    serializers.DictField,
)
_UNPLANNED = object()


def _same(value: Any) -> Any:
    return value


def _writer(field: Any) -> Any:
    """How one column's value is written: DRF's ``to_representation`` of the field, or the value
    itself where that is what DRF would write (a ``str`` through a ``CharField``, a bool through a
    ``BooleanField``, an ``int`` through an ``IntegerField``, anything through a ``ReadOnlyField``)."""
    kind = type(field)
    if kind is serializers.ReadOnlyField:
        return _same
    same_types = {serializers.CharField: str, serializers.BooleanField: bool, serializers.IntegerField: int}.get(kind)
    if same_types is None:
        return field.to_representation
    convert = field.to_representation

    def write(value: Any) -> Any:
        return value if type(value) is same_types else convert(value)

    return write


def _choice_labels(model: Any, method: str) -> tuple[str, dict[Any, Any]] | None:
    """For ``get_<field>_display`` as Django defines it (not overridden by the model): the field's
    attribute name and its choices as a dict, the lookup ``Model._get_FIELD_display`` builds on
    every call. None when the model defines the method itself."""
    name = method[len("get_") : -len("_display")]
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    defined = inspect.getattr_static(model, method, None)
    if not (
        isinstance(defined, functools.partialmethod)
        and defined.func is Model._get_FIELD_display
        and defined.keywords.get("field") is model_field
    ):
        return None
    return model_field.attname, {make_hashable(value): label for value, label in model_field.flatchoices}


class PlannedOutputMixin:
    # Mix into a read-only output ``Serializer`` / ``ModelSerializer`` (before it in the bases).
    # No docstring: drf-spectacular would take it as the description of every schema component
    # whose serializer has none of its own.

    _plans: ClassVar[dict[type, Any]] = {}
    _plans_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def _plan(cls, prototype: Any) -> Any:
        plan = PlannedOutputMixin._plans.get(cls)
        if plan is not None:
            return plan
        with PlannedOutputMixin._plans_lock:
            plan = PlannedOutputMixin._plans.get(cls)
            if plan is None:
                plan = cls._build_plan(prototype)
                PlannedOutputMixin._plans[cls] = plan
        return plan

    @classmethod
    def _build_plan(cls, prototype: Any) -> Any:
        model = getattr(getattr(cls, "Meta", None), "model", None)
        # A model's own column is a plain attribute (never a callable): read it directly, without
        # DRF's generic attribute walk.
        columns = {f.attname for f in model._meta.concrete_fields if not f.is_relation} if model else set()
        steps = []
        for field in prototype._readable_fields:
            if isinstance(field, serializers.SerializerMethodField):
                steps.append(("method", field.field_name, field.method_name, None))
            elif isinstance(field, PrimaryKeyRelatedField) and field.pk_field is None and len(field.source_attrs) == 1:
                steps.append(("pk", field.field_name, field.source_attrs[0], field))
            elif type(field).__module__.startswith("rest_framework") and not isinstance(field, _PLAIN):
                return _UNPLANNED  # nested serializers, hyperlinks, …: DRF's own path
            elif field.source == "*":
                return _UNPLANNED
            else:
                attrs = field.source_attrs
                display = len(attrs) == 1 and attrs[0].startswith("get_") and attrs[0].endswith("_display")
                if not display and len(attrs) == 1 and attrs[0] in columns:
                    steps.append(("column", field.field_name, attrs[0], _writer(field)))
                    continue
                labels = _choice_labels(model, attrs[0]) if display and model else None
                if labels is not None:
                    steps.append(("label", field.field_name, labels, field))
                    continue
                steps.append(("display" if display else "attr", field.field_name, attrs, field))
        return steps

    def to_representation(self, instance: Any) -> Any:
        plan = self._plan(self)
        if plan is _UNPLANNED:
            return super().to_representation(instance)
        ret: dict[str, Any] = {}
        for kind, name, source, field in plan:
            if kind == "column":
                value = getattr(instance, source)
                ret[name] = None if value is None else field(value)
                continue
            if kind == "method":
                ret[name] = getattr(self, source)(instance)
                continue
            if kind == "pk":
                ret[name] = instance.serializable_value(source)
                continue
            if kind == "label":
                attname, labels = source
                value = getattr(instance, attname)
                try:
                    label = labels.get(value, value)
                except TypeError:  # an unhashable value: Django's own method
                    label = getattr(instance, f"get_{attname}_display")()
                if isinstance(label, Promise):
                    label = force_str(label)
                ret[name] = None if label is None else field.to_representation(label)
                continue
            if kind == "display":
                value = getattr(instance, source[0])()
            else:
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
            check = value.pk if isinstance(value, PKOnlyObject) else value
            ret[name] = None if check is None else field.to_representation(value)
        return ret
