"""Fault tests against a real Redis and real Celery worker processes (security.md Q-2, Q-5, Q-7).

- kill -9 the worker in the middle of a scan, start a new one: no reminder lost, none duplicated;
- kill -9 Redis in the middle of a scan, start it again: the same;
- a rolled-back transaction publishes nothing; a committed one publishes ids only.

They run when ``CELERY_BROKER_URL`` is ``redis://`` and the database is PostgreSQL (the worker
subprocesses must see the test database, so the tests are transactional and pass its name in
``DATABASE_URL``). They never touch the machine's shared Redis: each test starts its own
``redis-server`` on a free port (appendonly, so a restart keeps the queue) and kills only the
processes it started. Each test is bounded (about a minute at most).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from notifications.models import Notification, OutboxMessage, OutboxStatus, ReminderDispatch, ReminderRun, RunStatus
from notifications.scan.context import ORGS, TREE, ScanContext
from notifications.scan.registry import evaluate
from notifications.selectors import RecipientResolver
from notifications.services.reminders import candidate_recipients
from notifications.services.webhooks import webhook_configure
from organizations.choices import OrgType
from organizations.models import Organization
from organizations.services import committee_term_start
from tests.factories import make_org
from tests.notifications.test_notifications_delivery import Robot

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

REDIS_SERVER = shutil.which("redis-server")
ON = date(2026, 1, 6)  # December's items are overdue, terms elected in 2020 have expired
LOGS = Path(settings.BASE_DIR) / "artifacts" / "fault-logs"


@pytest.fixture(autouse=True)
def _needs_services():
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        pytest.skip("fault tests run when CELERY_BROKER_URL is redis:// (they start their own redis-server)")
    if connection.vendor != "postgresql":
        pytest.skip("fault tests need PostgreSQL: worker subprocesses must see the test database")
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class RedisServer:
    """A private redis-server (never the shared 6379), appendonly so a restart keeps the queue."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert wait_until(self.ping, 10), "redis-server did not start"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def client(self):  # noqa: ANN201 - redis.Redis
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return f"postgres://{quote(db['USER'] or 'postgres', safe='')}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _env(redis: RedisServer, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": redis.url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PB_REMINDER_SCAN_ON_START": "false",
        "PB_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",  # the test robot listens on loopback (#21.7)
        **extra,
    }


class Workers:
    """Worker subprocesses started by a test, each in its own process group (killed only by pid)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.procs: list[subprocess.Popen] = []
        LOGS.mkdir(parents=True, exist_ok=True)

    def start(self, env: dict[str, str]) -> subprocess.Popen:
        log = open(LOGS / f"{self.name}-worker{len(self.procs) + 1}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", ",".join(settings.PB_CELERY_QUEUES), "--pool", "prefork", "--concurrency", "1",
             "-n", f"fault-{uuid.uuid4().hex[:8]}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-l", "info"],
            env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        """kill -9 the worker's whole process group (main process and its pool child)."""
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)


@pytest.fixture
def workers(request):
    group = Workers(request.node.name)
    yield group
    group.stop_all()


def manage(env: dict[str, str], *args: str, timeout: int = 60) -> str:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


# --- data ------------------------------------------------------------------------------------


@pytest.fixture
def tree(cast):
    """P with A, B and ten more branches whose terms have expired; a group-chat robot for A."""
    branches = [make_org(f"故障测试第{i}支部", OrgType.BRANCH, parent=cast.P) for i in range(10)]
    for org in [cast.A, cast.B, *branches]:
        committee_term_start(org=org, elected_on=date(2020, 1, 1))
    return cast


def expected_keys(on: date) -> set[str]:
    """What a complete, undisturbed scan must write: every candidate that has a recipient."""
    candidates = evaluate(ScanContext.for_org_ids(Organization.objects.values_list("pk", flat=True), on), ORGS)
    for root in Organization.objects.filter(depth=1):
        candidates += evaluate(ScanContext.for_subtree(root, on), TREE)
    resolver = RecipientResolver(Organization.objects.all())
    return {c.dedupe_key for c in candidates if candidate_recipients(c, resolver)}


def assert_exactly_once(on: date) -> None:
    expected = expected_keys(on)
    written = list(ReminderDispatch.objects.values_list("dedupe_key", flat=True))
    assert len(written) == len(set(written))  # the UNIQUE constraint, checked anyway
    assert set(written) == expected, (len(written), len(expected))  # none lost, none extra
    pairs = list(Notification.objects.values_list("dispatch_id", "recipient_id"))
    assert len(pairs) == len(set(pairs))  # no notification twice
    assert not ReminderDispatch.objects.filter(notifications__isnull=True).exists()  # none without its inbox rows


def run_done() -> bool:
    run = ReminderRun.objects.order_by("-pk").first()
    return run is not None and run.status == RunStatus.DONE


# --- the tests -------------------------------------------------------------------------------


def test_worker_killed_mid_batch_loses_and_duplicates_nothing(tree, redis_server, workers, settings):
    settings.PB_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    robot = Robot()
    try:
        webhook_configure(user=tree.users["org_admin_p"], organization=tree.A, kind="wecom", url=robot.url, secret="k")
        slow = _env(redis_server, PB_NOTIFY_FAULT_PAUSE_MS="1500")
        first = workers.start(slow)
        manage(slow, "run_reminders", "--date", ON.isoformat(), "--enqueue", "--batch-size", "3")
        run = ReminderRun.objects.get()
        assert run.batch_count >= 6

        def mid_run() -> bool:
            statuses = list(run.batches.values_list("status", flat=True))
            return statuses.count(RunStatus.DONE) >= 2 and RunStatus.RUNNING in statuses

        assert wait_until(mid_run, 40), "the worker never got going"
        workers.kill(first)  # kill -9 in the middle of a batch
        statuses = list(run.batches.values_list("status", flat=True))
        assert RunStatus.RUNNING in statuses and statuses.count(RunStatus.DONE) < run.batch_count

        fresh = _env(redis_server)
        workers.start(fresh)
        # the batch the dead worker held is RUNNING and its message unacknowledged: the sweeper
        # (every 2 minutes under beat) re-enqueues it; here we run it at once
        manage(fresh, "sweep_notifications", "--batch-stale-seconds", "0", "--pending-stale-seconds", "0")
        assert wait_until(run_done, 45), list(run.batches.values_list("number", "status"))
        assert_exactly_once(ON)

        def webhooks_sent() -> bool:
            return not OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists()

        assert OutboxMessage.objects.filter(channel="webhook").exists()
        assert wait_until(webhooks_sent, 30), list(OutboxMessage.objects.values_list("pk", "status", "last_error"))
        keys = [r["headers"]["x-pb-idempotency-key"] for r in robot.requests]
        assert set(keys) == {f"pb-outbox-{pk}" for pk in OutboxMessage.objects.values_list("pk", flat=True)}
    finally:
        robot.close()


def test_redis_killed_mid_run_and_restarted_loses_and_duplicates_nothing(tree, redis_server, workers):
    env = _env(redis_server, PB_NOTIFY_FAULT_PAUSE_MS="1000")
    workers.start(env)
    manage(env, "run_reminders", "--date", ON.isoformat(), "--enqueue", "--batch-size", "3")
    run = ReminderRun.objects.get()
    assert wait_until(lambda: run.batches.filter(status=RunStatus.DONE).exists(), 40), "the worker never got going"
    redis_server.kill()  # kill -9 Redis mid-run
    time.sleep(2)
    assert not run_done()
    redis_server.start()  # same port and directory: the appendonly file brings the queue back
    manage(env, "sweep_notifications", "--batch-stale-seconds", "0", "--pending-stale-seconds", "0")
    assert wait_until(run_done, 50), list(run.batches.values_list("number", "status"))
    assert_exactly_once(ON)


ROLLBACK_SCRIPT = """
from django.contrib.auth import get_user_model
from django.db import transaction
from notifications.services.notices import notice_send
from organizations.models import Organization

sender = get_user_model().objects.get(username="secretary_a")
org = Organization.objects.get(pk={org})
if {rollback}:
    try:
        with transaction.atomic():
            notice_send(sender=sender, organization=org, title="回滚", body="不应发出", send_email=True)
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
else:
    notice_send(sender=sender, organization=org, title="提交", body="应发出", send_email=True)
"""


def test_rolled_back_transaction_publishes_nothing_committed_one_publishes_ids_only(cast, redis_server):
    member = cast.users["member_a"]
    member.email = "member.a@example.org"
    member.save()
    env = _env(redis_server)
    broker = redis_server.client()
    manage(env, "shell", "-c", ROLLBACK_SCRIPT.format(org=cast.A.pk, rollback=True))
    # Deliveries are routed to the reminders queue (CELERY_TASK_ROUTES, #18.4).
    assert broker.llen("reminders") == 0
    assert not OutboxMessage.objects.exists() and not Notification.objects.exists()
    manage(env, "shell", "-c", ROLLBACK_SCRIPT.format(org=cast.A.pk, rollback=False))
    assert broker.llen("reminders") == 1
    message = json.loads(broker.lindex("reminders", 0))
    assert message["headers"]["task"] == "notifications.deliver_batch"
    body = json.loads(__import__("base64").b64decode(message["body"]))
    assert body[0] == [list(OutboxMessage.objects.values_list("pk", flat=True))]  # ids only, no personal data
    raw = broker.lindex("reminders", 0).decode()
    assert "member.a@example.org" not in raw and "甲党员" not in raw
