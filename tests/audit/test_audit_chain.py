"""The audit chain: linear under concurrent writers (#17.1), keyed and anchored (#21.10).

Each tampering the penetration test tried is reproduced here and must be refused or detected:
deleting the newest rows, TRUNCATE, switching the trigger off and recomputing an unkeyed chain,
and opening the purge path with ``set_config('pb.audit_purge', …)``.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit.chain import checkpoint_path, unkeyed_row_hash
from audit.models import AuditEvent
from audit.services import audit_checkpoint, audit_checkpoint_problems, audit_log, audit_verify
from tests.audit.concurrent import assert_one_linear_chain, run_writers
from tests.security.helpers import audit_trigger_disabled

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def checkpoints(settings, tmp_path):
    """Checkpoints of this test go to a private folder (the database name is the test database's)."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path
    return tmp_path


def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: the triggers and the row lock are PostgreSQL's")


@contextmanager
def _truncate_guard_off():
    """What the table owner could do: switch the TRUNCATE refusal off (inside the test transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_no_truncate")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_no_truncate")


class _SchemaEditor:
    """What the migration's RunPython uses of a schema editor (SQLite refuses a real one inside the
    test transaction)."""

    connection = connection

    def execute(self, sql: str, params: object = ()) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _write(n: int) -> list[AuditEvent]:
    return [audit_log(event="probe", detail={"n": i}) for i in range(n)]


def _verify_command_fails() -> str:
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("audit_verify", stdout=out)
    return out.getvalue()


# --- #17.1: one linear chain under concurrent writers ---------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_17_1_concurrent_writers_make_one_linear_chain():
    _postgres_only()

    def write(number: int, i: int) -> None:
        with transaction.atomic():  # a business transaction: the head lock is held to its commit
            audit_log(event="concurrent", detail={"writer": number, "i": i})

    run_writers(write)
    assert_one_linear_chain("concurrent", 8 * 15)
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "哈希链校验通过" in out.getvalue()


# --- #21.10: refused by the database --------------------------------------------------------------


@pytest.mark.django_db
def test_21_10_set_config_purge_no_longer_opens_delete(cast):
    _postgres_only()
    rows = _write(3)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pb.audit_purge', 'on', true)")
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [rows[-1].pk])
    assert AuditEvent.objects.filter(pk=rows[-1].pk).exists()
    assert audit_verify() == []


@pytest.mark.django_db
def test_21_10_truncate_is_refused(cast):
    _postgres_only()
    _write(2)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() >= 2


# --- #21.10: detected by the keyed chain and the checkpoint ----------------------------------------


@pytest.mark.django_db
def test_21_10_deleting_the_newest_rows_is_detected_by_the_checkpoint(cast, checkpoints):
    rows = _write(4)
    line = audit_checkpoint()
    assert line["head_id"] == rows[-1].pk and checkpoint_path().exists()
    assert audit_checkpoint_problems() == []
    with audit_trigger_disabled():  # the owner deletes the two newest rows: the rest still chains
        AuditEvent.objects.filter(pk__in=[rows[-1].pk, rows[-2].pk]).delete()
    assert audit_verify() == []
    problems = audit_checkpoint_problems()
    assert len(problems) == 1 and f"id={rows[-1].pk}" in problems[0] and "已不在审计日志中" in problems[0]
    assert "检查点比对失败" in _verify_command_fails()


@pytest.mark.django_db
def test_21_10_truncate_by_the_owner_is_detected_by_the_checkpoint(cast, checkpoints):
    _write(3)
    audit_checkpoint()
    if connection.vendor == "postgresql":
        with _truncate_guard_off(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditevent")
    else:
        AuditEvent.objects.all().delete()  # SQLite has no TRUNCATE; DELETE is open there (see 0003)
    assert AuditEvent.objects.count() == 0 and audit_verify() == []  # "0 rows … 通过" without an anchor
    assert "已不在审计日志中" in _verify_command_fails()


@pytest.mark.django_db
def test_21_10_trigger_disabled_and_unkeyed_chain_recomputed_is_detected(cast, checkpoints):
    rows = _write(5)
    audit_checkpoint()
    with audit_trigger_disabled():  # the owner deletes a row and rebuilds the SHA-256 chain over the rest
        AuditEvent.objects.filter(pk=rows[2].pk).delete()
        prev = ""
        for row in AuditEvent.objects.order_by("id"):
            row_hash = unkeyed_row_hash(prev, row)
            AuditEvent.objects.filter(pk=row.pk).update(prev_hash=prev, row_hash=row_hash)
            prev = row_hash
    broken = audit_verify()
    assert set(broken) == set(AuditEvent.objects.values_list("pk", flat=True))  # no row carries a keyed hash
    assert any("哈希不一致" in problem for problem in audit_checkpoint_problems())


@pytest.mark.django_db
def test_21_10_chain_recomputed_with_another_key_is_detected(cast, settings):
    rows = _write(3)
    settings.AUDIT_HMAC_KEY = "a-key-the-attacker-chose-0123456789"
    from audit.services import _hash

    with audit_trigger_disabled():
        prev = ""
        for row in AuditEvent.objects.order_by("id"):
            AuditEvent.objects.filter(pk=row.pk).update(prev_hash=prev, row_hash=_hash(prev, row))
            prev = _hash(prev, row)
    settings.AUDIT_HMAC_KEY = ""
    assert rows[0].pk in audit_verify()


@pytest.mark.django_db
def test_21_10_forged_checkpoint_line_is_reported(cast, checkpoints):
    rows = _write(2)
    audit_checkpoint()
    path = checkpoint_path()
    forged = json.loads(path.read_text(encoding="utf-8").splitlines()[-1])
    forged["head_id"] = rows[0].pk  # move the anchor back, as if the newest row never existed
    forged["head_hash"] = rows[0].row_hash
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(forged) + "\n")
    problems = audit_checkpoint_problems()
    assert len(problems) == 1 and "签名无效" in problems[0]


@pytest.mark.django_db
def test_21_10_checkpoint_command_and_task_write_the_head(cast, checkpoints):
    from audit.tasks import checkpoint

    rows = _write(2)
    out = io.StringIO()
    call_command("audit_checkpoint", stdout=out)
    assert f"id={rows[-1].pk}" in out.getvalue()
    assert checkpoint.delay().get() == rows[-1].pk
    lines = checkpoint_path().read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and all(json.loads(line)["head_hash"] == rows[-1].row_hash for line in lines)
    assert "audit-checkpoint" in settings.CELERY_BEAT_SCHEDULE


@pytest.mark.django_db
def test_21_10_rekey_migration_turns_a_legacy_chain_into_a_keyed_one(cast):
    rows = _write(4)
    with audit_trigger_disabled():  # the pre-#21.10 chain: unkeyed, with one fork from concurrent writers
        prev = ""
        for row in AuditEvent.objects.order_by("id"):
            link = prev if row.pk != rows[2].pk else rows[0].row_hash
            value = unkeyed_row_hash(link, row)
            AuditEvent.objects.filter(pk=row.pk).update(prev_hash=link, row_hash=value)
            prev = value
    migration = import_module("audit.migrations.0005_keyed_chain_and_truncate_guard")
    migration.rekey(apps, _SchemaEditor())
    assert audit_verify() == []
    note = AuditEvent.objects.get(event="audit_chain_rekeyed")
    assert note.detail["legacy_broken_ids"] == [rows[2].pk]
    audit_log(event="after")  # the head follows the re-keyed chain
    assert audit_verify() == []


def test_21_10_production_refuses_to_start_without_an_audit_key():
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "AUDIT_HMAC_KEY")},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 64,
        "ALLOWED_HOSTS": "dangjian.example.gov.cn",
    }
    code = "import django; django.setup()"
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)  # noqa: S603
    assert result.returncode != 0 and "AUDIT_HMAC_KEY" in result.stderr
