"""Writes and rules for reminders, the inbox, notices and external deliveries.

Keyword-only functions; validation first; ``ValidationError({field: "中文"})`` and nothing written
when refusing. Everything sent is written in one transaction with its notifications, and the
broker is only told after commit (``on_commit(robust=True)``): a rolled-back transaction sends
nothing, and a broker that is down leaves PENDING rows for the sweeper.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from audit.services import audit_log
from core.access import CHANGE, get_scope, user_can
from core.numbers import is_number
from core.roles import Role
from members.choices import MembershipStatus, Stage
from members.models import Member
from notifications import channels
from notifications.models import (
    Channel,
    Notice,
    NoticeAudience,
    NoticeKind,
    NoticeRecipient,
    NoticeTarget,
    Notification,
    NotificationCategory,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
    ReminderBatch,
    ReminderDispatch,
    ReminderRun,
    ReminderSetting,
    RunStatus,
    WebhookEndpoint,
    WebhookKind,
)
from notifications.rules import LAST_DAY, MEMBER, PARENT_ADMIN, RULES_BY_CODE, SECRETARY
from notifications.scan import ORGS, TREE, Candidate, ScanContext, evaluate
from notifications.selectors import RecipientResolver, can_manage_reminders
from organizations.choices import OrgType
from organizations.models import Organization, RoleAssignment

logger = logging.getLogger(__name__)

BATCH_SIZE_DEFAULT = 500
BATCH_MAX_ATTEMPTS = 5
EMAIL_CHUNK = 100


def _setting(name: str, default: Any) -> Any:
    from django.conf import settings

    return getattr(settings, name, default)


# --- reminder settings -----------------------------------------------------------------------


def _clean_day_of_month(value: str) -> str:
    value = (value or "").strip().lower()
    if value in ("", LAST_DAY):
        return value
    if value in ("月末", "最后一天"):
        return LAST_DAY
    if not is_number(value):
        raise ValidationError({"day_of_month": "每月日期应为 1–28 的整数或“月末”"})
    day = int(value)
    if 29 <= day <= 31:
        raise ValidationError({"day_of_month": f"{day} 日并非每个月都有，请选择 1–28 日或“月末”"})
    if not 1 <= day <= 28:
        raise ValidationError({"day_of_month": "每月日期应为 1–28 的整数或“月末”"})
    return str(day)


@transaction.atomic
def reminder_setting_update(
    *,
    user: Any,
    organization: Organization,
    rule: str,
    enabled: bool | None = None,
    offset: int | None = None,
    grace_days: int | None = None,
    day_of_month: str = "",
) -> ReminderSetting | None:
    """Store (or clear) an organization's override of one rule for its whole subtree.

    Empty values inherit. Returns None when every value is empty (the override is removed)."""
    if not can_manage_reminders(user, organization):
        raise ValidationError({"organization": "只有上级组织部门（党委）工作人员可以调整本组织及下级组织的提醒设置"})
    definition = RULES_BY_CODE.get(rule)
    if definition is None:
        raise ValidationError({"rule": "未知的提醒规则"})
    errors: dict[str, str] = {}
    if offset is not None:
        if not definition.has_offset:
            errors["offset"] = "该提醒没有可调整的时间"
        elif offset < 0:
            errors["offset"] = "提前/间隔不能为负数"
        elif offset < definition.offset_min:
            errors["offset"] = f"不能少于 {definition.offset_min} {definition.offset_unit_label}"
        elif offset > definition.offset_max:
            errors["offset"] = f"不能超过 {definition.offset_max} {definition.offset_unit_label}"
    if grace_days is not None:
        if not definition.has_grace:
            errors["grace_days"] = "该提醒没有宽限天数"
        elif grace_days < 0:
            errors["grace_days"] = "宽限天数不能为负数"
        elif grace_days > 365:
            errors["grace_days"] = "宽限天数不能超过 365 天"
    if day_of_month:
        if not definition.has_day_of_month:
            errors["day_of_month"] = "该提醒不按月发送"
        else:
            try:
                day_of_month = _clean_day_of_month(day_of_month)
            except ValidationError as exc:
                errors.update({key: value[0] for key, value in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    existing = ReminderSetting.objects.select_for_update().filter(organization=organization, rule=rule).first()
    detail = {"rule": rule, "enabled": enabled, "offset": offset, "grace_days": grace_days, "day": day_of_month}
    if enabled is None and offset is None and grace_days is None and not day_of_month:
        if existing is not None:
            audit_log(event="reminder_setting_clear", obj=existing, organization=organization, detail=detail)
            existing.delete()
        return None
    setting = existing or ReminderSetting(organization=organization, rule=rule)
    setting.enabled = enabled
    setting.offset = offset
    setting.grace_days = grace_days
    setting.day_of_month = day_of_month
    setting.updated_by = user
    setting.save()
    audit_log(event="reminder_setting_update", obj=setting, organization=organization, detail=detail)
    return setting


# --- webhook ---------------------------------------------------------------------------------


@transaction.atomic
def webhook_configure(
    *, user: Any, organization: Organization, kind: str, url: str, secret: str = "", enabled: bool = True
) -> WebhookEndpoint:
    if not can_manage_reminders(user, organization):
        raise ValidationError({"organization": "只有组织部门（党委）工作人员可以配置群机器人"})
    if kind not in WebhookKind.values:
        raise ValidationError({"kind": "未知的机器人类型"})
    url = channels.validate_webhook_url(url)
    if len(secret) > 200:
        raise ValidationError({"secret": "签名密钥过长（不超过 200 个字符）"})
    endpoint = WebhookEndpoint.objects.select_for_update().filter(organization=organization).first()
    endpoint = endpoint or WebhookEndpoint(organization=organization)
    endpoint.kind = kind
    endpoint.url = url
    if secret:
        endpoint.secret = secret
    endpoint.enabled = enabled
    endpoint.updated_by = user
    endpoint.save()
    host = url.split("://", 1)[1].split("/", 1)[0]
    audit_log(
        event="webhook_configure", obj=endpoint, organization=organization, detail={"host": host, "enabled": enabled}
    )
    return endpoint


@transaction.atomic
def webhook_remove(*, user: Any, organization: Organization) -> None:
    if not can_manage_reminders(user, organization):
        raise ValidationError({"organization": "只有组织部门（党委）工作人员可以配置群机器人"})
    endpoint = WebhookEndpoint.objects.filter(organization=organization).first()
    if endpoint is not None:
        audit_log(event="webhook_remove", obj=endpoint, organization=organization, detail={})
        endpoint.delete()


# --- personal preferences and the inbox ------------------------------------------------------


@transaction.atomic
def preference_update(*, user: Any, email_enabled: bool, muted_rules: Iterable[str]) -> NotificationPreference:
    muted = sorted(set(muted_rules))
    for code in muted:
        rule = RULES_BY_CODE.get(code)
        if rule is None:
            raise ValidationError({"muted_rules": "未知的提醒规则"})
        if not rule.user_opt_out:
            raise ValidationError({"muted_rules": f"“{rule.label}”是工作提醒，不能关闭"})
    pref, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    pref.email_enabled = email_enabled
    pref.muted_rules = muted
    pref.save()
    return pref


def notification_mark_read(*, user: Any, notification_id: int) -> bool:
    """Mark one of the user's own notifications read. Foreign ids change nothing."""
    updated = (
        Notification.objects.visible_to(user)
        .filter(pk=notification_id, read_at__isnull=True)
        .update(read_at=timezone.now())
    )
    return bool(updated)


def notification_mark_all_read(*, user: Any) -> int:
    return Notification.objects.visible_to(user).unread().update(read_at=timezone.now())


# --- writing reminders exactly once ----------------------------------------------------------


@dataclass
class _Users:
    email: dict[int, str]
    email_enabled: dict[int, bool]
    muted: dict[int, set[str]]

    @classmethod
    def load(cls, user_ids: Iterable[int]) -> _Users:
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


def _recipients(candidate: Candidate, resolver: RecipientResolver) -> list[int]:
    users: list[int] = []
    for who in candidate.definition.audience:
        if who == SECRETARY:
            users += resolver.secretaries(candidate.org.path)
        elif who == PARENT_ADMIN:
            users += resolver.parent_admins(candidate.org.path)
        elif who == MEMBER and candidate.member_user_id:
            users.append(candidate.member_user_id)
    users += candidate.extra_recipients
    return list(dict.fromkeys(users))


def reminder_candidates_write(*, candidates: list[Candidate], on: date) -> int:
    """Write each candidate reminder at most once, ever. Returns how many were new.

    The dispatch rows are inserted (sorted, so concurrent writers lock in the same order) with
    ON CONFLICT DO NOTHING; the ones carrying this call's random token are the ones it won, and
    only those get notifications and outbox rows, in the same transaction."""
    if not candidates:
        return 0
    resolver = RecipientResolver(
        Organization(path=c.org.path, org_type=c.org.org_type) for c in {c.org.pk: c for c in candidates}.values()
    )
    planned: list[tuple[Candidate, list[int]]] = []
    for candidate in candidates:
        users = _recipients(candidate, resolver)
        if users:
            planned.append((candidate, users))
    users = _Users.load(u for _, ids in planned for u in ids)
    opt_out = {c.rule for c, _ in planned if c.definition.user_opt_out}
    if opt_out:
        planned = [
            (c, [u for u in ids if not (c.rule in opt_out and users.muted_rule(u, c.rule))]) for c, ids in planned
        ]
        planned = [(c, ids) for c, ids in planned if ids]
    if not planned:
        return 0
    planned.sort(key=lambda item: item[0].dedupe_key)
    token = uuid.uuid4()
    webhooks = dict(
        WebhookEndpoint.objects.filter(
            organization_id__in={c.org.pk for c, _ in planned if c.definition.webhook}, enabled=True
        ).values_list("organization_id", "pk")
    )
    with transaction.atomic():
        ReminderDispatch.objects.bulk_create(
            [
                ReminderDispatch(
                    dedupe_key=c.dedupe_key,
                    rule=c.rule,
                    organization_id=c.org.pk,
                    target_type=c.target_type,
                    target_id=c.target_id,
                    period=c.period,
                    on_date=on,
                    run_token=token,
                )
                for c, _ in planned
            ],
            ignore_conflicts=True,
            batch_size=500,
        )
        won = dict(ReminderDispatch.objects.filter(run_token=token).values_list("dedupe_key", "pk"))
        if not won:
            return 0
        notifications: list[Notification] = []
        webhook_rows: list[OutboxMessage] = []
        now = timezone.now()
        for candidate, ids in planned:
            dispatch_id = won.get(candidate.dedupe_key)
            if dispatch_id is None:
                continue
            level = candidate.definition.level
            notifications += [
                Notification(
                    recipient_id=user_id,
                    organization_id=candidate.org.pk,
                    category=NotificationCategory.REMINDER,
                    rule=candidate.rule,
                    dispatch_id=dispatch_id,
                    title=candidate.title[:200],
                    body=candidate.body,
                    link=candidate.link,
                    level=level,
                )
                for user_id in ids
            ]
            webhook_id = webhooks.get(candidate.org.pk) if candidate.definition.webhook else None
            if webhook_id:
                webhook_rows.append(
                    OutboxMessage(
                        channel=Channel.WEBHOOK,
                        organization_id=candidate.org.pk,
                        webhook_id=webhook_id,
                        dispatch_id=dispatch_id,
                        subject=candidate.title[:200],
                        body=candidate.body,
                        next_attempt_at=now,
                        max_attempts=channels.MAX_ATTEMPTS,
                    )
                )
        Notification.objects.bulk_create(notifications, batch_size=1000)
        email_rows = _email_rows(notifications, users, now)
        OutboxMessage.objects.bulk_create(email_rows + webhook_rows, batch_size=1000)
        _enqueue_on_commit(email_rows, webhook_rows)
    return len(won)


def _email_rows(notifications: list[Notification], users: _Users, now: Any) -> list[OutboxMessage]:
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


def _enqueue_on_commit(email_rows: list[OutboxMessage], webhook_rows: list[OutboxMessage]) -> None:
    email_ids = [row.pk for row in email_rows if row.pk]
    webhook_ids = [row.pk for row in webhook_rows if row.pk]
    if email_ids or webhook_ids:

        def enqueue_outbox() -> None:
            outbox_enqueue(email_ids=email_ids, webhook_ids=webhook_ids)

        # robust: a broker that is down must not undo the commit; the sweeper re-enqueues later
        transaction.on_commit(enqueue_outbox, robust=True)


def outbox_enqueue(*, email_ids: list[int], webhook_ids: list[int]) -> None:
    """Ring the doorbell. If the broker is down, the rows stay PENDING and the sweeper retries."""
    from notifications.tasks import deliver, deliver_batch

    for start in range(0, len(email_ids), EMAIL_CHUNK):
        deliver_batch.delay(email_ids[start : start + EMAIL_CHUNK])
    for message_id in webhook_ids:  # one task each: a slow robot never holds up other messages
        deliver.delay(message_id)


# --- runs and batches ------------------------------------------------------------------------


def reminder_run_create(
    *, on: date, trigger: str, batch_size: int | None = None, enqueue: bool = True, queue: str | None = None
) -> ReminderRun:
    """Split the tree into batches of organizations (in path order) and, after commit, enqueue
    one scan task per batch."""
    batch_size = batch_size or _setting("PB_REMINDER_BATCH_SIZE", BATCH_SIZE_DEFAULT)
    if batch_size < 1:
        raise ValidationError({"batch_size": "每批组织数至少为 1"})
    org_ids = list(Organization.objects.order_by("path").values_list("pk", flat=True))
    chunks = [(ORGS, org_ids[i : i + batch_size]) for i in range(0, len(org_ids), batch_size)]
    # Tree-wide rules (the compliance calendar): one batch per root, over its whole subtree.
    chunks += [
        (TREE, [pk]) for pk in Organization.objects.filter(depth=1).order_by("path").values_list("pk", flat=True)
    ]
    with transaction.atomic():
        run = ReminderRun.objects.create(
            on_date=on,
            trigger=trigger[:20],
            batch_size=batch_size,
            batch_count=len(chunks),
            status=RunStatus.RUNNING if chunks else RunStatus.DONE,
            finished_at=None if chunks else timezone.now(),
        )
        batches = ReminderBatch.objects.bulk_create(
            [
                ReminderBatch(run=run, number=n, scope=scope, org_ids=chunk)
                for n, (scope, chunk) in enumerate(chunks, start=1)
            ]
        )
        if enqueue:
            ids = (
                [b.pk for b in batches]
                if all(b.pk for b in batches)
                else list(run.batches.order_by("number").values_list("pk", flat=True))
            )

            def enqueue_batches() -> None:
                _enqueue_batches(ids, queue)

            transaction.on_commit(enqueue_batches, robust=True)
    return run


def _enqueue_batches(batch_ids: list[int], queue: str | None) -> None:
    from notifications.tasks import scan_batch

    for batch_id in batch_ids:
        if queue:
            scan_batch.apply_async((batch_id,), queue=queue)
        else:
            scan_batch.delay(batch_id)


@dataclass
class BatchResult:
    status: str
    created: int = 0


def reminder_batch_process(*, batch_id: int) -> BatchResult:
    """Claim a batch (conditional UPDATE), scan its organizations, write the reminders.

    A batch already DONE is skipped. A batch found RUNNING (its worker died, or the message was
    redelivered) is run again: writes are idempotent, so a second run adds nothing twice."""
    now = timezone.now()
    claimed = ReminderBatch.objects.filter(pk=batch_id, status__in=[RunStatus.PENDING, RunStatus.RUNNING]).update(
        status=RunStatus.RUNNING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return BatchResult("skipped")
    batch = ReminderBatch.objects.select_related("run").get(pk=batch_id)
    if batch.attempts > BATCH_MAX_ATTEMPTS:
        ReminderBatch.objects.filter(pk=batch_id).update(status=RunStatus.FAILED, error="重试次数已用尽")
        logger.error("reminder batch %s failed after %s attempts", batch_id, batch.attempts - 1)
        _finish_run(batch.run_id)
        return BatchResult("failed")
    _fault_point("before_scan")
    if batch.scope == TREE:
        created = reminder_scan_tree(root_id=batch.org_ids[0], on=batch.run.on_date)
    else:
        created = reminder_scan_orgs(org_ids=batch.org_ids, on=batch.run.on_date)
    ReminderBatch.objects.filter(pk=batch_id, status=RunStatus.RUNNING).update(
        status=RunStatus.DONE, finished_at=timezone.now(), created_count=F("created_count") + created, error=""
    )
    _finish_run(batch.run_id)
    return BatchResult("done", created)


def reminder_scan_orgs(*, org_ids: list[int], on: date) -> int:
    ctx = ScanContext.for_org_ids(org_ids, on)
    return reminder_candidates_write(candidates=evaluate(ctx, ORGS), on=on)


def reminder_scan_tree(*, root_id: int, on: date) -> int:
    root = Organization.objects.filter(pk=root_id).first()
    if root is None:  # deleted since the run was planned
        return 0
    ctx = ScanContext.for_subtree(root, on)
    return reminder_candidates_write(candidates=evaluate(ctx, TREE), on=on)


def _finish_run(run_id: int) -> None:
    if not ReminderBatch.objects.filter(run_id=run_id).exclude(status__in=[RunStatus.DONE, RunStatus.FAILED]).exists():
        failed = ReminderBatch.objects.filter(run_id=run_id, status=RunStatus.FAILED).exists()
        ReminderRun.objects.filter(pk=run_id, finished_at__isnull=True).update(
            status=RunStatus.FAILED if failed else RunStatus.DONE, finished_at=timezone.now()
        )


def reminder_run_inline(*, on: date, trigger: str = "command", batch_size: int | None = None) -> ReminderRun:
    """The whole scan in this process (operators, tests, the benchmark)."""
    run = reminder_run_create(on=on, trigger=trigger, batch_size=batch_size, enqueue=False)
    for batch_id in run.batches.order_by("number").values_list("pk", flat=True):
        reminder_batch_process(batch_id=batch_id)
    run.refresh_from_db()
    return run


def _fault_point(name: str) -> None:
    """A pause the fault tests use to kill a worker mid-batch (``PB_NOTIFY_FAULT_PAUSE`` seconds;
    0 in every real deployment)."""
    pause = _setting("PB_NOTIFY_FAULT_PAUSE", 0.0)
    if pause:
        import time

        time.sleep(pause)


# --- delivery through the outbox -------------------------------------------------------------


@dataclass
class DeliveryResult:
    status: str
    retry_in: float | None = None


def outbox_deliver(*, message_id: int) -> DeliveryResult:
    """Claim one PENDING message (PENDING → SENDING, conditional UPDATE), send it, record the
    outcome. Transient errors put it back to PENDING with exponential backoff and jitter until
    ``max_attempts``; then FAILED (the dead-letter state, logged)."""
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.PENDING, next_attempt_at__lte=now).update(
        status=OutboxStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return DeliveryResult("skipped")
    message = OutboxMessage.objects.select_related("webhook").get(pk=message_id)
    mine = OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.SENDING, claimed_at=now)
    try:
        _send(message)
    except channels.TransientDeliveryError as exc:
        if message.attempts >= message.max_attempts:
            mine.update(status=OutboxStatus.FAILED, last_error=str(exc)[:500])
            logger.error("outbox %s failed after %s attempts: %s", message_id, message.attempts, exc)
            return DeliveryResult("failed")
        delay = channels.backoff_seconds(message.attempts)
        mine.update(
            status=OutboxStatus.PENDING, next_attempt_at=now + timedelta(seconds=delay), last_error=str(exc)[:500]
        )
        logger.warning("outbox %s attempt %s failed (%s); retry in %.0fs", message_id, message.attempts, exc, delay)
        return DeliveryResult("retry", delay)
    except channels.PermanentDeliveryError as exc:
        mine.update(status=OutboxStatus.FAILED, last_error=str(exc)[:500])
        logger.error("outbox %s failed permanently: %s", message_id, exc)
        return DeliveryResult("failed")
    mine.update(status=OutboxStatus.SENT, sent_at=timezone.now(), last_error="")
    return DeliveryResult("sent")


def _send(message: OutboxMessage) -> None:
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


@dataclass
class SweepResult:
    outbox_requeued: int = 0
    outbox_reset: int = 0
    batches_requeued: int = 0


def notifications_sweep(
    *,
    pending_after: timedelta = timedelta(minutes=2),
    sending_after: timedelta = timedelta(minutes=10),
    batch_after: timedelta = timedelta(minutes=15),
    limit: int = 2000,
) -> SweepResult:
    """Re-enqueue what the broker may have lost.

    - SENDING rows claimed longer ago than ``sending_after`` (beyond the task's hard time limit:
      their worker is dead) go back to PENDING;
    - PENDING rows due for longer than ``pending_after`` are enqueued again (a second message is
      harmless: the claim lets only one worker send);
    - scan batches PENDING or RUNNING for longer than ``batch_after`` are enqueued again (a
      second scan is harmless: reminders are deduplicated)."""
    from notifications.tasks import deliver, scan_batch

    now = timezone.now()
    result = SweepResult()
    result.outbox_reset = OutboxMessage.objects.filter(
        status=OutboxStatus.SENDING, claimed_at__lt=now - sending_after
    ).update(status=OutboxStatus.PENDING, next_attempt_at=now)
    due = list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lt=now - pending_after)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    stale_batches = list(
        ReminderBatch.objects.filter(
            Q(status=RunStatus.PENDING, created_at__lt=now - batch_after)
            | Q(status=RunStatus.RUNNING, claimed_at__lt=now - batch_after)
        ).values_list("pk", flat=True)[:limit]
    )
    for message_id in due:
        deliver.delay(message_id)
    for batch_id in stale_batches:
        scan_batch.delay(batch_id)
    result.outbox_requeued = len(due)
    result.batches_requeued = len(stale_batches)
    if due or stale_batches or result.outbox_reset:
        logger.info("notifications sweep: %s", result)
    return result


# --- notices ---------------------------------------------------------------------------------


def _target_orgs(*, sender: Any, organization: Organization, target: str) -> Any:
    visible = Organization.objects.visible_to(sender, CHANGE)
    if target == NoticeTarget.SUBTREE:
        return visible.filter(path__startswith=organization.path)
    return visible.filter(Q(pk=organization.pk) | Q(path__startswith=organization.path, org_type=OrgType.GROUP))


def notice_send(
    *,
    sender: Any,
    organization: Organization,
    title: str,
    body: str,
    kind: str = NoticeKind.WORK_ARRANGEMENT,
    target: str = NoticeTarget.ORGANIZATION,
    audience: str = NoticeAudience.MEMBERS,
    member_ids: Iterable[int] = (),
    send_email: bool = False,
    send_webhook: bool = False,
    client_token: uuid.UUID | str | None = None,
) -> Notice:
    """Send a notice (通知) through the gate: only to organizations and members the sender may
    change. Re-submitting with the same ``client_token`` returns the notice already sent."""
    scope = get_scope(sender)
    if not scope.may_send_notices or not user_can(sender, CHANGE, organization):
        raise ValidationError({"organization": "您无权向该组织发送通知"})
    errors: dict[str, str] = {}
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        errors["title"] = "请填写标题"
    elif len(title) > 200:
        errors["title"] = "标题不超过 200 个字符"
    if not body:
        errors["body"] = "请填写正文"
    elif len(body) > 20000:
        errors["body"] = "正文不超过 20000 个字符"
    if kind not in NoticeKind.values:
        errors["kind"] = "未知的通知类别"
    if target not in NoticeTarget.values:
        errors["target"] = "未知的发送对象"
    if audience not in NoticeAudience.values:
        errors["audience"] = "未知的接收人类型"
    if target == NoticeTarget.MEMBERS and audience == NoticeAudience.SECRETARIES:
        errors["audience"] = "指定党员时接收人只能是党员本人"
    try:
        token = uuid.UUID(str(client_token)) if client_token else uuid.uuid4()
    except ValueError:
        errors["client_token"] = "表单已失效，请刷新后重试"  # noqa: S105 - a message, not a secret
        token = None
    member_ids = sorted({int(pk) for pk in member_ids})
    if target == NoticeTarget.MEMBERS and not member_ids:
        errors["members"] = "请选择至少一名党员"
    if errors:
        raise ValidationError(errors)
    existing = Notice.objects.filter(sender=sender, client_token=token).first()
    if existing is not None:
        return existing

    addressees = _notice_addressees(
        sender=sender, organization=organization, target=target, audience=audience, member_ids=member_ids
    )
    if not addressees:
        raise ValidationError({"target": "所选范围内没有可接收通知的人员"})
    user_ids = [a["user_id"] for a in addressees if a["user_id"]]
    users = _Users.load(user_ids)
    with transaction.atomic():
        notice = Notice.objects.create(
            organization=organization,
            sender=sender,
            sender_name=(sender.get_full_name() or sender.username)[:150],
            kind=kind,
            title=title,
            body=body,
            target=target,
            audience=audience,
            send_email=send_email,
            send_webhook=send_webhook,
            recipient_count=len(user_ids),
            offline_count=len(addressees) - len(user_ids),
            client_token=token,
        )
        link = f"/notifications/notices/{notice.pk}/read/"
        notifications = Notification.objects.bulk_create(
            [
                Notification(
                    recipient_id=user_id,
                    organization=organization,
                    category=NotificationCategory.NOTICE,
                    notice=notice,
                    title=f"【{notice.get_kind_display()}】{title}"[:200],
                    body=body,
                    link=link,
                )
                for user_id in user_ids
            ],
            batch_size=1000,
        )
        by_user = {n.recipient_id: n.pk for n in notifications}
        NoticeRecipient.objects.bulk_create(
            [
                NoticeRecipient(
                    notice=notice,
                    organization_id=a["organization_id"],
                    member_id=a["member_id"],
                    user_id=a["user_id"],
                    name=a["name"][:150],
                    notification_id=by_user.get(a["user_id"]),
                )
                for a in addressees
            ],
            batch_size=1000,
        )
        now = timezone.now()
        email_rows = _email_rows(notifications, users, now) if send_email else []
        webhook_rows = []
        endpoint = WebhookEndpoint.objects.filter(organization=organization, enabled=True).first()
        if send_webhook and endpoint is not None:
            webhook_rows.append(
                OutboxMessage(
                    channel=Channel.WEBHOOK,
                    organization=organization,
                    webhook=endpoint,
                    notice=notice,
                    subject=f"【{notice.get_kind_display()}】{title}"[:200],
                    body=body[:2000],
                    next_attempt_at=now,
                    max_attempts=channels.MAX_ATTEMPTS,
                )
            )
        OutboxMessage.objects.bulk_create(email_rows + webhook_rows, batch_size=1000)
        audit_log(
            event="notice_send",
            obj=notice,
            organization=organization,
            detail={"recipients": len(addressees), "online": len(user_ids), "target": target, "audience": audience},
        )
        _enqueue_on_commit(email_rows, webhook_rows)
    return notice


def _notice_addressees(
    *, sender: Any, organization: Organization, target: str, audience: str, member_ids: list[int]
) -> list[dict[str, Any]]:
    if audience == NoticeAudience.SECRETARIES:
        orgs = _target_orgs(sender=sender, organization=organization, target=target)
        rows = (
            RoleAssignment.objects.filter(organization__in=orgs, role=Role.SECRETARY, user__is_active=True)
            .exclude(user=sender)
            .order_by("organization__path", "user_id")
            .values("user_id", "organization_id", "user__first_name", "user__last_name", "user__username")
        )
        seen: dict[int, dict[str, Any]] = {}
        for row in rows:
            name = f"{row['user__last_name']}{row['user__first_name']}".strip() or row["user__username"]
            seen.setdefault(
                row["user_id"],
                {"user_id": row["user_id"], "organization_id": row["organization_id"], "member_id": None, "name": name},
            )
        return list(seen.values())
    reachable = Member.objects.visible_to(sender, CHANGE).filter(
        organization__path__startswith=organization.path, membership_status=MembershipStatus.NORMAL
    )
    if target == NoticeTarget.MEMBERS:
        members = reachable.filter(pk__in=member_ids)
        found = list(members.values("pk", "organization_id", "name", "user_id", "user__is_active"))
        if len(found) != len(member_ids):
            raise ValidationError({"members": "所选党员不存在或不在您的管理范围内"})
    else:
        orgs = _target_orgs(sender=sender, organization=organization, target=target)
        members = reachable.filter(organization__in=orgs, stage__in=[Stage.PROBATIONARY, Stage.FULL])
        found = list(
            members.order_by("organization__path", "name", "pk").values(
                "pk", "organization_id", "name", "user_id", "user__is_active"
            )
        )
    return [
        {
            "member_id": row["pk"],
            "organization_id": row["organization_id"],
            "name": row["name"],
            "user_id": row["user_id"] if row["user__is_active"] else None,
        }
        for row in found
    ]


def notice_open(*, user: Any, notice_id: int) -> Notification | None:
    """A recipient opens a notice from the inbox: marks their copy read."""
    notification = Notification.objects.visible_to(user).filter(notice_id=notice_id).first()
    if notification is not None and notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
        notification.read_at = timezone.now()
    return notification
