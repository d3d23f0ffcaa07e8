"""Notices (通知): sent through the gate to organizations and members the sender may change, with
notifications for those who have a login, the list of addressees, and optional e-mail and robot
deliveries through the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_log
from core.access import CHANGE, get_scope, user_can
from core.roles import Role
from members.choices import MembershipStatus, Stage
from members.models import Member
from notifications.channels import MAX_ATTEMPTS
from notifications.models import (
    PERSONAL_CHANNELS,
    Channel,
    Notice,
    NoticeAudience,
    NoticeKind,
    NoticeRecipient,
    NoticeTarget,
    Notification,
    NotificationCategory,
    OutboxMessage,
    WebhookEndpoint,
)
from notifications.services.outbox import UserContacts, email_messages, enqueue_on_commit
from notifications.services.personal import PersonalContacts, configured_channels, personal_messages
from organizations.choices import OrgType
from organizations.models import Organization, RoleAssignment


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
    channels: Iterable[str] = (),
    client_token: uuid.UUID | str | None = None,
) -> Notice:
    """Send a notice (通知) through the gate: only to organizations and members the sender may
    change. Re-submitting with the same ``client_token`` returns the notice already sent.

    ``channels``: personal channels (SMS, 企业微信, 钉钉) to send it on too, one outbox row per
    recipient and channel, as for reminders (opt-outs, SMS quiet hours and budget apply); a
    channel without credentials is refused."""
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
    channels = [str(c) for c in channels]
    available = configured_channels(organization=organization)
    for channel in channels:
        if channel not in PERSONAL_CHANNELS:
            errors["channels"] = f"未知的消息渠道：{channel[:20]}（可选：短信、企业微信、钉钉）"
            break
        if channel not in available:
            errors["channels"] = f"{Channel(channel).label}尚未开通，不能通过它发送"
            break
    channels = [c for c in PERSONAL_CHANNELS if c in channels]
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
    users = UserContacts.load(user_ids)
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
            channels=channels,
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
        email_rows = email_messages(notifications, users, now) if send_email else []
        if channels:
            contacts = PersonalContacts.load(user_ids, channels)
            email_rows += personal_messages(notifications, contacts, now, channels)
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
                    max_attempts=MAX_ATTEMPTS,
                )
            )
        OutboxMessage.objects.bulk_create(email_rows + webhook_rows, batch_size=1000)
        audit_log(
            event="notice_send",
            obj=notice,
            organization=organization,
            detail={
                "recipients": len(addressees),
                "online": len(user_ids),
                "target": target,
                "audience": audience,
                "channels": channels,
            },
        )
        enqueue_on_commit(email_rows, webhook_rows)
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
