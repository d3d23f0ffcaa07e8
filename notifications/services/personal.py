"""Personal channels (#19): SMS, 企业微信 and 钉钉 messages to one person, written as outbox rows
beside the e-mail rows (same transaction, one row per notification and channel: UNIQUE), sent by
the same claim-send-record step.

- Addresses: the mobile number from the member record, the work-app user ids from
  ``ChannelAddress``; each person can switch a channel off (``NotificationPreference``) and
  opt out of rules as for e-mail (the notification itself is then not written).
- Quiet hours: an SMS written or retried between 21:00 and 08:00 (``PB_SMS_QUIET_HOURS``,
  Asia/Shanghai) is held until 08:00; the sweeper sends it then.
- Budget: a top-level organization's SMS segments per month (``PB_SMS_MONTHLY_BUDGET``),
  checked under a row lock before each send: a warning to its org_admins at 80 %, no SMS at 100 %.
- Only ever addressed to the person the notification belongs to: never a group."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from members import crypto
from members.models import PHONE_FIELD, Member
from members.validators import mask_phone
from notifications.channels import MAX_ATTEMPTS, PermanentDeliveryError, absolute_link, dingtalk, ratelimit, sms, wecom
from notifications.models import (
    PERSONAL_CHANNELS,
    Channel,
    ChannelAddress,
    Notification,
    NotificationCategory,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
    SmsBudget,
)
from notifications.selectors import STEP, RecipientResolver
from notifications.services.credentials import ChannelAvailability, channel_config
from organizations.models import Organization

logger = logging.getLogger(__name__)

BUDGET_WARN_RATIO = 0.8


def configured_channels(*, organization: Organization | None = None) -> list[str]:
    """The personal channels with credentials: in settings, or (for ``organization``'s tree) its
    top-level organization's own."""
    availability = ChannelAvailability.load([organization.path] if organization is not None else [])
    return (
        availability.for_path(organization.path)
        if organization is not None
        else sorted(availability.from_settings, key=PERSONAL_CHANNELS.index)
    )


@dataclass
class PersonalContacts:
    """Addresses and channel switches of many users, from three queries."""

    address: dict[str, dict[int, str]]
    off: dict[int, set[str]]

    @classmethod
    def load(cls, user_ids: Iterable[int], channels: list[str]) -> PersonalContacts:
        ids = list(set(user_ids))
        address: dict[str, dict[int, str]] = {c: {} for c in channels}
        if not ids or not channels:
            return cls(address, {})
        if Channel.SMS in channels:
            rows = (
                Member.objects.filter(user_id__in=ids).exclude(phone_cipher="").values_list("user_id", "phone_cipher")
            )
            for user_id, cipher in rows:
                try:
                    address[Channel.SMS][user_id] = sms.validate_mobile(crypto.decrypt(cipher, field=PHONE_FIELD))
                except ValidationError:
                    continue  # a landline: no SMS
        if Channel.WECOM in channels or Channel.DINGTALK in channels:
            for user_id, wecom_id, ding_id in ChannelAddress.objects.filter(user_id__in=ids).values_list(
                "user_id", "wecom_userid", "dingtalk_userid"
            ):
                if wecom_id and Channel.WECOM in channels:
                    address[Channel.WECOM][user_id] = wecom_id
                if ding_id and Channel.DINGTALK in channels:
                    address[Channel.DINGTALK][user_id] = ding_id
        off: dict[int, set[str]] = {}
        for user_id, sms_on, wecom_on, ding_on in NotificationPreference.objects.filter(user_id__in=ids).values_list(
            "user_id", "sms_enabled", "wecom_enabled", "dingtalk_enabled"
        ):
            off[user_id] = {
                c for c, on in ((Channel.SMS, sms_on), (Channel.WECOM, wecom_on), (Channel.DINGTALK, ding_on)) if not on
            }
        return cls(address, off)

    def address_for(self, user_id: int, channel: str) -> str:
        if channel in self.off.get(user_id, ()):
            return ""
        return self.address.get(channel, {}).get(user_id, "")


def quiet_until(now: datetime) -> datetime | None:
    """08:00 (local) when ``now`` falls in the SMS quiet hours, else None."""
    start, end = getattr(settings, "PB_SMS_QUIET_HOURS", (21, 8))
    local = timezone.localtime(now)
    if start == end or not (local.hour >= start or local.hour < end):
        return None
    morning = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if local.hour >= start:
        morning += timedelta(days=1)
    return morning


def sms_text(title: str, *, kind: str = "reminder") -> str:
    """The approved template of the kind (``reminder`` or ``notice``) filled in; a long title is
    shortened to fit one segment."""
    templates = getattr(settings, "PB_SMS_TEMPLATES", None) or sms.DEFAULT_TEMPLATES
    template = templates.get(kind) or sms.DEFAULT_TEMPLATES[kind]
    hint = "请登录党建系统查看办理。"
    for cut in range(len(title), -1, -1):
        try:
            return sms.render(template, {"title": title[:cut], "hint": hint}, max_segments=1)
        except ValidationError:
            continue
    return sms.render(template, {"title": "", "hint": ""}, max_segments=1)


WORK_APP_BODY_CHARS = 500


def personal_messages(
    notifications: list[Notification],
    contacts: PersonalContacts,
    now: datetime,
    channels: list[str] | dict[tuple[int, str], list[str]],
) -> list[OutboxMessage]:
    """Unsaved outbox rows: one per notification and channel (a list — a notice's — or chosen per
    (organization, rule) for reminders) where the recipient has an address and has not switched
    the channel off."""
    rows = []
    hold = quiet_until(now)
    for n in notifications:
        chosen = channels if isinstance(channels, list) else channels.get((n.organization_id, n.rule), [])
        for channel in chosen:
            if channel not in PERSONAL_CHANNELS:
                continue  # e-mail has its own rows
            to = contacts.address_for(n.recipient_id, channel)
            if not to:
                continue
            body, segments, due = n.body, 0, now
            if len(body) > WORK_APP_BODY_CHARS:  # a long notice: the start, the link opens the rest
                body = body[: WORK_APP_BODY_CHARS - 1] + "…"
            if channel == Channel.SMS:
                to = mask_phone(to)  # the number stays encrypted in the member record (read when sent)
                kind = "notice" if n.category == NotificationCategory.NOTICE else "reminder"
                body = sms_text(n.title, kind=kind)
                segments = sms.segments(body)
                due = hold or now
            rows.append(
                OutboxMessage(
                    channel=channel,
                    organization_id=n.organization_id,
                    notification_id=n.pk,
                    to_address=to,
                    subject=n.title[:200],
                    body=body,
                    segments=segments,
                    next_attempt_at=due,
                    max_attempts=MAX_ATTEMPTS,
                )
            )
    return rows


# --- sending ---------------------------------------------------------------------------------


def send_personal(message: OutboxMessage) -> None:
    """Send one personal message; raises the channel's delivery errors."""
    link = absolute_link(message.notification.link) if message.notification_id and message.notification else ""
    ratelimit.take(message.channel)
    if message.channel == Channel.SMS:
        config = channel_config(Channel.SMS, message.organization_id)
        if config is None:
            raise PermanentDeliveryError("短信网关未配置")
        mobile = _mobile_for(message)
        sms_budget_check(message)
        sms.send_sms(config, mobile=mobile, content=message.body, msgid=message.idempotency_key)
    elif message.channel == Channel.WECOM:
        wecom_config = channel_config(Channel.WECOM, message.organization_id)
        if wecom_config is None:
            raise PermanentDeliveryError("企业微信未配置")
        wecom.send_textcard(
            wecom_config, userids=[message.to_address], title=message.subject, description=message.body, url=link
        )
    elif message.channel == Channel.DINGTALK:
        send_dingtalk_group([message], counted=True)
    else:  # pragma: no cover - the outbox routes only personal channels here
        raise PermanentDeliveryError(f"未知渠道：{message.channel}")


def send_dingtalk_group(messages: list[OutboxMessage], *, counted: bool = False) -> None:
    """One 钉钉 work notice (``asyncsend_v2``) to the recipients of several outbox rows of the same
    message (same title, text and link; at most 100): one call, one rate-limit token."""
    first = messages[0]
    if not counted:
        ratelimit.take(Channel.DINGTALK)
    ding_config = channel_config(Channel.DINGTALK, first.organization_id)
    if ding_config is None:
        raise PermanentDeliveryError("钉钉未配置")
    link = absolute_link(first.notification.link) if first.notification_id and first.notification else ""
    dingtalk.send_work_notice(
        ding_config,
        userids=[m.to_address for m in messages][: dingtalk.MAX_USERS_PER_CALL],
        title=first.subject,
        text=first.body,
        url=link,
    )


def _mobile_for(message: OutboxMessage) -> str:
    """The recipient's current mobile number, decrypted from the member record at send time."""
    if not message.notification_id or message.notification is None:
        return message.to_address
    cipher = (
        Member.objects.filter(user_id=message.notification.recipient_id)
        .exclude(phone_cipher="")
        .values_list("phone_cipher", flat=True)
        .first()
    )
    if not cipher:
        raise PermanentDeliveryError("党员档案中没有联系电话")
    return crypto.decrypt(cipher, field=PHONE_FIELD)


def _root_org(org_id: int | None) -> Organization | None:
    if org_id is None:
        return None
    path = Organization.objects.filter(pk=org_id).values_list("path", flat=True).first()
    return Organization.objects.filter(path=path[:STEP]).first() if path else None


def sms_budget_check(message: OutboxMessage) -> None:
    """The month's segments of the message's top-level organization, counted under a row lock
    (SENT this month plus SENDING, this message included): over the limit → no SMS (permanent)."""
    root = _root_org(message.organization_id)
    if root is None:
        return
    local = timezone.localtime()
    month = local.date().replace(day=1)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    warn_admins = False
    with transaction.atomic():
        budget, _ = SmsBudget.objects.get_or_create(
            organization=root, month=month, defaults={"limit": settings.PB_SMS_MONTHLY_BUDGET}
        )
        budget = SmsBudget.objects.select_for_update().get(pk=budget.pk)
        used = (
            OutboxMessage.objects.filter(channel=Channel.SMS, organization__path__startswith=root.path)
            .filter(Q(status=OutboxStatus.SENT, sent_at__gte=month_start) | Q(status=OutboxStatus.SENDING))
            .exclude(pk=message.pk)
            .aggregate(total=Sum("segments"))["total"]
            or 0
        )
        if used + message.segments > budget.limit:
            budget.used = used
            budget.save(update_fields=["used"])
            raise PermanentDeliveryError(f"本月短信额度已用完（{budget.limit} 条），短信未发送")
        budget.used = used + message.segments
        fields = ["used"]
        if budget.warned_at is None and budget.used >= BUDGET_WARN_RATIO * budget.limit:
            budget.warned_at = timezone.now()
            fields.append("warned_at")
            warn_admins = True
        budget.save(update_fields=fields)
    if warn_admins:
        _warn_budget(root, budget)


def _warn_budget(root: Organization, budget: SmsBudget) -> None:
    admins = RecipientResolver([root]).parent_admins(root.path)
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=user_id,
                organization_id=root.pk,
                category=NotificationCategory.REMINDER,
                rule="sms_budget",
                title=f"本月短信额度已用 {budget.used}/{budget.limit} 条",
                body="短信额度用满后将停止发送短信提醒（站内消息和其他渠道不受影响）。",
                link=f"/notifications/rules/{root.pk}/deliveries/",
                level="warning",
            )
            for user_id in admins
        ]
    )
    logger.warning("sms budget of org %s at %s/%s", root.pk, budget.used, budget.limit)


def held_for_quiet_hours(message: OutboxMessage, now: datetime) -> datetime | None:
    """An SMS claimed in the quiet hours (a retry, a late sweep) waits for the morning."""
    return quiet_until(now) if message.channel == Channel.SMS else None
