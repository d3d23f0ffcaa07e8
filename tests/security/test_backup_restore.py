"""BK-1: the documented backup and restore procedure (docs/backup.md) works and loses nothing.

Seeds committed data (the cast, members with encrypted ID numbers, meetings, audit events), runs
``pg_dump -Fc`` of the test database, ``pg_restore`` into a scratch database created and dropped
here, and compares every table's row count and an md5 of the ordered rows of key tables between
the two. Then runs ``manage.py audit_verify`` and ``migrate --check`` against the restored copy,
as the procedure says to before switching over, and checks that the dump holds no ID number in
clear (DATA-2). PostgreSQL only: skipped when the default database is SQLite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

from activities.services.meetings import meeting_save
from audit.services import audit_log
from members.services import member_create
from tests.activities.conftest import add_members, attendance, header
from tests.member_helpers import make_id, record

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump sees committed rows only

KEY_TABLES = [
    "members_member",
    "audit_auditevent",
    "activities_meeting",
    "activities_attendance",
    "organizations_organization",
    "members_organizationmembership",
]
ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("backup/restore drill: set DATABASE_URL to a PostgreSQL database")
    for tool in ("pg_dump", "pg_restore"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed")
    return connection.settings_dict


def _libpq_env(db: dict) -> dict[str, str]:
    env = {**os.environ, "PGHOST": db.get("HOST") or "", "PGPORT": str(db.get("PORT") or 5432)}
    env["PGUSER"] = db.get("USER") or ""
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return {k: v for k, v in env.items() if v != ""}


def _connect(db: dict, name: str):
    return psycopg2.connect(
        dbname=name, host=db.get("HOST") or None, port=db.get("PORT") or None, user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
    )  # fmt: skip


def _fingerprint(db: dict, name: str) -> tuple[dict[str, int], dict[str, str]]:
    """Row count of every table, and md5 of the ordered rows of the key tables."""
    with _connect(db, name) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - names from pg_tables
            counts[table] = cursor.fetchone()[0]
        sums = {}
        for table in KEY_TABLES:
            cursor.execute(f"SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t.id), '')) FROM \"{table}\" t")  # noqa: S608
            sums[table] = cursor.fetchone()[0]
    conn.close()
    return counts, sums


def _seed(cast) -> list[str]:
    """Members with ID numbers (returned, to look for in the dump), meetings, audit events."""
    ids = []
    for n in range(4):
        born = date(1980 + n, 5, 6)
        id_number = make_id(born, seq=100 + 2 * n)
        fields = record(name=f"备份{n}", birth_date=born, id_number=id_number, phone=f"1391234{n:04d}")
        member_create(organization=cast.A, **fields)
        ids.append(id_number)
    people = [cast.member_b_record, *add_members(cast.B, full=5, prefix="乙支部")]
    for day in (10, 17):
        meeting_save(
            user=cast.users["secretary_b"],
            organization=cast.B,
            data=header(held_on=date(2026, 3, day)),
            attendance=attendance(people, 4),
            resolutions=[],
            finish=True,
        )
    for who in ("secretary_a", "org_admin_p", "auditor_p"):
        audit_log(event="login", user=cast.users[who], detail={"via": "backup drill"})
    return ids


def _manage(db: dict, name: str, *args: str) -> subprocess.CompletedProcess:
    """manage.py against the restored copy (same server, other database)."""
    port = db.get("PORT") or 5432
    auth = db.get("USER") or "postgres"
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    env = {**os.environ, "DATABASE_URL": f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{port}/{name}"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_dump_restore_round_trip_keeps_every_row(postgres, cast, tmp_path):
    db = postgres
    seeded_ids = _seed(cast)
    connection.close()  # the dump reads committed data over its own connection
    env = _libpq_env(db)
    source = db["NAME"]
    scratch = f"pb_restore_{uuid.uuid4().hex[:10]}"
    dump = tmp_path / "partybuilding.dump"

    subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), source], env=env, check=True, timeout=300)  # noqa: S603,S607
    assert dump.stat().st_size > 0
    subprocess.run(["createdb", scratch], env=env, check=True, timeout=60)  # noqa: S603,S607
    try:
        subprocess.run(  # noqa: S603
            ["pg_restore", "--no-owner", "--exit-on-error", "-d", scratch, str(dump)],  # noqa: S607
            env=env, check=True, timeout=300,
        )  # fmt: skip
        counts_before, sums_before = _fingerprint(db, source)
        counts_after, sums_after = _fingerprint(db, scratch)

        assert counts_before["members_member"] >= 4 + 5 + 2
        assert counts_before["activities_meeting"] == 2
        assert counts_before["audit_auditevent"] >= 3
        assert counts_after == counts_before
        assert sums_after == sums_before

        # The restored copy passes the audit chain verifier and has every migration applied.
        verify = _manage(db, scratch, "audit_verify")
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert "哈希链校验通过" in verify.stdout
        migrations = _manage(db, scratch, "migrate", "--check")
        assert migrations.returncode == 0, migrations.stdout + migrations.stderr

        # DATA-2: the dump holds ciphertext, never an ID number in clear.
        sql = subprocess.run(  # noqa: S603
            ["pg_restore", "-f", "-", str(dump)], env=env, check=True, capture_output=True, timeout=300,  # noqa: S607
        ).stdout  # fmt: skip
        assert b"members_member" in sql
        assert not [n for n in seeded_ids if n.encode() in sql]
    finally:
        subprocess.run(["dropdb", "--if-exists", "--force", scratch], env=env, check=False, timeout=60)  # noqa: S603,S607
    print(
        f"\nbackup drill: {sum(counts_before.values())} rows in {len(counts_before)} tables restored, "
        f"{len(KEY_TABLES)} key-table checksums equal"
    )
