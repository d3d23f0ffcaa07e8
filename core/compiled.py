"""A hot queryset compiled to SQL once per process, its values bound per call (#20.3).

Building and compiling a queryset with a few ``Q`` objects and subqueries costs a millisecond or
more of Python each time, often ten times what the database spends on it. ``compiled_rows`` keeps
the ORM as the one definition of the query: it builds the queryset with placeholder values
twice (two different sets), compiles both, and keeps the SQL only when the two agree on the text
and every parameter either stays the same or is one of the placeholders (as given, or inside a
``LIKE`` pattern). Each call then runs that SQL with its own values and makes the same model
instances ``Model.objects.raw`` would (annotations as attributes), with the column names and
converters worked out once per plan (``_Reader``) instead of on every call. A query whose parameters cannot be
matched that way, or whose first real values give other SQL or other parameters than the
substitution would, is not kept: every call builds it through the ORM, as before. The contract: ``build`` gives the same SQL text whatever the values
(a shape that depends on them, such as an ``if`` on a value, needs one key per shape).

Values are strings, integers, dates or datetimes (what the placeholders can stand for). Rows are read from
the database the routers pick for the model (the replica for heavy reads, core.replica), as the
ORM would.

Two fixed-shape reads on every request are built on the same idea (#20.1): ``PreparedLookup`` —
one row by its primary key, e.g. an organization with the five annotations its flags need (0.2 ms
of SQL, four times that to build and compile through the ORM) — and ``PreparedRowsWithRelated`` —
the rows of one key with one forward relation loaded (the API token with its user). Neither holds
anything of the request: scope is checked on the loaded row (``core.access.get_prepared_for_user``,
with the rules ``visible_to`` writes as SQL).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Count, Model, QuerySet, Window
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

_UNUSABLE = object()
_plans: dict[str, Any] = {}
_lock = threading.Lock()


def _letters(index: int, alphabet: str) -> str:
    return "".join(alphabet[int(digit)] for digit in str(index))


def _placeholder(value: Any, index: int, variant: int) -> Any:
    """Two placeholders per value that differ in every part a build could derive something from
    (each character and the length of a string; the year, month, day and hour of a date)."""
    if isinstance(value, bool):
        raise TypeError("compiled_rows: no placeholder for booleans")
    if isinstance(value, int):
        return -(1_000_003 + 1_000 * index + 7 * variant)
    if isinstance(value, dt.datetime):
        month, day = (1 + index % 12, 1 + index % 28) if variant == 0 else (1 + (index + 5) % 12, 3 + index % 25)
        return dt.datetime(1901 + 2 * variant, month, day, 1 + 5 * variant, tzinfo=value.tzinfo)
    if isinstance(value, dt.date):
        month, day = (1 + index % 12, 1 + index % 28) if variant == 0 else (1 + (index + 5) % 12, 3 + index % 25)
        return dt.date(1901 + 2 * variant, month, day)
    if isinstance(value, str):
        # letters only: nothing a LIKE pattern escapes
        return "qzqz" + _letters(index, "abcdefghij") if variant == 0 else "vwvwvw" + _letters(index, "klmnoprstu")
    raise TypeError(f"compiled_rows: no placeholder for {type(value).__name__}")


def _as_param(value: Any, connection: Any) -> Any:
    """A value as the ORM hands it to the database driver."""
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _patterns(placeholder: str) -> tuple[str, ...]:
    return (f"{placeholder}%", f"%{placeholder}%", f"%{placeholder}")


def _plan(build: Callable[..., QuerySet], values: dict[str, Any], using: str) -> Any:
    names = sorted(values)
    raw_first = {name: _placeholder(values[name], i, 0) for i, name in enumerate(names)}
    raw_second = {name: _placeholder(values[name], i, 1) for i, name in enumerate(names)}
    queryset = build(**raw_first)
    # Compared as the backend's driver receives them (SQLite gets dates and datetimes as text).
    first, second = ({n: _as_param(v, connections[using]) for n, v in d.items()} for d in (raw_first, raw_second))
    sql_a, params_a = queryset.query.get_compiler(using).as_sql()
    sql_b, params_b = build(**raw_second).query.get_compiler(using).as_sql()
    real = build(**values).query.get_compiler(using)
    sql_real, params_real = real.as_sql()
    if sql_a != sql_b or sql_real != sql_a or len(params_a) != len(params_b):
        return _UNUSABLE
    slots: list[tuple[str, Any]] = []
    for a, b in zip(params_a, params_b, strict=True):
        if a == b and not any(a == first[name] for name in names):
            slots.append(("constant", a))
            continue
        for name in names:
            if a == first[name] and b == second[name]:
                slots.append(("value", name))
                break
            if (
                isinstance(first[name], str)
                and a in _patterns(first[name])
                and a.replace(first[name], second[name]) == b
            ):
                slots.append(("like", (name, a.split(first[name]))))  # startswith / contains / endswith
                break
        else:
            return _UNUSABLE
    if _params(slots, values, connections[using]) != list(params_real):
        return _UNUSABLE  # something derived from a value that the placeholders did not show
    return queryset.model, sql_a, slots, _reader(real)


def _get_plan(key: str, build: Callable[..., QuerySet], values: dict[str, Any]) -> Any:
    plan = _plans.get(key)
    if plan is None:
        with _lock:
            plan = _plans.get(key)
            if plan is None:
                plan = _plans[key] = _plan(build, values, DEFAULT_DB_ALIAS)
    return plan


@dataclass(frozen=True)
class _Reader:
    """How a plan's rows become model instances, worked out once from the compiler of its real
    build: the model's columns (attribute names, in select order), the annotations by name and
    the database's converters by column — what ``Model.objects.raw`` works out on every call."""

    fields: tuple[str, ...]
    annotations: tuple[tuple[str, int], ...]
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]
    plain_attributes: bool  # every column a plain deferred attribute: set in __dict__ as Django does

    def instances(self, model: type[Model], alias: str, fetched: list[tuple[Any, ...]]) -> list[Model]:
        connection = connections[alias]
        # Django's own constructor when anything may watch or change it (signals, an __init__ or
        # from_db of the model's own); else the instance state from_db would give, set directly.
        plain = (
            self.plain_attributes
            and model.__init__ is Model.__init__
            and getattr(model.from_db, "__func__", None) is Model.from_db.__func__
            and not pre_init.has_listeners(model)
            and not post_init.has_listeners(model)
        )
        width = len(self.fields)
        out = []
        for fetched_row in fetched:
            row = fetched_row
            if self.converters:
                row = list(row)
                for index, functions, expression in self.converters:
                    value = row[index]
                    for convert in functions:
                        value = convert(value, expression, connection)
                    row[index] = value
            if plain:
                obj = model.__new__(model)
                state = ModelState()
                state.adding = False
                state.db = alias
                attributes = obj.__dict__
                attributes["_state"] = state
                attributes.update(zip(self.fields, row, strict=False))  # the annotations follow
            else:
                obj = model.from_db(alias, self.fields, row[:width])
            for name, index in self.annotations:
                setattr(obj, name, row[index])
            out.append(obj)
        return out


def _reader(compiler: Any) -> _Reader | None:
    """None when the rows are not one model's columns then its annotations (raw() reads them)."""
    info = compiler.klass_info
    if not info or info.get("related_klass_infos") or info.get("model") is not compiler.query.model:
        return None
    select = compiler.select
    indices = list(info["select_fields"])
    if indices != list(range(len(indices))):
        return None
    fields = tuple(select[i][0].target.attname for i in indices)
    model = compiler.query.model
    plain_attributes = all(
        type(getattr(model, name, None)) in (DeferredAttribute, ForeignKeyDeferredAttribute) for name in fields
    )
    converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])
    return _Reader(
        fields=fields,
        annotations=tuple(compiler.annotation_col_map.items()),
        converters=tuple(
            (index, tuple(functions), expression) for index, (functions, expression) in converters.items()
        ),
        plain_attributes=plain_attributes,
    )


@dataclass(frozen=True)
class _Bound:
    """A plan's statement with this call's values, on the database the routers pick."""

    model: type[Model]
    alias: str
    sql: str
    params: list[Any]
    reader: _Reader | None

    def rows(self, limit: int | None = None, offset: int = 0) -> list[Model]:
        sql, params = self.sql, self.params
        if limit is not None:
            sql, params = f"{sql} LIMIT %s OFFSET %s", [*params, limit, offset]
        if self.reader is None:
            return list(self.model._default_manager.using(self.alias).raw(sql, params))
        with connections[self.alias].cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        return self.reader.instances(self.model, self.alias, fetched)


def _bind(plan: Any, values: dict[str, Any], using: str | None = None) -> _Bound | None:
    """None when the plan is the ORM's (unusable) or the database is of another kind than the
    one the statement was compiled for."""
    if plan is _UNUSABLE:
        return None
    model, sql, slots, reader = plan
    alias = using or router.db_for_read(model)
    connection = connections[alias]
    if connection.vendor != connections[DEFAULT_DB_ALIAS].vendor:
        return None
    return _Bound(model, alias, sql, _params(slots, values, connection), reader)


class CompiledList:
    """What a ``Paginator`` pages (``count()`` and slices) for ``build(**values)``, through two
    statements compiled once per ``key``: the rows (``LIMIT``/``OFFSET`` bound per call) and their
    count. The rows are raw model instances: ``build`` annotates what the output needs instead of
    ``select_related`` (raw rows do not fill relations). A shape the plan cannot match is paged
    through the ORM, as before."""

    ordered = True
    small = False  # set by the caller: small enough for ``fetch_window``

    def __init__(self, key: str, build: Callable[..., QuerySet], **values: Any):
        self.key = key
        self.build = build
        self.values = values
        self._window: tuple[int, int, list[Model], int] | None = None

    def _statement(self, suffix: str, build: Callable[..., QuerySet]) -> _Bound | None:
        return _bind(_get_plan(self.key + suffix, build, self.values), self.values)

    def fetch_window(self, offset: int, limit: int) -> None:
        """Read one page's rows together with the total (``COUNT(*) OVER ()`` in the same
        statement) for the ``count()`` and the slice that follow: one statement instead of two. For
        small lists only (a branch's members): the window counts every row before the limit."""
        bound = self._statement(":window", lambda **v: self.build(**v).annotate(compiled_total=Window(Count("*"))))
        rows = bound.rows(limit, offset) if bound is not None else []
        if rows:  # an empty window (past the end) says nothing about the total: count() asks
            self._window = (offset, limit, rows, rows[0].compiled_total)

    def count(self) -> int:
        if self._window is not None:
            return self._window[3]
        bound = self._statement(":count", lambda **v: self.build(**v).order_by().values("pk"))
        if bound is None:
            return self.build(**self.values).count()
        with connections[bound.alias].cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({bound.sql}) compiled_count", bound.params)  # noqa: S608 - ORM-compiled SQL, values bound
            return int(cursor.fetchone()[0])

    def __getitem__(self, window: slice) -> list[Model]:
        start, stop = window.start or 0, window.stop
        fetched = self._window
        if fetched is not None and stop is not None and start == fetched[0] and stop - start <= fetched[1]:
            return fetched[2][: stop - start]
        bound = self._statement(":rows", self.build)
        if bound is None or stop is None or window.step is not None:
            return list(self.build(**self.values)[window])
        return bound.rows(stop - start, start)


def compiled_rows(key: str, build: Callable[..., QuerySet], *, using: str | None = None, **values: Any) -> list[Model]:
    """The rows of ``build(**values)``, with the SQL of ``build`` compiled once per process under
    ``key`` (one key per queryset shape: ``build`` must give the same query for any values). Read
    from ``using``, else from the database the routers pick for the model, as the ORM would."""
    bound = _bind(_get_plan(key, build, values), values, using)
    if bound is not None:
        return bound.rows()
    queryset = build(**values)
    return list(queryset.using(using) if using else queryset)


def _params(slots: list[tuple[str, Any]], values: dict[str, Any], connection: Any) -> list[Any]:
    params = []
    for kind, slot in slots:
        if kind == "constant":
            params.append(slot)
        elif kind == "value":
            params.append(_as_param(values[slot], connection))
        else:
            name, parts = slot
            params.append(connection.ops.prep_for_like_query(values[name]).join(parts))
    return params


_lookup_numbers = itertools.count(1)


class PreparedLookup:
    """One row of ``model`` by its primary key through ``compiled_rows``: ``build`` turns
    ``Model.objects.filter(pk=…)`` into the full queryset (annotations, ``only`` …; not
    ``select_related``, which raw rows do not fill). Parameters other than the key are fixed at
    first use, so ``build`` must not read the clock, the user or settings that change at run time."""

    def __init__(self, model: type[Model], build: Callable[[QuerySet], QuerySet]):
        self.model = model
        self._build = build
        self._key = f"lookup:{model._meta.label}:{next(_lookup_numbers)}"

    def _rows(self, pk: int) -> QuerySet:
        return self._build(self.model._default_manager.filter(pk=pk))

    def get(self, pk: Any) -> Any | None:
        """The row with primary key ``pk`` (annotations as attributes), or None. A key that is not
        an integer, or is beyond the key column's type, is no row (as through the ORM)."""
        try:
            key = int(pk)
        except (TypeError, ValueError):
            return None
        if str(key) != str(pk).strip():
            return None
        low, high = connections[DEFAULT_DB_ALIAS].ops.integer_field_range(self.model._meta.pk.get_internal_type())
        if (low is not None and key < low) or (high is not None and key > high):
            return None
        rows = compiled_rows(self._key, self._rows, pk=key)
        return rows[0] if rows else None


@functools.cache
def plain_lookup(model: type[Model]) -> PreparedLookup:
    """One row of ``model`` by its key, nothing annotated (one per model and process)."""
    return PreparedLookup(model, lambda queryset: queryset)


class PreparedRowsWithRelated:
    """Rows of ``model`` whose ``key_field`` equals a value, each with its forward relation
    ``related`` loaded (``select_related`` of one object): one statement, compiled once per
    process and database, the database's converters applied as the ORM applies them."""

    def __init__(self, model: type[Model], key_field: str, related: str):
        self.model = model
        self.key_field = key_field
        self.related = related
        # Per thread: the compiler keeps the connection it compiled with, and a connection belongs
        # to one thread (gthread workers, the test server): each thread compiles once for itself.
        self._local = threading.local()
        self._own = [f.attname for f in model._meta.concrete_fields]
        self._related_model = model._meta.get_field(related).related_model
        self._theirs = [f.attname for f in self._related_model._meta.concrete_fields]

    def _statement(self, using: str) -> tuple[str, tuple[Any, ...], int, Any]:
        mine = self._local.__dict__.setdefault("compiled", {})
        compiled = mine.get(using)
        if compiled is not None and compiled[3].connection is connections[using]:
            return compiled
        placeholder = _placeholder("", 0, 0)
        queryset = (
            self.model._default_manager.using(using)
            .filter(**{self.key_field: placeholder})
            .values_list(*self._own, *[f"{self.related}__{name}" for name in self._theirs])
        )
        compiler = queryset.query.get_compiler(using)
        sql, params = compiler.as_sql()
        slots = [i for i, value in enumerate(params) if value == placeholder]
        if len(slots) != 1:
            raise ImproperlyConfigured(f"{self.model.__name__}: the key must appear once in the statement")
        compiled = mine[using] = (sql, tuple(params), slots[0], compiler)
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
        relation = self.model._meta.get_field(self.related)
        for row in compiler.results_iter([fetched]):
            obj = self.model.from_db(using, self._own, row[:split])
            relation.set_cached_value(obj, self._related_model.from_db(using, self._theirs, row[split:]))
            out.append(obj)
        return out
