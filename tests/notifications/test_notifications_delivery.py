"""Exactly once: dedupe under repeat and concurrency, enqueue after commit only, the outbox
(claim, retry with backoff and jitter, FAILED after max attempts), webhooks (validation,
signature, retry), the sweeper, and the Celery task configuration (security.md Q-1..Q-8)."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import smtplib
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from notifications import channels, tasks
from notifications.models import (
    Notice,
    Notification,
    OutboxMessage,
    OutboxStatus,
    ReminderBatch,
    ReminderDispatch,
    RunStatus,
    WebhookEndpoint,
)
from notifications.services.inbox import preference_update
from notifications.services.notices import notice_send
from notifications.services.outbox import outbox_deliver
from notifications.services.runs import (
    BATCH_MAX_ATTEMPTS,
    reminder_batch_process,
    reminder_run_create,
    reminder_run_inline,
    reminder_scan_orgs,
)
from notifications.services.sweep import notifications_sweep
from notifications.services.webhooks import webhook_configure
from organizations.services import committee_term_start
from tests.factories import MemberFactory
from tests.threads import run_together

pytestmark = pytest.mark.django_db


def overdue_terms(cast) -> None:
    committee_term_start(org=cast.A, elected_on=date(2020, 1, 1))
    committee_term_start(org=cast.B, elected_on=date(2020, 1, 1))


ON = date(2026, 1, 6)


# --- dedupe ----------------------------------------------------------------------------------


def test_running_the_daily_job_twice_sends_each_reminder_once(cast):
    overdue_terms(cast)
    reminder_run_inline(on=ON)
    first = (ReminderDispatch.objects.count(), Notification.objects.count())
    assert first[0] >= 2
    reminder_run_inline(on=ON)
    reminder_run_inline(on=ON + timedelta(days=1))
    assert (ReminderDispatch.objects.count(), Notification.objects.count()) == first


def test_batches_of_one_organization_give_the_same_result(cast):
    overdue_terms(cast)
    run = reminder_run_inline(on=ON, batch_size=1)
    # P, A, A1, B, Q one by one, plus one tree-wide batch per root (P, Q) for the compliance calendar
    assert run.batch_count == 7 and run.status == RunStatus.DONE
    keys = set(ReminderDispatch.objects.values_list("dedupe_key", flat=True))
    ReminderDispatch.objects.all().delete()
    reminder_run_inline(on=ON, batch_size=500)
    assert set(ReminderDispatch.objects.values_list("dedupe_key", flat=True)) == keys


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_scans_produce_each_reminder_once(cast):
    """8 threads scan the same organizations at the same moment (two workers, a double beat)."""
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (SQLite serializes writers); CI runs it there")
    overdue_terms(cast)
    org_ids = [cast.P.pk, cast.A.pk, cast.A1.pk, cast.B.pk, cast.Q.pk]
    created = run_together(lambda _n: reminder_scan_orgs(org_ids=org_ids, on=ON), 8)
    expected = ReminderDispatch.objects.count()
    assert expected >= 3
    assert sum(created) == expected  # every reminder was won by exactly one thread
    per_key = Notification.objects.values_list("dispatch_id", "recipient_id")
    assert len(per_key) == len(set(per_key))


# --- enqueue only after commit ---------------------------------------------------------------


@pytest.fixture
def enqueued(monkeypatch):
    calls: list[tuple[str, object]] = []
    monkeypatch.setattr(tasks.deliver_batch, "delay", lambda ids: calls.append(("batch", ids)))
    monkeypatch.setattr(tasks.deliver, "delay", lambda pk: calls.append(("one", pk)))
    return calls


def _email(user, address):
    user.email = address
    user.save(update_fields=["email"])


def test_rolled_back_transaction_sends_nothing(cast, enqueued, django_capture_on_commit_callbacks):
    _email(cast.users["member_a"], "a@example.org")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):  # noqa: SIM117
        with transaction.atomic():
            notice_send(
                sender=cast.users["secretary_a"],
                organization=cast.A,
                title="学习安排",
                body="本周学习。",
                send_email=True,
            )
            raise RuntimeError("rolled back")
    assert callbacks == [] and enqueued == []
    assert Notice.objects.count() == 0 and Notification.objects.count() == 0 and OutboxMessage.objects.count() == 0


def test_committed_transaction_enqueues_after_commit(cast, enqueued, django_capture_on_commit_callbacks):
    _email(cast.users["member_a"], "a@example.org")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notice_send(
            sender=cast.users["secretary_a"], organization=cast.A, title="学习安排", body="本周学习。", send_email=True
        )
        assert enqueued == []  # nothing published before commit
    for callback in callbacks:
        callback()
    outbox = list(OutboxMessage.objects.values_list("pk", flat=True))
    assert enqueued == [("batch", outbox)]


def test_broker_down_at_commit_leaves_pending_rows_for_the_sweeper(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    _email(cast.users["member_a"], "a@example.org")

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.deliver_batch, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        notice = notice_send(
            sender=cast.users["secretary_a"], organization=cast.A, title="通知", body="正文", send_email=True
        )
    assert Notification.objects.filter(notice=notice).count() == 1  # the in-app copy is never lost
    assert OutboxMessage.objects.get().status == OutboxStatus.PENDING


# --- the outbox ------------------------------------------------------------------------------


def _outbox_email(cast) -> OutboxMessage:
    _email(cast.users["member_a"], "a@example.org")
    notice_send(sender=cast.users["secretary_a"], organization=cast.A, title="通知", body="正文", send_email=True)
    return OutboxMessage.objects.get(channel="email")


def test_email_is_sent_once_even_when_delivered_twice(cast):
    message = _outbox_email(cast)
    assert outbox_deliver(message_id=message.pk).status == "sent"
    assert outbox_deliver(message_id=message.pk).status == "skipped"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["a@example.org"]
    assert "通知" in mail.outbox[0].subject
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.attempts == 1


def test_transient_email_failure_retries_with_backoff_then_fails(cast, monkeypatch):
    message = _outbox_email(cast)

    def flaky(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(channels, "send_mail", flaky)
    for attempt in range(1, message.max_attempts + 1):
        before = timezone.now()
        result = outbox_deliver(message_id=message.pk)
        message.refresh_from_db()
        if attempt < message.max_attempts:
            assert result.status == "retry" and message.status == OutboxStatus.PENDING
            base = min(channels.RETRY_CAP_SECONDS, channels.RETRY_BASE_SECONDS * 2 ** (attempt - 1))
            assert base / 2 <= result.retry_in <= base
            assert message.next_attempt_at >= before + timedelta(seconds=base / 2) - timedelta(seconds=1)
            assert outbox_deliver(message_id=message.pk).status == "skipped"  # not due yet
            OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
        else:
            assert result.status == "failed" and message.status == OutboxStatus.FAILED
    assert message.attempts == message.max_attempts
    assert outbox_deliver(message_id=message.pk).status == "skipped"  # no infinite loop
    assert Notification.objects.filter(recipient=cast.users["member_a"]).count() == 1


def test_permanent_email_failure_fails_at_once(cast, monkeypatch):
    message = _outbox_email(cast)

    def refused(*args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"no such user")})

    monkeypatch.setattr(channels, "send_mail", refused)
    assert outbox_deliver(message_id=message.pk).status == "failed"


def test_backoff_is_exponential_capped_and_jittered():
    for attempt, base in [(1, 30), (2, 60), (3, 120), (7, 1800), (20, 1800)]:
        values = {channels.backoff_seconds(attempt, rng=random.Random(seed)) for seed in range(20)}
        assert all(base / 2 <= v <= base for v in values)
        assert len(values) > 1  # jitter
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    assert visibility > channels.RETRY_CAP_SECONDS


def test_user_email_opt_out(cast):
    _email(cast.users["member_a"], "a@example.org")
    preference_update(user=cast.users["member_a"], email_enabled=False, muted_rules=[])
    notice_send(sender=cast.users["secretary_a"], organization=cast.A, title="通知", body="正文", send_email=True)
    assert OutboxMessage.objects.count() == 0
    assert Notification.objects.filter(recipient=cast.users["member_a"]).count() == 1


# --- webhooks --------------------------------------------------------------------------------


class Robot:
    """A local group-chat robot: records requests, answers with a scripted status/body."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.replies: list[tuple[int, dict]] = []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                robot.requests.append(
                    {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                )
                status, reply = robot.replies.pop(0) if robot.replies else (200, {"errcode": 0, "errmsg": "ok"})
                payload = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=abc"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robot(settings):
    settings.PB_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the test robot listens on loopback (#21.7)
    robot = Robot()
    yield robot
    robot.close()


def _webhook(cast, robot, kind="wecom", secret="s3cret-key"):  # noqa: S107
    return webhook_configure(
        user=cast.users["org_admin_p"], organization=cast.A, kind=kind, url=robot.url, secret=secret
    )


def _deliver_all() -> list[str]:
    return [outbox_deliver(message_id=pk).status for pk in OutboxMessage.objects.values_list("pk", flat=True)]


def test_org_level_reminders_go_to_the_group_chat_with_a_valid_signature(cast, robot):
    _webhook(cast, robot)
    committee_term_start(org=cast.A, elected_on=date(2020, 1, 1))
    reminder_run_inline(on=ON)
    assert _deliver_all().count("sent") >= 1
    sent = next(r for r in robot.requests if "任期已于" in json.loads(r["body"])["text"]["content"])
    assert json.loads(sent["body"])["msgtype"] == "text"
    expected = hmac.new(b"s3cret-key", sent["headers"]["x-pb-timestamp"].encode() + b"." + sent["body"], hashlib.sha256)
    assert sent["headers"]["x-pb-signature"] == "sha256=" + expected.hexdigest()
    assert sent["headers"]["x-pb-idempotency-key"].startswith("pb-outbox-")


def test_reminders_about_one_person_never_go_to_the_group_chat(cast, robot):
    _webhook(cast, robot)
    MemberFactory(name="失联丁", organization=cast.A, is_lost_contact=True, lost_contact_since=date(2025, 1, 1))
    reminder_run_inline(on=date(2026, 3, 1))
    assert Notification.objects.filter(rule="member_lost_contact").exists()
    assert not OutboxMessage.objects.filter(channel="webhook", dispatch__rule="member_lost_contact").exists()


def test_dingtalk_signature_in_the_query(cast, robot):
    _webhook(cast, robot, kind="dingtalk", secret="SECxyz")
    notice_send(
        sender=cast.users["org_admin_p"], organization=cast.A, title="工作安排", body="周五学习", send_webhook=True
    )
    assert _deliver_all() == ["sent"]
    query = parse_qs(urlsplit(robot.requests[0]["path"]).query)
    timestamp = query["timestamp"][0]
    assert query["sign"][0] == channels.dingtalk_sign("SECxyz", timestamp)


@pytest.mark.parametrize(
    "reply,outcome",
    [
        ((500, {}), "retry"),
        ((429, {}), "retry"),
        ((200, {"errcode": 45009, "errmsg": "api freq out of limit"}), "retry"),
        ((400, {}), "failed"),
        ((200, {"errcode": 93000, "errmsg": "invalid webhook url"}), "failed"),
    ],
)
def test_webhook_failures_are_classified(cast, robot, reply, outcome):
    _webhook(cast, robot)
    robot.replies.append(reply)
    notice_send(
        sender=cast.users["org_admin_p"], organization=cast.A, title="工作安排", body="周五学习", send_webhook=True
    )
    assert _deliver_all() == [outcome]
    # the in-app notifications are there whatever the robot did
    assert Notification.objects.filter(notice__isnull=False).count() >= 1


def test_unreachable_robot_is_transient_and_does_not_block_email(cast, robot):
    _email(cast.users["member_a"], "a@example.org")
    _webhook(cast, robot)
    robot.close()  # nobody listens any more
    notice_send(
        sender=cast.users["org_admin_p"],
        organization=cast.A,
        title="工作安排",
        body="正文",
        send_webhook=True,
        send_email=True,
    )
    results = {m.channel: outbox_deliver(message_id=m.pk).status for m in OutboxMessage.objects.order_by("pk")}
    assert results == {"email": "sent", "webhook": "retry"}
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "url,message",
    [
        ("ftp://example.org/hook", "http:// 或 https://"),
        ("javascript:alert(1)", "http:// 或 https://"),
        ("file:///etc/passwd", "http:// 或 https://"),
        ("https://", "缺少主机名"),
        ("https://user:pw@example.org/hook", "用户名或密码"),
        ("https://example.org/a b", "空格"),
        ("https://example.org:99999/hook", "端口"),
        ("", "请填写"),
    ],
)
def test_webhook_url_validation(cast, url, message):
    with pytest.raises(ValidationError) as exc:
        webhook_configure(user=cast.users["org_admin_p"], organization=cast.A, kind="wecom", url=url)
    assert message in exc.value.message_dict["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_webhook_allowed_hosts(cast, settings):
    settings.PB_WEBHOOK_ALLOWED_HOSTS = ["qyapi.weixin.qq.com"]
    with pytest.raises(ValidationError):
        webhook_configure(
            user=cast.users["org_admin_p"], organization=cast.A, kind="wecom", url="https://evil.example/x"
        )
    webhook_configure(
        user=cast.users["org_admin_p"],
        organization=cast.A,
        kind="wecom",
        url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
    )


def test_only_org_admins_configure_webhooks(cast):
    for who in ("secretary_a", "member_a", "auditor_p"):
        with pytest.raises(ValidationError):
            webhook_configure(user=cast.users[who], organization=cast.A, kind="wecom", url="https://example.org/hook")


# --- sweeper and batch claims ----------------------------------------------------------------


def test_sweeper_requeues_stale_pending_and_resets_dead_sending(cast, monkeypatch):
    message = _outbox_email(cast)
    requeued: list[int] = []
    monkeypatch.setattr(tasks.deliver, "delay", lambda pk: requeued.append(pk))
    monkeypatch.setattr(tasks.scan_batch, "delay", lambda pk: requeued.append(-pk))
    long_ago = timezone.now() - timedelta(hours=1)
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.SENDING, claimed_at=long_ago)
    result = notifications_sweep(pending_after=timedelta(0))
    assert result.outbox_reset == 1
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=long_ago)
    result = notifications_sweep()
    assert result.outbox_requeued == 1 and requeued == [message.pk]
    # a fresh SENDING claim is left alone (its worker may still be sending)
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.SENDING, claimed_at=timezone.now())
    assert notifications_sweep().outbox_reset == 0


def test_sweeper_requeues_lost_and_dead_scan_batches(cast, monkeypatch):
    requeued: list[int] = []
    monkeypatch.setattr(tasks.scan_batch, "delay", lambda pk: requeued.append(pk))
    run = reminder_run_create(on=ON, trigger="test", enqueue=False)
    batch = run.batches.get(scope="orgs")
    run.batches.exclude(pk=batch.pk).delete()
    assert notifications_sweep().batches_requeued == 0  # just created: not stale yet
    ReminderBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert notifications_sweep().batches_requeued == 1 and requeued == [batch.pk]
    reminder_batch_process(batch_id=batch.pk)
    assert notifications_sweep().batches_requeued == 0  # DONE is never re-run
    assert ReminderBatch.objects.get(pk=batch.pk).status == RunStatus.DONE


def test_a_batch_left_running_by_a_dead_worker_is_rerun_without_duplicates(cast):
    overdue_terms(cast)
    run = reminder_run_create(on=ON, trigger="test", enqueue=False, batch_size=2)
    first, *_ = run.batches.order_by("number")
    reminder_batch_process(batch_id=first.pk)
    before = Notification.objects.count()
    # the worker died after committing its reminders but before marking the batch DONE
    ReminderBatch.objects.filter(pk=first.pk).update(status=RunStatus.RUNNING)
    assert reminder_batch_process(batch_id=first.pk).created == 0
    assert Notification.objects.count() == before
    assert reminder_batch_process(batch_id=first.pk).status == "skipped"


def test_run_is_done_when_every_batch_is(cast):
    run = reminder_run_create(on=ON, trigger="test", enqueue=False, batch_size=2)
    for batch in run.batches.order_by("number"):
        run.refresh_from_db()
        assert run.status == RunStatus.RUNNING
        reminder_batch_process(batch_id=batch.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.finished_at is not None


def test_a_batch_failing_too_often_is_marked_failed(cast):
    run = reminder_run_create(on=ON, trigger="test", enqueue=False)
    batch = run.batches.get(scope="orgs")
    for other in run.batches.exclude(pk=batch.pk):
        reminder_batch_process(batch_id=other.pk)
    ReminderBatch.objects.filter(pk=batch.pk).update(attempts=BATCH_MAX_ATTEMPTS)
    assert reminder_batch_process(batch_id=batch.pk).status == "failed"
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED


def test_fan_out_enqueues_one_task_per_batch_after_commit(cast, monkeypatch, django_capture_on_commit_callbacks):
    sent: list[int] = []
    monkeypatch.setattr(tasks.scan_batch, "delay", lambda pk: sent.append(pk))
    with django_capture_on_commit_callbacks(execute=True):
        run = reminder_run_create(on=ON, trigger="test", batch_size=2)
    assert (
        sorted(sent) == sorted(run.batches.values_list("pk", flat=True)) and len(sent) == 3 + 2
    )  # + a tree batch per root


# --- task configuration (Q-2, Q-3, Q-4, Q-8) -------------------------------------------------


@pytest.mark.parametrize("task", [tasks.run_daily, tasks.scan_batch, tasks.deliver, tasks.deliver_batch, tasks.sweep])
def test_tasks_are_named_late_acked_time_limited_and_retry_finitely(task):
    assert task.name.startswith("notifications.")
    assert task.acks_late is True and task.reject_on_worker_lost is True
    assert task.time_limit and task.soft_time_limit and task.soft_time_limit < task.time_limit
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    assert task.time_limit < visibility
    assert 0 < task.max_retries <= 10
    assert set(task.autoretry_for) <= set(tasks.TRANSIENT)  # transient errors only


def test_celery_reliability_settings():
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_ACCEPT_CONTENT == ["json"]
    assert settings.CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS is True


def test_beat_schedule_lives_in_settings():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["notifications-scan"]["task"] == "notifications.run_daily"
    assert schedule["notifications-sweep"]["task"] == "notifications.sweep"


def test_run_daily_task_fans_out(cast, monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(tasks.scan_batch, "delay", lambda pk: sent.append(pk))
    run_id = tasks.run_daily.apply(kwargs={"on": "2026-01-06"}).get()
    assert ReminderBatch.objects.filter(run_id=run_id, scope="orgs").count() == 1
    assert ReminderBatch.objects.filter(run_id=run_id, scope="tree").count() == 2  # P and Q
