"""The user's own: personal reminder preferences (e-mail, muted greetings) and the inbox (mark
read, open a notice). Each function writes only rows of the acting user: their preference row
(a signed-in, active user only), and notifications through ``Notification.objects.visible_to``,
the owner-scoped gate of the inbox (a user reaches only notifications addressed to them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from notifications.models import Notification, NotificationPreference
from notifications.rules import RULES_BY_CODE


@transaction.atomic
def preference_update(
    *,
    user: Any,
    email_enabled: bool,
    muted_rules: Iterable[str],
    sms_enabled: bool | None = None,
    wecom_enabled: bool | None = None,
    dingtalk_enabled: bool | None = None,
) -> NotificationPreference:
    """Store the user's own reminder preferences (e-mail, SMS, 企业微信, 钉钉 on/off; greetings
    muted). A channel switch left None keeps its value."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied("请先登录")
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
    for name, value in (
        ("sms_enabled", sms_enabled),
        ("wecom_enabled", wecom_enabled),
        ("dingtalk_enabled", dingtalk_enabled),
    ):
        if value is not None:
            setattr(pref, name, value)
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


def notice_open(*, user: Any, notice_id: int) -> Notification | None:
    """A recipient opens a notice from the inbox: marks their copy read."""
    notification = Notification.objects.visible_to(user).filter(notice_id=notice_id).first()
    if notification is not None and notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
        notification.read_at = timezone.now()
    return notification
