"""``core.compiled.compiled_rows``: a queryset's SQL kept per process, its values bound per call;
the same rows as the ORM, LIKE patterns escaped, and shapes it cannot match left to the ORM."""

from __future__ import annotations

from datetime import date

import pytest
from django.db.models import F, Q
from django.db.models.signals import post_init
from django.utils import timezone

from activities.selectors import _roster_queryset, _roster_with_votes_on
from core import compiled
from core.compiled import compiled_rows
from dashboard.builds import facts_state
from dashboard.outbox import outbox_stale
from members.discipline.selectors import with_vote_withheld_on
from organizations.choices import OrgType
from organizations.models import Organization
from tests.activities.conftest import add_members
from tests.factories import make_org

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_plans(monkeypatch):
    monkeypatch.setattr(compiled, "_plans", {})


def _names(name_start: str, since: date):
    return Organization.objects.filter(
        Q(name__startswith=name_start) | Q(short_name=name_start), created_at__date__gte=since
    ).order_by("path")


def test_rows_are_the_orms_for_every_value_and_like_patterns_are_escaped(cast):
    make_org("50%_折扣党支部", parent=cast.P)
    make_org("50ab折扣党支部", parent=cast.P)
    for start in ("第", "第一", "50%_", "50", "中共", "无此组织"):
        rows = compiled_rows("test.names", _names, name_start=start, since=date(2000, 1, 1))
        assert [o.pk for o in rows] == [o.pk for o in _names(start, date(2000, 1, 1))], start
    assert [o.name for o in compiled_rows("test.names", _names, name_start="50%_", since=date(2000, 1, 1))] == [
        "50%_折扣党支部"
    ]
    assert compiled_rows("test.names", _names, name_start="第", since=date(2999, 1, 1)) == []
    plan = compiled._plans["test.names"]
    assert plan is not compiled._UNUSABLE


def test_a_shape_that_depends_on_its_values_is_left_to_the_orm(cast):
    def build(name: str):
        qs = Organization.objects.filter(name=name)
        return qs.filter(org_type=OrgType.BRANCH) if name.startswith("第") else qs

    assert [o.pk for o in compiled_rows("test.shape", build, name="第一党支部")] == [cast.A.pk]
    assert compiled._plans["test.shape"] is compiled._UNUSABLE
    assert [o.pk for o in compiled_rows("test.shape", build, name="中共测试委员会")] == [cast.P.pk]


def test_meeting_roster_read_through_the_kept_sql_is_the_orms(cast):
    add_members(cast.A, full=4, probationary=2)
    add_members(cast.B, full=3, prefix="乙")
    for org in (cast.A, cast.B, cast.P, cast.A1):
        for on in (date(2025, 1, 1), date(2026, 3, 10)):
            kept = _roster_with_votes_on(organization=org, on=on)
            orm = list(with_vote_withheld_on(_roster_queryset(organization=org, on=on), on))
            assert [(m.pk, m.name, m.vote_withheld) for m in kept] == [(m.pk, m.name, m.vote_withheld) for m in orm]
    assert len(_roster_with_votes_on(organization=cast.A, on=date(2026, 3, 10))) >= 6
    for key in ("activities.roster.branch", "activities.roster.subtree"):
        assert compiled._plans[key] is not compiled._UNUSABLE, key  # read through the kept SQL


def test_the_dashboards_state_reads_keep_their_sql(cast):
    assert not outbox_stale(cast.P)
    facts_state()
    for key in ("dashboard.outbox_stale", "dashboard.last_complete_build"):
        assert compiled._plans[key] is not compiled._UNUSABLE, key


def test_rows_are_read_from_the_database_the_routers_pick(cast, monkeypatch):
    asked = []

    def db_for_read(model, **hints):
        asked.append(model)
        return "default"

    monkeypatch.setattr(compiled.router, "db_for_read", db_for_read)
    rows = compiled_rows("test.names", _names, name_start="第", since=date(2000, 1, 1))
    rows = compiled_rows("test.names", _names, name_start="第一", since=date(2000, 1, 1))
    assert [o.pk for o in rows] == [cast.A.pk, cast.A1.pk] and asked[-1] is Organization


def test_values_derived_at_build_time_are_left_to_the_orm(cast):
    """A slice or a length of a value is neither a placeholder nor a constant: not kept."""

    def by_prefix(path: str):
        return Organization.objects.filter(path__startswith=path[:4])

    def by_depth(path: str):
        return Organization.objects.filter(depth=len(path) // Organization.steplen)

    assert {o.pk for o in compiled_rows("test.prefix", by_prefix, path=cast.A.path)} >= {cast.P.pk, cast.A.pk}
    assert compiled._plans["test.prefix"] is compiled._UNUSABLE
    assert {o.pk for o in compiled_rows("test.depth", by_depth, path=cast.A.path)} == {cast.A.pk, cast.B.pk}
    assert compiled._plans["test.depth"] is compiled._UNUSABLE


# --- the instances: the same as ``Model.objects.raw`` makes, without working the columns out per call


def _state_of(obj):
    """What an instance carries: its loaded attributes (deferred ones absent), its database and
    whether it is new, the deferred field names and the cached relations (none)."""
    attributes = {k: v for k, v in obj.__dict__.items() if k != "_state"}
    return attributes, obj._state.db, obj._state.adding, obj.get_deferred_fields(), dict(obj._state.fields_cache)


def _members_of(path: str):
    from members.models import Member  # import-here: the test's model, beside the organization ones

    return (
        Member.objects.filter(organization__path__startswith=path)
        .only("name", "birth_date", "organization_id", "stage")
        .annotate(org_name=F("organization__name"))
        .order_by("pk")
    )


def test_instances_are_those_raw_makes_with_deferred_fields_and_annotations(cast):
    from members.models import Member  # import-here: as above

    add_members(cast.A, full=3)
    got = compiled_rows("test.members", _members_of, path=cast.P.path)
    plan = compiled._plans["test.members"]
    assert plan[3] is not None and plan[3].plain_attributes  # read by the plan's own reader
    raw_sql, raw_params = _members_of(cast.P.path).query.sql_with_params()
    expected = list(Member.objects.raw(raw_sql, raw_params))
    assert len(got) == len(expected) >= 3
    for a, b in zip(got, expected, strict=True):
        assert type(a) is Member
        assert _state_of(a) == _state_of(b)
        assert a.org_name == Organization.objects.get(pk=a.organization_id).name
        assert "phone_hash" in a.get_deferred_fields()
    first = got[0]
    first.refresh_from_db(fields=["membership_status"])  # a deferred field still loads on demand
    assert first.membership_status == Member.objects.get(pk=first.pk).membership_status


def test_a_model_watched_by_init_signals_is_built_by_django(cast):
    from members.models import Member  # import-here: as above

    add_members(cast.A, full=2)
    seen = []

    def watch(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(watch, sender=Member)
    try:
        got = compiled_rows("test.members", _members_of, path=cast.P.path)
    finally:
        post_init.disconnect(watch, sender=Member)
    assert len(got) >= 2 and all(any(s is g for s in seen) for g in got)


def test_converters_apply_as_the_orm_applies_them(cast):
    from audit.models import AuditEvent  # import-here: a model with a JSON column

    AuditEvent.objects.create(created_at=timezone.now(), event="test.compiled", detail={"键": [1, "二"]}, prev_hash="", row_hash="x")

    def build(event: str):
        return AuditEvent.objects.filter(event=event).only("event", "detail", "created_at")

    got = compiled_rows("test.json", build, event="test.compiled")
    assert compiled._plans["test.json"][3] is not None
    assert [(e.event, e.detail, e.created_at) for e in got] == [
        (e.event, e.detail, e.created_at) for e in build("test.compiled")
    ]
    assert got[0].detail == {"键": [1, "二"]}
