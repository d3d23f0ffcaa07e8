"""External channels: e-mail through Django's backend, and group-chat robots (企业微信 / 钉钉 style
JSON POST with an HMAC signature). Each raises ``TransientDeliveryError`` (retry with backoff) or
``PermanentDeliveryError`` (give up: mark FAILED)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import random
import smtplib
import time
import urllib.parse
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail

from core.outbound import UnsafeDestination, check_url_host, pinned_connection

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 5
RETRY_BASE_SECONDS = 30
# Capped below the broker's visibility timeout: a countdown longer than it would be
# redelivered while still waiting.
RETRY_CAP_SECONDS = 1800
MAX_ATTEMPTS = 6

# 企业微信 45009 (frequency limit) and 钉钉 130101 (too fast): retry later.
TRANSIENT_ERRCODES = {45009, 130101, -1}


class DeliveryError(Exception):
    pass


class TransientDeliveryError(DeliveryError):
    """Network trouble, a timeout, 5xx, 429, a rate limit: try again later."""


class PermanentDeliveryError(DeliveryError):
    """A bad address, 4xx, a rejected signature: retrying will not help."""


class InvalidRecipientError(PermanentDeliveryError):
    """The vendor does not know a recipient (企业微信 invaliduser/60111, 钉钉 33012). A call to many
    recipients refused for this is retried one by one, so only the unknown ones fail."""


def backoff_seconds(attempt: int, *, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: base·2^(attempt-1), capped, then a random 50–100 %."""
    rng = rng or random.Random()
    delay = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    return rng.uniform(delay / 2, delay)


def validate_webhook_url(url: str) -> str:
    """http(s) only, a host, no credentials in the URL; optionally an allow-list of hosts."""
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": "请填写 Webhook 地址"})
    if len(url) > 500:
        raise ValidationError({"url": "Webhook 地址过长（不超过 500 个字符）"})
    if any(ch.isspace() for ch in url):
        raise ValidationError({"url": "Webhook 地址不能包含空格"})
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValidationError({"url": "Webhook 地址必须以 http:// 或 https:// 开头"})
    if not parts.hostname:
        raise ValidationError({"url": "Webhook 地址缺少主机名"})
    if parts.username or parts.password:
        raise ValidationError({"url": "Webhook 地址中不能包含用户名或密码"})
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ValidationError({"url": "Webhook 地址的端口无效"}) from exc
    try:
        check_url_host(parts.hostname, allowed=getattr(settings, "PB_WEBHOOK_ALLOWED_HOSTS", []))
    except UnsafeDestination as exc:
        raise ValidationError({"url": f"Webhook {exc}"}) from exc
    return url


def absolute_link(link: str) -> str:
    base = getattr(settings, "PB_SITE_URL", "").rstrip("/")
    return f"{base}{link}" if (base and link) else link


# --- e-mail ----------------------------------------------------------------------------------


def send_email(*, to: str, subject: str, body: str) -> None:
    try:
        sent = send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPAuthenticationError) as exc:
        raise PermanentDeliveryError(f"邮件被拒收：{exc.__class__.__name__}") from exc
    except (smtplib.SMTPException, OSError) as exc:  # disconnects, timeouts, refused connections
        raise TransientDeliveryError(f"邮件服务器暂时不可用：{exc.__class__.__name__}") from exc
    if sent != 1:
        raise TransientDeliveryError("邮件未发出")


# --- webhook ---------------------------------------------------------------------------------


def webhook_payload(*, kind: str, title: str, body: str, link: str = "") -> dict[str, Any]:
    """企业微信 and 钉钉 robots both accept {"msgtype": "text", "text": {"content": …}}."""
    content = f"【{title}】\n{body}".strip()
    url = absolute_link(link)
    if url:
        content += f"\n{url}"
    if kind == "generic":
        return {"title": title, "body": body, "link": url}
    return {"msgtype": "text", "text": {"content": content}}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex, sent as ``X-PB-Signature: sha256=<hex>``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def dingtalk_sign(secret: str, timestamp: str) -> str:
    """钉钉 加签: base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>"))."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def exchange(
    method: str,
    url: str,
    *,
    body: bytes | None,
    headers: dict[str, str],
    allowed: list[str],
    timeout: float,
    max_reply: int = 65536,
) -> tuple[int, bytes]:
    """One HTTP request to ``url`` over a connection pinned to its checked address (#21.7,
    ``core.outbound``), for robots and the personal channels alike. Returns (status, reply) for a
    2xx; a refused destination or another 4xx is permanent, network trouble, 429 and 5xx transient.
    A redirect is an error too: nothing is followed elsewhere."""
    parts = urllib.parse.urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    try:
        connection = pinned_connection(parts.scheme, parts.hostname or "", parts.port, allowed=allowed, timeout=timeout)
    except UnsafeDestination as exc:
        raise PermanentDeliveryError(str(exc)) from exc
    except OSError as exc:
        raise TransientDeliveryError(f"连接失败：{exc.__class__.__name__}") from exc
    try:
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        status, text = response.status, response.read(max_reply)
    except (OSError, http.client.HTTPException) as exc:  # timeouts, refused connections, broken replies
        raise TransientDeliveryError(f"连接失败：{exc.__class__.__name__}") from exc
    finally:
        connection.close()
    if status == 429 or status >= 500:
        raise TransientDeliveryError(f"HTTP {status}")
    if not 200 <= status < 300:
        raise PermanentDeliveryError(f"HTTP {status}")
    return status, text


def post_webhook(*, url: str, kind: str, secret: str, payload: dict[str, Any], idempotency_key: str) -> None:
    try:
        validate_webhook_url(url)  # checked again when sent: the allow-list may have changed since
    except ValidationError as exc:
        raise PermanentDeliveryError("；".join(exc.messages)) from exc
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    timestamp = str(int(time.time() * 1000))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "partybuilding-notifier/1",
        "X-PB-Timestamp": timestamp,
        "X-PB-Idempotency-Key": idempotency_key,
    }
    if secret:
        headers["X-PB-Signature"] = sign(secret, timestamp, body)
        if kind == "dingtalk":
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}timestamp={timestamp}&sign={urllib.parse.quote_plus(dingtalk_sign(secret, timestamp))}"
    _status, text = exchange(
        "POST",
        url,
        body=body,
        headers=headers,
        allowed=getattr(settings, "PB_WEBHOOK_ALLOWED_HOSTS", []),
        timeout=WEBHOOK_TIMEOUT_SECONDS,
    )
    _check_robot_reply(text)


def _check_robot_reply(text: bytes) -> None:
    """企业微信/钉钉 answer HTTP 200 with {"errcode": N}; N ≠ 0 is an error."""
    try:
        reply = json.loads(text.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError):
        return
    if not isinstance(reply, dict) or "errcode" not in reply:
        return
    code = reply.get("errcode")
    if code in (0, "0", None):
        return
    message = str(reply.get("errmsg", ""))[:100]
    if code in TRANSIENT_ERRCODES:
        raise TransientDeliveryError(f"机器人限流：{code} {message}")
    raise PermanentDeliveryError(f"机器人拒绝：{code} {message}")
