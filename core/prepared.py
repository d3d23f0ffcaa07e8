"""One-object lookups whose SQL is compiled once per process (#20.1).

Reading one organization with the five annotations its flags need is 0.2 ms of SQL, but building
and compiling that queryset — five correlated subqueries, each cloned and resolved by the ORM —
cost four times as much on every request. A ``PreparedLookup`` lets the ORM write the statement
once, for a placeholder primary key, and afterwards only swaps the key in and runs it.

The statement must not depend on the request: no user, no date, no scope. Scope is checked in
Python on the loaded row (``core.access.get_prepared_for_user``, with ``user_can`` — the same rules
``visible_to`` turns into SQL), so a row outside the user's scope is a 404, exactly like
``get_for_user``; ``get_for_user(Organization, user, action, pk=…)`` takes this path itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router

# Keys no row has: they mark where the real key goes among the compiled parameters.
_PLACEHOLDER = -2_130_518_263  # inside a 32-bit key's range (an AutoField refuses others)
_TEXT_PLACEHOLDER = "\u2063prepared-key\u2063"


class PreparedLookup:
    """``build`` turns ``Model.objects.filter(pk=…)`` into the full queryset (annotations,
    ``select_related``, ``only`` …). Parameters other than the key are frozen at first use, so
    ``build`` must not read the clock, settings that change at run time or the user."""

    def __init__(self, model: type[models.Model], build: Callable[[models.QuerySet], models.QuerySet]):
        self.model = model
        self._build = build
        self._compiled: dict[str, tuple[str, tuple[Any, ...], int]] = {}
        self._lock = threading.Lock()

    def _statement(self, using: str) -> tuple[str, tuple[Any, ...], int]:
        compiled = self._compiled.get(using)
        if compiled is None:
            with self._lock:
                queryset = self._build(self.model._default_manager.using(using).filter(pk=_PLACEHOLDER))
                sql, params = queryset.query.get_compiler(using).as_sql()
                slots = [i for i, value in enumerate(params) if value == _PLACEHOLDER]
                if len(slots) != 1:
                    raise ImproperlyConfigured(f"{self.model.__name__}: the key must appear once in the statement")
                compiled = self._compiled[using] = (sql, tuple(params), slots[0])
        return compiled

    def _key_range(self, using: str) -> tuple[int | None, int | None]:
        field = self.model._meta.pk
        return connections[using].ops.integer_field_range(field.get_internal_type())

    def get(self, pk: Any) -> Any | None:
        """The row with primary key ``pk`` (annotations as attributes), or None. A key that is not
        an integer is no row."""
        try:
            key = int(pk)
        except (TypeError, ValueError):
            return None
        if str(key) != str(pk).strip() or key == _PLACEHOLDER:
            return None
        using = router.db_for_read(self.model)
        sql, frozen, slot = self._statement(using)
        low, high = self._key_range(using)
        if (low is not None and key < low) or (high is not None and key > high):
            return None  # beyond the column's type: no row (the ORM answers the same way)
        params = list(frozen)
        params[slot] = key
        rows = list(self.model._default_manager.db_manager(using).raw(sql, params))
        return rows[0] if rows else None


class PreparedRowsWithRelated:
    """Rows of ``model`` whose ``key_field`` equals a value, each with its forward relation
    ``related`` loaded (``select_related`` of one object): one statement, compiled once per
    process and database. Used by token authentication, which runs on every API call."""

    def __init__(self, model: type[models.Model], key_field: str, related: str):
        self.model = model
        self.key_field = key_field
        self.related = related
        self._compiled: dict[str, tuple[str, tuple[Any, ...], int, Any]] = {}
        self._lock = threading.Lock()
        self._own = [f.attname for f in model._meta.concrete_fields]
        self._related_model = model._meta.get_field(related).related_model
        self._theirs = [f.attname for f in self._related_model._meta.concrete_fields]

    def _statement(self, using: str) -> tuple[str, tuple[Any, ...], int, Any]:
        compiled = self._compiled.get(using)
        if compiled is None:
            with self._lock:
                queryset = (
                    self.model._default_manager.using(using)
                    .filter(**{self.key_field: _TEXT_PLACEHOLDER})
                    .values_list(*self._own, *[f"{self.related}__{name}" for name in self._theirs])
                )
                compiler = queryset.query.get_compiler(using)
                sql, params = compiler.as_sql()
                slots = [i for i, value in enumerate(params) if value == _TEXT_PLACEHOLDER]
                if len(slots) != 1:
                    raise ImproperlyConfigured(f"{self.model.__name__}: the key must appear once in the statement")
                compiled = self._compiled[using] = (sql, tuple(params), slots[0], compiler)
        return compiled

    def rows(self, value: str) -> list[Any]:
        using = router.db_for_read(self.model)
        sql, frozen, slot, compiler = self._statement(using)
        params = list(frozen)
        params[slot] = str(value)
        with compiler.connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        out = []
        split = len(self._own)
        # The database's converters (SQLite dates, …) as the ORM applies them.
        for row in compiler.results_iter([fetched]):
            obj = self.model.from_db(using, self._own, row[:split])
            other = self._related_model.from_db(using, self._theirs, row[split:])
            self.model._meta.get_field(self.related).set_cached_value(obj, other)
            out.append(obj)
        return out
