"""A real streaming replica on this machine (#18.7): heavy reads served by it, equal once replayed,
and the app keeps serving after the replica is promoted and DATABASE_URL points at it.

Builds two throwaway clusters with Debian's tools (pg_createcluster on ports 5441/5442,
pg_basebackup -R), migrates and seeds the primary, then runs `manage.py replica_drill` against
both. Needs root (to run the cluster tools) and PostgreSQL's server packages: CI has both.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess  # noqa: S404 - fixed commands on throwaway clusters
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

pytestmark = [pytest.mark.services, pytest.mark.django_db]

PRIMARY, REPLICA = ("pbdrill_primary", 5441), ("pbdrill_replica", 5442)
FIGURES = Path(settings.BASE_DIR) / "artifacts" / "replica-drill.json"


def _version() -> str | None:
    root = Path("/etc/postgresql")
    return sorted(p.name for p in root.iterdir())[-1] if root.is_dir() and any(root.iterdir()) else None


def run(*cmd: str, env: dict | None = None, timeout: int = 300) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} → {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def drop(version: str, name: str) -> None:
    subprocess.run(["pg_dropcluster", "--stop", version, name], capture_output=True, check=False)  # noqa: S603,S607


def trust_hba(version: str, name: str) -> None:
    """Throwaway clusters on loopback: trust, replication included."""
    Path(f"/etc/postgresql/{version}/{name}/pg_hba.conf").write_text(
        "local all all trust\nlocal replication all trust\n"
        "host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n"
    )


def wait_ready(port: int) -> None:
    for _ in range(60):
        if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)], check=False).returncode == 0:  # noqa: S603,S607
            return
        time.sleep(0.5)
    raise AssertionError(f"cluster on {port} did not start")


@pytest.fixture
def clusters():
    version = _version()
    if connection.vendor != "postgresql" or os.geteuid() != 0 or version is None or not shutil.which("pg_createcluster"):
        pytest.skip("the replica drill needs PostgreSQL's Debian cluster tools and root (CI has both)")
    for name, _ in (REPLICA, PRIMARY):
        drop(version, name)
    name, port = PRIMARY
    run("pg_createcluster", version, name, "-p", str(port), "--", "--auth=trust")
    trust_hba(version, name)
    run("pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start")
    wait_ready(port)
    rname, rport = REPLICA
    run("pg_createcluster", version, rname, "-p", str(rport))
    trust_hba(version, rname)
    data = Path(f"/var/lib/postgresql/{version}/{rname}")
    for child in data.iterdir():  # pg_basebackup fills an empty directory the postgres user owns
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    run("runuser", "-u", "postgres", "--", "pg_basebackup", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
        "-D", str(data), "-R", "-X", "stream", "-c", "fast")  # fmt: skip
    run("pg_ctlcluster", "--skip-systemctl-redirect", version, rname, "start")
    wait_ready(rport)
    try:
        yield version
    finally:
        drop(version, rname)
        drop(version, name)


def manage(*args: str, env: dict) -> str:
    return run(sys.executable, "manage.py", *args, env=env, timeout=600)


BOUNCER_PORT = 6441


def start_pgbouncer(port: int) -> subprocess.Popen:
    # A directory the postgres user can read and write (pytest's tmp_path is root-only).
    directory = Path(tempfile.mkdtemp(prefix="pbdrill-bouncer-"))
    directory.chmod(0o777)
    ini = directory / "pgbouncer.ini"
    ini.write_text(
        f"[databases]\npbdrill = host=127.0.0.1 port={port} dbname=pbdrill user=postgres\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {BOUNCER_PORT}\nauth_type = any\n"
        "pool_mode = transaction\nmax_client_conn = 50\ndefault_pool_size = 5\n"
        f"unix_socket_dir =\nlogfile = {directory}/pgbouncer.log\n"
    )
    ini.chmod(0o644)
    proc = subprocess.Popen(["runuser", "-u", "postgres", "--", "pgbouncer", str(ini)])  # noqa: S603,S607
    wait_ready(BOUNCER_PORT)
    return proc


def test_dashboard_reads_are_served_by_the_replica_and_survive_its_promotion(clusters):
    version = clusters
    primary = f"postgres://postgres@127.0.0.1:{PRIMARY[1]}/pbdrill"
    replica = f"postgres://postgres@127.0.0.1:{REPLICA[1]}/pbdrill"
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DATABASE_REPLICA_URL"}}
    base.update(DJANGO_SETTINGS_MODULE="config.settings.local", CELERY_TASK_ALWAYS_EAGER="1", PB_REMINDER_SCAN_ON_START="false")
    run("psql", "-h", "127.0.0.1", "-p", str(PRIMARY[1]), "-U", "postgres", "-qc", "CREATE DATABASE pbdrill")
    env = {**base, "DATABASE_URL": primary}
    manage("migrate", "--noinput", "-v", "0", env=env)
    manage("seed_demo", "--orgs", "12", "--members", "150", "--seed", "3", env=env)

    read = json.loads(manage("replica_drill", "--phase", "read", env={**env, "DATABASE_REPLICA_URL": replica}).splitlines()[-1])
    assert read["equal_once_replayed"] is True, read
    assert read["write_replayed"] is True, read
    assert read["reads_after"].get("replica", 0) > 0, read
    assert read["replica_read_share"] > 0.5, read

    if shutil.which("pgbouncer"):
        # The same drill with the primary behind pgbouncer in transaction mode.
        bouncer = start_pgbouncer(PRIMARY[1])
        try:
            pooled = {**env, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{BOUNCER_PORT}/pbdrill",
                      "DISABLE_SERVER_SIDE_CURSORS": "1", "DATABASE_REPLICA_URL": replica}  # fmt: skip
            via_bouncer = json.loads(manage("replica_drill", "--phase", "read", env=pooled).splitlines()[-1])
            assert via_bouncer["equal_once_replayed"] is True, via_bouncer
            assert via_bouncer["write_replayed"] is True, via_bouncer
            read["pgbouncer_transaction_mode"] = via_bouncer
        finally:
            bouncer.terminate()
            bouncer.wait(timeout=10)

    # Failover: promote the replica, point DATABASE_URL at it; the app keeps reading and writing.
    run("pg_ctlcluster", "--skip-systemctl-redirect", version, REPLICA[0], "promote")
    for _ in range(60):
        out = run("psql", "-h", "127.0.0.1", "-p", str(REPLICA[1]), "-U", "postgres", "-Atc", "SELECT pg_is_in_recovery()")
        if out.strip() == "f":
            break
        time.sleep(0.5)
    run("pg_ctlcluster", "--skip-systemctl-redirect", version, PRIMARY[0], "stop")
    after = json.loads(manage("replica_drill", "--phase", "failover", env={**base, "DATABASE_URL": replica}).splitlines()[-1])
    assert after["wrote_meeting"] > read["wrote_meeting"], after
    assert after["dashboard_ok"] is True
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps({"read": read, "failover": after}, ensure_ascii=False, indent=2))
