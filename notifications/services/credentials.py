"""Per-top-level-organization vendor credentials (#19): a unit that runs its own 企业微信 corp,
钉钉 app or SMS gateway stores them here; its whole tree's messages then go through them, and
through the settings (``PB_SMS`` / ``PB_WECOM`` / ``PB_DINGTALK``) otherwise.

The secret is encrypted with the member-record field encryption (``members.crypto``, AES-GCM with
versioned, rotatable keys) under its own field name; it is decrypted only to build the adapter's
config at send time, never returned, shown or logged (the audit record says only whether it
changed). Only an org_admin of the top-level organization stores or removes them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from audit.services import audit_log
from core.numbers import is_number
from members import crypto
from notifications.channels import dingtalk, sms, transport, wecom
from notifications.models import PERSONAL_CHANNELS, Channel, ChannelCredential
from notifications.selectors import STEP, can_manage_reminders
from organizations.models import Organization

CIPHER_FIELD = "notifications.channel_credential.secret"
SECRET_NAME = {Channel.SMS: "secret", Channel.WECOM: "secret", Channel.DINGTALK: "app_secret"}
CONFIG_KEYS = {
    Channel.SMS: {"url", "method", "format", "params", "success_pattern", "transient_pattern", "extra"},
    Channel.WECOM: {"corp_id", "agent_id", "base_url"},
    Channel.DINGTALK: {"app_key", "agent_id", "base_url"},
}
APP_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
BUILDERS = {
    Channel.SMS: sms.SmsConfig.from_mapping,
    Channel.WECOM: wecom.WecomConfig.from_mapping,
    Channel.DINGTALK: dingtalk.DingtalkConfig.from_mapping,
}
FROM_SETTINGS = {
    Channel.SMS: sms.SmsConfig.from_settings,
    Channel.WECOM: wecom.WecomConfig.from_settings,
    Channel.DINGTALK: dingtalk.DingtalkConfig.from_settings,
}


def _root_path(path: str) -> str:
    return path[:STEP]


def _clean_config(channel: str, config: dict[str, Any], secret: str) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise ValidationError({"config": "配置应为 JSON 对象"})
    unknown = sorted(set(config) - CONFIG_KEYS[channel])
    if unknown:
        secretish = [k for k in unknown if "secret" in k.lower() or "password" in k.lower()]
        if secretish:
            raise ValidationError({"config": "密钥请填在“密钥”栏，不要写在配置里"})
        allowed = "、".join(sorted(CONFIG_KEYS[channel]))
        raise ValidationError({"config": f"不认识的配置项“{unknown[0][:30]}”，可用：{allowed}"})
    cleaned = {k: v for k, v in config.items() if v not in (None, "")}
    if channel == Channel.SMS:
        built = sms.SmsConfig.from_mapping({**cleaned, "secret": secret})
        if built is None:
            raise ValidationError({"config": "请填写短信网关地址（url）"})
        built.validate()
        return cleaned
    id_key = "corp_id" if channel == Channel.WECOM else "app_key"
    label = "企业 ID（corp_id）" if channel == Channel.WECOM else "应用 AppKey（app_key）"
    if not APP_ID_RE.match(str(cleaned.get(id_key, ""))):
        raise ValidationError({"config": f"请填写{label}：字母、数字、_ . -，不超过 64 个字符"})
    agent = str(cleaned.get("agent_id", ""))
    if not is_number(agent) or not 0 < int(agent) < 10**12:
        raise ValidationError({"config": "应用 AgentId（agent_id）应为正整数"})
    cleaned["agent_id"] = int(agent)
    if cleaned.get("base_url"):
        transport.validate_gateway_url(str(cleaned["base_url"]), label="接口地址")
    return cleaned


@transaction.atomic
def channel_credential_save(
    *,
    user: Any,
    organization: Organization,
    channel: str,
    config: dict[str, Any],
    secret: str = "",
    enabled: bool = True,
) -> ChannelCredential:
    """Store a top-level organization's own credentials for one channel. An empty ``secret``
    keeps the stored one (a new credential needs one). Validated as the adapter will use it:
    unknown keys, a gateway at a private address, a bad template variable are refused."""
    if organization.depth != 1 or not can_manage_reminders(user, organization):
        raise PermissionDenied("只有上级党委（顶级组织）的组织部门工作人员可以配置本单位的消息渠道")
    if channel not in PERSONAL_CHANNELS:
        raise ValidationError({"channel": "未知的消息渠道（可选：短信、企业微信、钉钉）"})
    secret = (secret or "").strip()
    if len(secret) > 500:
        raise ValidationError({"secret": "密钥过长（不超过 500 个字符）"})
    existing = ChannelCredential.objects.select_for_update().filter(organization=organization, channel=channel).first()
    if not secret and existing is None and channel != Channel.SMS:
        raise ValidationError({"secret": "请填写密钥（Secret）"})
    stored_secret = secret or (crypto.decrypt(existing.secret_cipher, field=CIPHER_FIELD) if existing else "")
    cleaned = _clean_config(channel, config, stored_secret)
    credential = existing or ChannelCredential(organization=organization, channel=channel)
    credential.config = cleaned
    if secret:
        credential.secret_cipher = crypto.encrypt(secret, field=CIPHER_FIELD)
    credential.enabled = enabled
    credential.updated_by = user
    credential.save()
    audit_log(
        event="channel_credential_save",
        obj=credential,
        organization=organization,
        detail={"channel": channel, "keys": sorted(cleaned), "secret_changed": bool(secret), "enabled": enabled},
    )
    return credential


@transaction.atomic
def channel_credential_remove(*, user: Any, organization: Organization, channel: str) -> bool:
    if organization.depth != 1 or not can_manage_reminders(user, organization):
        raise PermissionDenied("只有上级党委（顶级组织）的组织部门工作人员可以配置本单位的消息渠道")
    deleted, _ = ChannelCredential.objects.filter(organization=organization, channel=channel).delete()
    if deleted:
        audit_log(event="channel_credential_remove", organization=organization, detail={"channel": channel})
    return bool(deleted)


def channel_config(channel: str, organization_id: int | None) -> Any:
    """The adapter config a message of ``organization_id`` is sent with: its top-level
    organization's enabled credential, else the settings; None when neither is complete."""
    if organization_id is not None:
        path = Organization.objects.filter(pk=organization_id).values_list("path", flat=True).first()
        if path:
            row = (
                ChannelCredential.objects.filter(organization__path=_root_path(path), channel=channel, enabled=True)
                .values_list("config", "secret_cipher")
                .first()
            )
            if row is not None:
                config, cipher = row
                secret = crypto.decrypt(cipher, field=CIPHER_FIELD) if cipher else ""
                return BUILDERS[channel]({**config, SECRET_NAME[channel]: secret})
    return FROM_SETTINGS[channel]()


@dataclass
class ChannelAvailability:
    """Which personal channels each top-level organization can use (its own credentials or the
    settings), for many organizations from one query."""

    from_settings: set[str]
    own: dict[str, set[str]]

    @classmethod
    def load(cls, paths: Iterable[str]) -> ChannelAvailability:
        roots = {_root_path(p) for p in paths if p}
        own: dict[str, set[str]] = {}
        if roots:
            for root, channel in ChannelCredential.objects.filter(
                organization__path__in=roots, enabled=True
            ).values_list("organization__path", "channel"):
                own.setdefault(root, set()).add(channel)
        return cls({c for c in PERSONAL_CHANNELS if FROM_SETTINGS[c]() is not None}, own)

    def for_path(self, path: str) -> list[str]:
        mine = self.own.get(_root_path(path), set())
        return [c for c in PERSONAL_CHANNELS if c in self.from_settings or c in mine]

    def any(self) -> list[str]:
        every = self.from_settings.union(*self.own.values()) if self.own else self.from_settings
        return [c for c in PERSONAL_CHANNELS if c in every]


def credentials_status(*, organization: Organization) -> list[dict[str, Any]]:
    """Per channel: the source of its credentials for ``organization``'s tree (for the page;
    no secret, not even masked)."""
    own = {c.channel: c for c in ChannelCredential.objects.filter(organization__path=_root_path(organization.path))}
    rows = []
    for channel in PERSONAL_CHANNELS:
        credential = own.get(channel)
        rows.append(
            {
                "channel": channel,
                "label": Channel(channel).label,
                "credential": credential,
                "config": credential.config if credential else {},
                "has_secret": bool(credential and credential.secret_cipher),
                "from_settings": FROM_SETTINGS[channel]() is not None,
            }
        )
    return rows
