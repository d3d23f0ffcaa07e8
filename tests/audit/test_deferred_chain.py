"""The deferred chain (#20.3): a block's audit events are linked just before it ends, so the chain
head is held for the link and the commit only. Still one linear chain, still rolled back with the
business write (AUD-5)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from audit import services
from audit.models import AuditChainHead, AuditEvent
from audit.services import audit_log, audit_verify, deferred_chain
from core.idempotency import request_block
from tests.audit.concurrent import assert_one_linear_chain, run_writers

pytestmark = pytest.mark.django_db


def _business_write(name: str) -> None:
    """A write that logs no event of its own."""
    get_user_model().objects.create(username=name)


def _written(name: str) -> bool:
    return get_user_model().objects.filter(username=name).exists()


def _index(sql: list[str], needle: str) -> int:
    return next(i for i, statement in enumerate(sql) if needle in statement)


def test_the_head_is_locked_only_after_the_blocks_other_statements():
    audit_log(event="first")  # the head row exists
    with CaptureQueriesContext(connection) as captured, deferred_chain():
        event = audit_log(event="probe", detail={"n": 1})
        assert event.pk is None  # kept until the block ends
        _business_write("after_the_event")
        assert not AuditEvent.objects.filter(event="probe").exists()
    sql = [q["sql"] for q in captured.captured_queries]
    lock = _index(sql, 'FROM "audit_auditchainhead"')
    assert "FOR UPDATE" in sql[lock] or not connection.features.has_select_for_update
    assert lock > _index(sql, 'INSERT INTO "auth_user"')
    assert 'INSERT INTO "audit_auditevent"' in sql[lock + 1]
    assert 'UPDATE "audit_auditchainhead"' in sql[lock + 2]
    assert [s for s in sql[lock + 3 :] if not s.startswith(("RELEASE SAVEPOINT", "COMMIT"))] == []
    assert event.pk is not None
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_id, head.last_hash) == (event.pk, event.row_hash)
    assert audit_verify() == []


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_at_the_outermost_level_the_foreign_key_checks_run_before_the_lock():
    """PostgreSQL checks the (deferred) foreign keys at COMMIT; run there, they would be inside the
    hold (a meeting's attendance: one check per row)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: deferred constraints")
    audit_log(event="first")  # the head row exists
    with CaptureQueriesContext(connection) as captured, deferred_chain():
        _business_write("checked_first")
        audit_log(event="probe")
    sql = [q["sql"] for q in captured.captured_queries]
    lock = _index(sql, 'FROM "audit_auditchainhead"')
    assert sql[lock - 1] == "SET CONSTRAINTS ALL IMMEDIATE"
    with CaptureQueriesContext(connection) as captured, transaction.atomic(), deferred_chain():
        audit_log(event="probe")  # inside another transaction: its constraints are left alone
    assert "SET CONSTRAINTS ALL IMMEDIATE" not in [q["sql"] for q in captured.captured_queries]
    assert audit_verify() == []


def test_events_of_one_block_are_linked_in_order_in_one_insert():
    with CaptureQueriesContext(connection) as captured, deferred_chain():
        first = audit_log(event="probe", detail={"n": 1})
        second = audit_log(event="probe", detail={"n": 2})
    sql = [q["sql"] for q in captured.captured_queries]
    assert sum(s.startswith('INSERT INTO "audit_auditevent"') for s in sql) == 1
    assert first.pk < second.pk and second.prev_hash == first.row_hash
    assert first.created_at <= second.created_at
    assert audit_verify() == []


def test_a_failing_audit_insert_rolls_the_business_write_back(monkeypatch):
    """AUD-5: the link runs inside the block's transaction."""

    def broken(prev_hash, event):
        raise DatabaseError("audit insert failed")

    monkeypatch.setattr(services, "_hash", broken)
    with pytest.raises(DatabaseError), deferred_chain():
        _business_write("not_saved")
        audit_log(event="probe")
    assert not _written("not_saved")
    assert not AuditEvent.objects.filter(event="probe").exists()


def test_a_block_that_raises_links_nothing_and_keeps_nothing():
    with pytest.raises(RuntimeError), deferred_chain():
        _business_write("rolled_back")
        audit_log(event="probe")
        raise RuntimeError("the action fails")
    assert not _written("rolled_back")
    assert not AuditEvent.objects.filter(event="probe").exists()
    with deferred_chain():  # the next block starts empty
        audit_log(event="after")
    assert list(AuditEvent.objects.values_list("event", flat=True)) == ["after"]


def test_an_event_inside_a_savepoint_that_rolls_back_is_not_linked():
    """Django says nothing when a savepoint rolls back: an event inside one is linked at once, and
    goes with it."""
    with deferred_chain():
        audit_log(event="kept")
        with pytest.raises(RuntimeError), transaction.atomic():
            audit_log(event="undone")
            raise RuntimeError("the inner step fails")
    assert list(AuditEvent.objects.order_by("id").values_list("event", flat=True)) == ["kept"]
    assert audit_verify() == []


def test_outside_a_block_the_event_is_linked_at_once():
    event = audit_log(event="probe")
    assert event.pk is not None and AuditEvent.objects.filter(pk=event.pk).exists()


def test_requests_with_an_idempotency_key_run_in_the_deferred_chain():
    """audit registers its block with core at start-up (core may not import audit)."""
    with request_block():
        assert audit_log(event="probe").pk is None
    assert AuditEvent.objects.filter(event="probe").count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_deferred_blocks_make_one_linear_chain():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: the row lock is PostgreSQL's")

    def write(number: int, i: int) -> None:
        with deferred_chain():
            audit_log(event="concurrent", detail={"writer": number, "i": i})
            audit_log(event="concurrent", detail={"writer": number, "i": i, "second": True})

    run_writers(write)
    assert_one_linear_chain("concurrent", 8 * 15 * 2)
    times = list(AuditEvent.objects.order_by("id").values_list("created_at", flat=True))
    assert times == sorted(times)  # linked time: grows along the chain


def test_a_block_inside_another_is_a_savepoint_whose_events_are_linked_at_once():
    with deferred_chain():
        outer = audit_log(event="outer")
        with deferred_chain():
            inner = audit_log(event="inner")
            assert inner.pk is not None
        assert outer.pk is None
    assert list(AuditEvent.objects.order_by("id").values_list("event", flat=True)) == ["inner", "outer"]
    assert audit_verify() == []
