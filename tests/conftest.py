"""The fixed cast used across the suite.

P (党委) ─┬─ A (党支部) ── A1 (党小组)
          └─ B (党支部)
Q (another 党委, outside P)

secretary_a: secretary of A · org_admin_p: org_admin of P · secretary_b: secretary of B
member_a: a member of A linked to a user · auditor_p · sysadmin · outsider (no role)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core.roles import Role
from organizations.choices import OrgType
from tests.factories import MemberFactory, UserFactory, assign, make_org


def pytest_collection_modifyitems(config, items):
    """`make test` runs in parallel (pytest-xdist, --dist loadgroup): the tests that start real
    workers, Redis servers or a replica (marked ``services``) all go to one process, one at a time."""
    for item in items:
        if item.get_closest_marker("services"):
            item.add_marker(pytest.mark.xdist_group("services"))


@dataclass
class Cast:
    P: Any
    A: Any
    A1: Any
    B: Any
    Q: Any
    member_a_record: Any
    member_b_record: Any
    users: dict[str, Any]

    def client(self, who: str) -> Client:
        client = Client()
        if who != "anon":
            client.force_login(self.users[who])
        return client

    def api(self, who: str) -> APIClient:
        client = APIClient()
        if who != "anon":
            client.force_authenticate(self.users[who])
        return client


@pytest.fixture
def cast(db) -> Cast:
    P = make_org("中共测试委员会", OrgType.COMMITTEE, short_name="测试党委")
    A = make_org("第一党支部", OrgType.BRANCH, parent=P)
    A1 = make_org("第一党支部第一党小组", OrgType.GROUP, parent=A)
    B = make_org("第二党支部", OrgType.BRANCH, parent=P)
    Q = make_org("中共其他单位委员会", OrgType.COMMITTEE, short_name="其他党委")
    users = {
        name: UserFactory(username=name)
        for name in ["secretary_a", "org_admin_p", "secretary_b", "member_a", "auditor_p", "sysadmin", "outsider"]
    }
    assign(users["secretary_a"], A, Role.SECRETARY)
    assign(users["org_admin_p"], P, Role.ORG_ADMIN)
    assign(users["secretary_b"], B, Role.SECRETARY)
    assign(users["member_a"], A, Role.MEMBER)
    assign(users["auditor_p"], P, Role.AUDITOR)
    assign(users["sysadmin"], P, Role.SYSADMIN)
    member_a_record = MemberFactory(name="甲党员", organization=A, user=users["member_a"])
    member_b_record = MemberFactory(name="乙党员", organization=B)
    return Cast(P, A, A1, B, Q, member_a_record, member_b_record, users)


# --- DATA-6 guard (security issue): no task anywhere in the suite runs with personal data -------
_PI_TASK_CALLS: list[str] = []


def pi_in_task_arguments(args: Any, kwargs: Any) -> bool:
    from audit.logging import ID_RE, PHONE_RE

    text = f"{args!r} {kwargs!r}"
    return bool(ID_RE.search(text) or PHONE_RE.search(text))


def _check_task_arguments(sender: Any = None, task: Any = None, args: Any = None, kwargs: Any = None, **_: Any) -> None:
    if pi_in_task_arguments(args, kwargs):
        _PI_TASK_CALLS.append(getattr(task, "name", str(sender)))


@pytest.fixture(autouse=True)
def _policy_read_afresh():
    """Each test reads the security policy from its own database and cache, not from the copy an
    earlier test left in the process (accounts.policy keeps it a few seconds)."""
    from accounts import policy

    policy._forget_in_process()
    yield
    policy._forget_in_process()


@pytest.fixture(autouse=True)
def _no_personal_data_in_task_arguments():
    """Tasks take ids, never ID or phone numbers (they would sit in the broker and worker logs)."""
    from celery.signals import task_prerun

    task_prerun.connect(_check_task_arguments, weak=False, dispatch_uid="pi-task-guard")
    _PI_TASK_CALLS.clear()
    yield
    calls, _PI_TASK_CALLS[:] = list(_PI_TASK_CALLS), []
    assert not calls, f"Celery task(s) called with an ID or phone number in their arguments: {calls}"


# --- #21.10: the audit table refuses TRUNCATE; the test database's flush (transactional tests) is
# the one place that empties it, as the owner would, with the refusal switched off for that statement.
def _flush_sql_past_the_audit_truncate_guard() -> None:
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush
    if getattr(original, "_audit_guard_aware", False):
        return

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if "audit_auditevent" not in tables or not statements:
            return statements
        trigger = "audit_auditevent_no_truncate"
        return [
            f"ALTER TABLE audit_auditevent DISABLE TRIGGER {trigger};",
            *statements,
            f"ALTER TABLE audit_auditevent ENABLE TRIGGER {trigger};",
        ]

    sql_flush._audit_guard_aware = True  # type: ignore[attr-defined]
    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]


_flush_sql_past_the_audit_truncate_guard()
