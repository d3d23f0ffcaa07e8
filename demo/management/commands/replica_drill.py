"""Drill for the read replica and its failover (docs/operations.md, issue #18.7).

Run against a real primary + streaming replica (tests/ops/test_replica_drill.py builds both):

  DATABASE_URL=<primary> DATABASE_REPLICA_URL=<replica> CELERY_TASK_ALWAYS_EAGER=1 \\
      manage.py replica_drill --phase read
  # promote the replica, point DATABASE_URL at it, drop DATABASE_REPLICA_URL:
  DATABASE_URL=<promoted> CELERY_TASK_ALWAYS_EAGER=1 manage.py replica_drill --phase failover

Prints one JSON object: which alias served the dashboard reads, the replay lag observed, and
whether the replica's figures equal the primary's once replayed.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time

from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, CommandError, call_command
from django.db import connections
from rest_framework.test import APIClient

from activities.models import Meeting
from core import replica
from core.dates import today
from demo.activities import record_demo_meeting
from organizations.models import Organization


def _lsn(alias: str, sql: str) -> str:
    with connections[alias].cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


def wait_replayed(timeout: float = 30.0) -> float:
    """Seconds until the replica has replayed everything the primary has written."""
    started = time.perf_counter()
    target = _lsn("default", "SELECT pg_current_wal_lsn()::text")
    while time.perf_counter() - started < timeout:
        with connections[replica.REPLICA_ALIAS].cursor() as cur:
            cur.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cur.fetchone()[0]:
                return time.perf_counter() - started
        time.sleep(0.01)
    raise CommandError(f"replica did not replay {target} within {timeout:.0f}s")


class Command(BaseCommand):
    help = "只读副本演练：仪表盘读取走副本、数据一致，以及主库故障后切换到提升的副本"

    def add_arguments(self, parser):
        parser.add_argument("--phase", choices=["read", "failover"], required=True)

    def _dashboard(self, client: APIClient, root: Organization) -> dict:
        response = client.get(f"/api/v1/organizations/{root.pk}/dashboard/", HTTP_HOST="localhost")
        if response.status_code != 200:
            raise CommandError(f"dashboard answered {response.status_code}")
        return response.json()

    def handle(self, *args, phase: str, **options):
        if not Organization.objects.exists():
            call_command("seed_demo", orgs=12, members=150, seed=3, verbosity=0)
        root = Organization.get_root_nodes().first()
        admin = get_user_model().objects.get(username="orgadmin")
        client = APIClient()
        client.force_authenticate(admin)
        branch = Organization.objects.filter(org_type="branch").order_by("path").first()
        rng = random.Random(7)  # noqa: S311 - demo data
        held_on = today() - dt.timedelta(days=1)
        result: dict = {"phase": phase}
        if phase == "failover":
            meeting = record_demo_meeting(rng, branch, held_on)
            body = self._dashboard(client, root)
            result.update(wrote_meeting=meeting.pk, dashboard_ok=bool(body), replica_configured=replica.replica_configured())
            self.stdout.write(json.dumps(result))
            return
        if not replica.replica_configured():
            raise CommandError("DATABASE_REPLICA_URL is not set")
        wait_replayed()
        replica.ROUTED.clear()
        before = self._dashboard(client, root)
        meeting = record_demo_meeting(rng, branch, held_on)
        lag = wait_replayed()
        served = dict(replica.ROUTED)
        replica.ROUTED.clear()
        on_replica = self._dashboard(client, root)
        served_after = dict(replica.ROUTED)
        # The same figures read from the primary (the router falls back when the replica is unusable).
        real_status = replica.replica_status
        replica.replica_status = lambda refresh=False: replica.ReplicaStatus(configured=True, reachable=False)
        try:
            on_primary = self._dashboard(client, root)
        finally:
            replica.replica_status = real_status
        total = sum(served_after.values()) or 1
        result.update(
            wrote_meeting=meeting.pk,
            replay_lag_ms=round(lag * 1000, 1),
            reads_before=served,
            reads_after=served_after,
            replica_read_share=round(served_after.get(replica.REPLICA_ALIAS, 0) / total, 3),
            equal_once_replayed=on_replica == on_primary,
            write_replayed=Meeting.objects.using(replica.REPLICA_ALIAS).filter(pk=meeting.pk).exists(),
            dashboard_keys=len(before),
        )
        self.stdout.write(json.dumps(result))
