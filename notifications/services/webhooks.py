"""Group robots (群机器人): an organization's webhook endpoint, configured or removed by an
org_admin over it. Deliveries go through the outbox (``services.outbox``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import audit_log
from notifications import channels
from notifications.models import WebhookEndpoint, WebhookKind
from notifications.selectors import can_manage_reminders
from organizations.models import Organization


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
