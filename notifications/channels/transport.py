"""One HTTP call to a vendor API (SMS gateway, 企业微信, 钉钉) through ``core.outbound``: the host
is checked, resolved once and the connection pinned to the checked address (#21.7). Loopback,
link-local and private addresses are refused unless the host is in ``PB_CHANNEL_ALLOWED_HOSTS``.

Errors map onto the outbox's two kinds: network trouble, 429 and 5xx are transient (retry with
backoff); a refused destination or another 4xx is permanent. Secrets travel in the query string
or body; they are never logged (errors carry the status and the vendor's code only)."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from core.outbound import UnsafeDestination, check_url_host
from notifications.channels import PermanentDeliveryError, TransientDeliveryError, exchange

TIMEOUT_SECONDS = 5
MAX_REPLY_BYTES = 65536


def allowed_hosts() -> list[str]:
    return list(getattr(settings, "PB_CHANNEL_ALLOWED_HOSTS", []))


def validate_gateway_url(url: str, *, label: str = "网关地址") -> str:
    """Save-time check of a vendor/gateway URL (no DNS lookup): http(s), a host, no credentials,
    not loopback/link-local/private unless allow-listed."""
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": f"请填写{label}"})
    if len(url) > 500 or any(ch.isspace() for ch in url):
        raise ValidationError({"url": f"{label}无效（不超过 500 个字符，不能包含空格）"})
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": f"{label}必须以 http:// 或 https:// 开头并包含主机名"})
    if parts.username or parts.password:
        raise ValidationError({"url": f"{label}中不能包含用户名或密码"})
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ValidationError({"url": f"{label}的端口无效"}) from exc
    try:
        check_url_host(parts.hostname, allowed=allowed_hosts())
    except UnsafeDestination as exc:
        raise ValidationError({"url": f"{label}{exc}"}) from exc
    return url


def call(
    method: str,
    url: str,
    *,
    query: dict[str, str] | None = None,
    body: bytes | None = None,
    content_type: str = "application/json; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """Send one request; returns (status, body) for 2xx, raises a delivery error otherwise."""
    try:
        validate_gateway_url(url)
    except ValidationError as exc:
        raise PermanentDeliveryError("；".join(exc.messages)) from exc
    parts = urllib.parse.urlsplit(url)
    params = urllib.parse.urlencode(query or {})
    joined = "&".join(p for p in (parts.query, params) if p)
    all_headers = {"User-Agent": "partybuilding-notifier/1", **(headers or {})}
    if body is not None:
        all_headers["Content-Type"] = content_type
    return exchange(
        method,
        urllib.parse.urlunsplit(parts._replace(query=joined)),
        body=body,
        headers=all_headers,
        allowed=allowed_hosts(),
        timeout=TIMEOUT_SECONDS,
        max_reply=MAX_REPLY_BYTES,
    )


def call_json(method: str, url: str, *, query: dict[str, str] | None = None, payload: Any = None) -> dict[str, Any]:
    """A JSON API call (企业微信/钉钉): the decoded reply object; a reply that is not JSON is a
    transient failure (a proxy's error page)."""
    body = None if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
    _, text = call(method, url, query=query, body=body)
    try:
        reply = json.loads(text.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError) as exc:
        raise TransientDeliveryError("接口返回内容无法解析") from exc
    if not isinstance(reply, dict):
        raise TransientDeliveryError("接口返回内容无法解析")
    return reply
