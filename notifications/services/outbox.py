"""Delivery through the outbox: the e-mail and webhook rows written with notifications and
notices, the doorbell rung after commit (``on_commit(robust=True)``: a broker that is down leaves
PENDING rows for the sweeper), and the claim-send-record step a delivery task runs.

The delivery tasks are imported here at module level (this module enqueues them); the tasks
import services only inside their bodies, so the import goes one way and never circles."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from notifications import channels
from notifications.models import (
    PERSONAL_CHANNELS,
    Channel,
    Notification,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
)
from notifications.services import batching, personal
from notifications.tasks import deliver, deliver_batch  # no circle: tasks import services only in their bodies

logger = logging.getLogger(__name__)


EMAIL_CHUNK = 100


@dataclass
class UserContacts:
    """The e-mail address and preferences of many users, from two queries."""

    email: dict[int, str]
    email_enabled: dict[int, bool]
    muted: dict[int, set[str]]

    @classmethod
    def load(cls, user_ids: Iterable[int]) -> UserContacts:
        ids = list(set(user_ids))
        email: dict[int, str] = {}
        if ids:
            email = dict(
                get_user_model().objects.filter(pk__in=ids, is_active=True).exclude(email="").values_list("pk", "email")
            )
        enabled: dict[int, bool] = {}
        muted: dict[int, set[str]] = {}
        for user_id, email_on, rules in NotificationPreference.objects.filter(user_id__in=ids).values_list(
            "user_id", "email_enabled", "muted_rules"
        ):
            enabled[user_id] = email_on
            muted[user_id] = set(rules or [])
        return cls(email, enabled, muted)

    def wants_email(self, user_id: int) -> bool:
        return bool(self.email.get(user_id)) and self.email_enabled.get(user_id, True)

    def muted_rule(self, user_id: int, rule: str) -> bool:
        return rule in self.muted.get(user_id, ())


def email_messages(notifications: list[Notification], users: UserContacts, now: Any) -> list[OutboxMessage]:
    """Unsaved outbox rows: one e-mail per notification whose recipient wants e-mail."""
    return [
        OutboxMessage(
            channel=Channel.EMAIL,
            organization_id=n.organization_id,
            notification_id=n.pk,
            to_address=users.email[n.recipient_id],
            subject=f"[党建提醒] {n.title}"[:200],
            body=_email_body(n.body, n.link),
            next_attempt_at=now,
            max_attempts=channels.MAX_ATTEMPTS,
        )
        for n in notifications
        if users.wants_email(n.recipient_id)
    ]


def _email_body(body: str, link: str) -> str:
    url = channels.absolute_link(link)
    tail = f"\n\n办理入口：{url}" if url else "\n\n请登录党建工作管理系统查看。"
    return f"{body}{tail}\n\n（本邮件由系统自动发送，可在“个人提醒设置”中关闭邮件提醒。）"


def enqueue_on_commit(email_rows: list[OutboxMessage], webhook_rows: list[OutboxMessage]) -> None:
    """Enqueue the saved outbox rows' deliveries once the surrounding transaction commits."""
    email_ids = [row.pk for row in email_rows if row.pk]
    webhook_ids = [row.pk for row in webhook_rows if row.pk]
    if email_ids or webhook_ids:

        def enqueue_outbox() -> None:
            outbox_enqueue(email_ids=email_ids, webhook_ids=webhook_ids)

        # robust: a broker that is down must not undo the commit; the sweeper re-enqueues later
        transaction.on_commit(enqueue_outbox, robust=True)


def outbox_enqueue(*, email_ids: list[int], webhook_ids: list[int]) -> None:
    """System: ring the doorbell. If the broker is down, the rows stay PENDING and the sweeper
    retries. Trusts its caller (the after-commit hook of the writes above)."""
    for start in range(0, len(email_ids), EMAIL_CHUNK):
        deliver_batch.delay(email_ids[start : start + EMAIL_CHUNK])
    for message_id in webhook_ids:  # one task each: a slow robot never holds up other messages
        deliver.delay(message_id)


@dataclass
class DeliveryResult:
    status: str
    retry_in: float | None = None


def outbox_deliver(*, message_id: int) -> DeliveryResult:
    """System: claim one PENDING message (PENDING → SENDING, conditional UPDATE), send it, record
    the outcome. Transient errors put it back to PENDING with exponential backoff and jitter
    until ``max_attempts``; then FAILED (the dead-letter state, logged). Trusts its caller (the
    delivery tasks)."""
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.PENDING, next_attempt_at__lte=now).update(
        status=OutboxStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return DeliveryResult("skipped")
    message = OutboxMessage.objects.select_related("webhook", "notification").get(pk=message_id)
    mine = OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.SENDING, claimed_at=now)
    morning = personal.held_for_quiet_hours(message, now)
    if morning is not None:  # no SMS at night: back to PENDING until the morning, attempt not counted
        mine.update(status=OutboxStatus.PENDING, next_attempt_at=morning, attempts=F("attempts") - 1)
        return DeliveryResult("held")
    if message.channel == Channel.DINGTALK:  # with the due rows of the same message: one call
        group = [message, *batching.dingtalk_siblings_claim(message, now)]
        outcomes = batching.dingtalk_group_send(group)
        results = [_record(row, outcomes[row.pk], now) for row in group]
        return results[0]
    try:
        _send(message)
    except channels.DeliveryError as exc:
        return _record(message, exc, now)
    return _record(message, None, now)


def _record(message: OutboxMessage, error: channels.DeliveryError | None, now: Any) -> DeliveryResult:
    """Write the outcome of one claimed row (only if this worker's claim still holds)."""
    mine = OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENDING, claimed_at=now)
    message_id = message.pk
    if error is None:
        mine.update(status=OutboxStatus.SENT, sent_at=timezone.now(), last_error="")
        return DeliveryResult("sent")
    if isinstance(error, channels.TransientDeliveryError):
        if message.attempts >= message.max_attempts:
            mine.update(status=OutboxStatus.FAILED, last_error=str(error)[:500])
            logger.error("outbox %s failed after %s attempts: %s", message_id, message.attempts, error)
            return DeliveryResult("failed")
        delay = channels.backoff_seconds(message.attempts)
        mine.update(
            status=OutboxStatus.PENDING, next_attempt_at=now + timedelta(seconds=delay), last_error=str(error)[:500]
        )
        logger.warning("outbox %s attempt %s failed (%s); retry in %.0fs", message_id, message.attempts, error, delay)
        return DeliveryResult("retry", delay)
    mine.update(status=OutboxStatus.FAILED, last_error=str(error)[:500])
    logger.error("outbox %s failed permanently: %s", message_id, error)
    return DeliveryResult("failed")


def _send(message: OutboxMessage) -> None:
    if message.channel in PERSONAL_CHANNELS:
        personal.send_personal(message)
        return
    if message.channel == Channel.EMAIL:
        channels.send_email(to=message.to_address, subject=message.subject, body=message.body)
        return
    endpoint = message.webhook
    if endpoint is None or not endpoint.enabled:
        raise channels.PermanentDeliveryError("群机器人已停用或已删除")
    link = ""
    if message.notice_id:
        link = f"/notifications/notices/{message.notice_id}/"
    elif message.organization_id:
        link = f"/organizations/{message.organization_id}/"
    payload = channels.webhook_payload(kind=endpoint.kind, title=message.subject, body=message.body, link=link)
    channels.post_webhook(
        url=endpoint.url,
        kind=endpoint.kind,
        secret=endpoint.secret,
        payload=payload,
        idempotency_key=message.idempotency_key,
    )
