"""Keeping the summary tables current: per-organization refresh and the full rebuild.

A *family* is a list of *sources*. A source computes an organization's **own** facts as rows
``(organization_id, period, metric, dimension, value, amount)``:

- a ``QuerySource`` is a grouped queryset, so the full rebuild runs it as one
  ``INSERT … SELECT`` for the whole tree and a refresh runs it for a few organizations;
- a ``PythonSource`` yields rows from Python (for rules that live in Python, e.g. the
  organization flags of ``organizations.selectors.organization_flags``).

``facts_refresh(org_ids=…, families=…)`` recomputes the own rows of a few organizations, diffs
them against the stored ones and adds the difference to the cumulative rows of each organization
and all its ancestors (one upsert per changed key). ``facts_rebuild()`` rewrites everything:
own rows from the sources, then the cumulative rows by grouping own rows on each path prefix.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.dates import today
from dashboard.answers import retire_all
from dashboard.builds import FACTS_VERSION, Progress
from dashboard.models import DashboardBuild, DashboardFact
from organizations.models import Organization

logger = logging.getLogger(__name__)
Row = tuple[int, str, str, str, int, Decimal]
Key = tuple[int, str, str, str]  # (organization_id, period, metric, dimension)
ZERO = Decimal("0.00")
BATCH = 5000


@dataclass(frozen=True)
class QuerySource:
    """``build(org_ids, on)`` returns a queryset of ``values_list`` rows named ``f_org, f_period,
    f_metric, f_dim, f_value, f_amount`` (see ``grouped``); ``org_ids=None`` means every organization."""

    build: Callable[[list[int] | None, date], QuerySet]

    def rows(self, org_ids: list[int] | None, on: date) -> Iterator[Row]:
        yield from self.build(org_ids, on)


@dataclass(frozen=True)
class PythonSource:
    build: Callable[[list[int] | None, date], Iterable[Row]]

    def rows(self, org_ids: list[int] | None, on: date) -> Iterator[Row]:
        yield from self.build(org_ids, on)


@dataclass
class Family:
    name: str
    label: str
    sources: list[QuerySource | PythonSource] = field(default_factory=list)


FAMILIES: dict[str, Family] = {}


def family_register(name: str, label: str, sources: list[QuerySource | PythonSource]) -> Family:
    """Add (or replace) a family of sources. Called at import time by ``dashboard.sources``."""
    fam = Family(name, label, list(sources))
    FAMILIES[name] = fam
    return fam


def grouped(
    queryset: QuerySet,
    *,
    org: Any,
    period: Any,
    metric: Any,
    dimension: Any,
    value: Any,
    amount: Any = None,
) -> QuerySet:
    """``queryset`` grouped into fact rows. Every argument is a Django expression."""
    from django.db.models import DecimalField, Value

    if amount is None:
        amount = Value(ZERO, output_field=DecimalField(max_digits=16, decimal_places=2))
    return (
        queryset.order_by()
        .annotate(f_org=org, f_period=period, f_metric=metric, f_dim=dimension)
        .values("f_org", "f_period", "f_metric", "f_dim")
        .annotate(f_value=value, f_amount=amount)
        .values_list("f_org", "f_period", "f_metric", "f_dim", "f_value", "f_amount")
    )


def _families(names: Iterable[str]) -> list[Family]:
    unknown = [name for name in names if name not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown dashboard families: {unknown}")
    return [FAMILIES[name] for name in names]


def _compute_own(families: list[Family], org_ids: list[int] | None, on: date) -> dict[Key, tuple[str, int, Decimal]]:
    out: dict[Key, tuple[str, int, Decimal]] = {}
    for fam in families:
        for source in fam.sources:
            for org_id, period, metric, dim, value, amount in source.rows(org_ids, on):
                if org_id is None:
                    continue
                key = (org_id, str(period), str(metric), str(dim or ""))
                prev = out.get(key)
                value = int(value or 0)
                amount = Decimal(amount or 0)
                if prev:
                    value += prev[1]
                    amount += prev[2]
                out[key] = (fam.name, value, amount)
    return out


def facts_recount(*, org_ids: list[int] | None, on: date) -> dict[Key, tuple[str, int, Decimal]]:
    """Own facts of every family recomputed from the source rows (every organization when None)."""
    return _compute_own(list(FAMILIES.values()), org_ids, on)


def _ancestor_paths(path: str) -> list[str]:
    step = Organization.steplen
    return [path[:i] for i in range(step, len(path) + 1, step)]


def _upsert_increments(rows: list[tuple[int, str, str, str, str, int, Decimal]]) -> None:
    """Add ``value``/``amount`` to cumulative rows, creating them when missing (one statement per batch)."""
    table = DashboardFact._meta.db_table
    sql = (  # table name from the model; values are parameters
        f"INSERT INTO {table} (organization_id, cumulative, family, period, metric, dimension, value, amount) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (organization_id, cumulative, period, metric, dimension) DO UPDATE SET "
        f"value = {table}.value + EXCLUDED.value, amount = {table}.amount + EXCLUDED.amount"
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                (org, True, fam, period, metric, dim, value, amount)
                for org, fam, period, metric, dim, value, amount in rows
            ],
        )


def facts_refresh(*, org_ids: Iterable[int], families: Iterable[str]) -> int:
    """Recompute the own facts of ``org_ids`` for ``families`` and carry the difference up the tree.

    Returns the number of changed keys. Locks the organizations' rows (in id order) so two
    concurrent refreshes of one organization cannot both apply the same difference. The lock is
    ``FOR NO KEY UPDATE``: it excludes another refresh, a move or a delete of the organization, but
    not the ``FOR KEY SHARE`` that PostgreSQL's foreign-key checks take, so a change that inserts a
    row of the organization (a meeting, its credit) and commits meanwhile does not wait for the
    refresh (#20.3: with ``FOR UPDATE`` every writer's COMMIT waited for the worker's drain while
    holding the audit chain's head).
    """
    ids = sorted({int(pk) for pk in org_ids if pk is not None})
    fams = _families(sorted(set(families)))
    if not ids or not fams:
        return 0
    names = [fam.name for fam in fams]
    with transaction.atomic():
        paths = dict(
            Organization.objects.select_for_update(no_key=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", "path")
        )
        ids = [pk for pk in ids if pk in paths]
        if not ids:
            return 0
        new = _compute_own(fams, ids, today())
        old_rows = DashboardFact.objects.filter(
            organization_id__in=ids, cumulative=False, family__in=names
        ).values_list("organization_id", "period", "metric", "dimension", "family", "value", "amount")
        old = {(o, p, m, d): (f, v, a) for o, p, m, d, f, v, a in old_rows}
        changed: dict[Key, tuple[str, int, Decimal]] = {}
        for key in set(old) | set(new):
            fam_name, new_value, new_amount = new.get(key, (old.get(key, ("", 0, ZERO))[0], 0, ZERO))
            _, old_value, old_amount = old.get(key, (fam_name, 0, ZERO))
            if new_value != old_value or new_amount != old_amount:
                changed[key] = (fam_name, new_value - old_value, new_amount - old_amount)
        if not changed:
            return 0
        DashboardFact.objects.filter(organization_id__in=ids, cumulative=False, family__in=names).delete()
        DashboardFact.objects.bulk_create(
            [
                DashboardFact(
                    organization_id=o, cumulative=False, family=f, period=p, metric=m, dimension=d, value=v, amount=a
                )
                for (o, p, m, d), (f, v, a) in sorted(new.items())
                if v or a
            ],
            batch_size=BATCH,
        )
        wanted = {prefix for pk in ids for prefix in _ancestor_paths(paths[pk])}
        ancestor_ids = dict(Organization.objects.filter(path__in=wanted).values_list("path", "pk"))
        totals: dict[tuple[int, str, str, str, str], list] = defaultdict(lambda: [0, ZERO])
        for (org_id, period, metric, dim), (fam_name, dv, da) in changed.items():
            for prefix in _ancestor_paths(paths[org_id]):
                anc = ancestor_ids.get(prefix)
                if anc is None:
                    continue
                slot = totals[(anc, fam_name, period, metric, dim)]
                slot[0] += dv
                slot[1] += da
        rows = [(k[0], k[1], k[2], k[3], k[4], v[0], v[1]) for k, v in sorted(totals.items()) if v[0] or v[1]]
        _upsert_increments(rows)
        DashboardFact.objects.filter(
            organization_id__in=set(ancestor_ids.values()), cumulative=True, family__in=names, value=0, amount=0
        ).delete()
        retire_all()  # kept dashboard answers (dashboard.answers) show these figures
    return len(changed)


def _insert_select(queryset: QuerySet, family: str) -> None:
    sql, params = queryset.query.sql_with_params()
    table = DashboardFact._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(  # table name from the model; the SELECT is compiled by the ORM
            f"INSERT INTO {table} (organization_id, cumulative, family, period, metric, dimension, value, amount) "  # noqa: S608
            f"SELECT s.f_org, %s, %s, s.f_period, s.f_metric, COALESCE(s.f_dim, ''), s.f_value, s.f_amount "
            f"FROM ({sql}) s WHERE s.f_org IS NOT NULL AND (s.f_value <> 0 OR s.f_amount <> 0)",
            [False, family, *params],
        )


def _rebuild_cumulative(names: list[str]) -> None:
    """Cumulative rows = own rows grouped on each path prefix (one statement per tree depth)."""
    table = DashboardFact._meta.db_table
    org_table = Organization._meta.db_table
    step = Organization.steplen
    max_depth = Organization.objects.order_by("-depth").values_list("depth", flat=True).first() or 0
    marks = ", ".join(["%s"] * len(names))
    with connection.cursor() as cursor:
        for depth in range(1, max_depth + 1):
            cursor.execute(  # table names from the models; values are parameters
                f"INSERT INTO {table} (organization_id, cumulative, family, period, metric, dimension, value, amount) "  # noqa: S608
                f"SELECT anc.id, %s, f.family, f.period, f.metric, f.dimension, SUM(f.value), SUM(f.amount) "
                f"FROM {table} f JOIN {org_table} o ON o.id = f.organization_id "
                f"JOIN {org_table} anc ON anc.path = SUBSTR(o.path, 1, %s) "
                f"WHERE f.cumulative = %s AND o.depth >= %s AND f.family IN ({marks}) "
                f"GROUP BY anc.id, f.family, f.period, f.metric, f.dimension",
                [True, depth * step, False, depth, *names],
            )


def facts_rebuild(*, families: Iterable[str] | None = None, reason: str = "nightly") -> int:
    """Rewrite the summary tables of ``families`` (all by default) for the whole tree.

    Idempotent; runs in one transaction so readers see either the old or the new figures.
    The ``DashboardBuild`` row records the build (its progress is written through a second
    connection on PostgreSQL, so pages can show it while the transaction runs).
    Returns the number of rows written.
    """
    names = sorted(set(families)) if families is not None else sorted(FAMILIES)
    fams = _families(names)
    now = timezone.now()
    steps = sum(len(fam.sources) for fam in fams) + 1
    build = DashboardBuild.objects.create(
        requested_at=now,
        started_at=now,
        reason=reason,
        version=FACTS_VERSION if families is None else 0,
        families=",".join(names),
        steps_total=steps,
    )
    try:
        _rebuild(fams, names, build)
    except Exception:
        _requeue(build)
        raise
    retire_all()
    rows = DashboardFact.objects.filter(family__in=names).count()
    build.finished_at = timezone.now()
    build.rows = rows
    build.steps_done = steps
    build.save(update_fields=["finished_at", "rows", "steps_done"])
    return rows


def _rebuild(fams: list[Family], names: list[str], build: DashboardBuild) -> None:
    on = today()
    with Progress(build) as progress, transaction.atomic():
        # DELETE, not TRUNCATE: readers keep seeing the old figures until this transaction commits.
        DashboardFact.objects.filter(family__in=names).delete()
        for fam in fams:
            for source in fam.sources:
                if isinstance(source, QuerySource):
                    _insert_select(source.build(None, on), fam.name)
                else:
                    own = _compute_own([Family(fam.name, fam.label, [source])], None, on)
                    _write_own(own)
                progress.step()
        _rebuild_cumulative(names)


def _requeue(build: DashboardBuild) -> None:
    """A failed build becomes a request again (the sweeper retries it); a nightly one is dropped."""
    try:
        rows = DashboardBuild.objects.filter(pk=build.pk)
        if build.reason == "nightly":
            rows.delete()
        else:
            rows.update(started_at=None, steps_done=0)
    except Exception:  # the database is gone: the sweeper retries after the rebuild's time limit
        logger.exception("dashboard rebuild %s failed and could not be re-queued", build.pk)


def _write_own(own: dict[Key, tuple[str, int, Decimal]]) -> None:
    """Insert own rows computed in Python: COPY on PostgreSQL (a rebuild writes millions), else bulk_create."""
    rows = [(o, False, f, p, m, d, v, a) for (o, p, m, d), (f, v, a) in own.items() if v or a]
    if not rows:
        return
    if connection.vendor == "postgresql":
        import csv
        import io

        buffer = io.StringIO()
        csv.writer(buffer).writerows([o, "f", f, p, m, d, v, a] for o, _, f, p, m, d, v, a in rows)
        buffer.seek(0)
        columns = "organization_id, cumulative, family, period, metric, dimension, value, amount"
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY {DashboardFact._meta.db_table} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer
            )
        return
    DashboardFact.objects.bulk_create(
        [
            DashboardFact(organization_id=o, cumulative=c, family=f, period=p, metric=m, dimension=d, value=v, amount=a)
            for o, c, f, p, m, d, v, a in rows
        ],
        batch_size=BATCH,
    )


def facts_for(
    *,
    org_ids: Iterable[int],
    cumulative: bool = True,
    periods: Iterable[str] | None = None,
    metrics: Iterable[str] | None = None,
) -> QuerySet[DashboardFact]:
    qs = DashboardFact.objects.filter(organization_id__in=list(org_ids), cumulative=cumulative)
    if periods is not None:
        qs = qs.filter(period__in=list(periods))
    if metrics is not None:
        qs = qs.filter(metric__in=list(metrics))
    return qs
