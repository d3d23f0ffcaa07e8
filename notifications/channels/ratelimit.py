"""Per-vendor send rates (``PB_CHANNEL_RATE_LIMITS``: calls per second and per minute, shared by
all workers through the cache). Over the limit, the send is not attempted: a transient error,
so the outbox retries it with backoff. Defaults stay below what the vendors publish (企业微信
application messages, 钉钉 work notices, a typical 政务短信 gateway)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from notifications.channels import TransientDeliveryError

DEFAULT_LIMITS: dict[str, tuple[int, int]] = {"sms": (20, 600), "wecom": (20, 1000), "dingtalk": (20, 1000)}


def limits(vendor: str) -> tuple[int, int]:
    configured = getattr(settings, "PB_CHANNEL_RATE_LIMITS", None) or {}
    per_second, per_minute = configured.get(vendor, DEFAULT_LIMITS.get(vendor, (0, 0)))
    return int(per_second), int(per_minute)


def _count(key: str, ttl: int) -> int:
    if cache.add(key, 1, ttl):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, ttl)
        return 1


def take(vendor: str, *, now: float | None = None) -> None:
    """Count one call; raise ``TransientDeliveryError`` when the second's or minute's share is used."""
    per_second, per_minute = limits(vendor)
    now = time.time() if now is None else now
    for window, limit, ttl in ((int(now), per_second, 2), (int(now // 60), per_minute, 120)):
        if limit and _count(f"pb:channel-rate:{vendor}:{ttl}:{window}", ttl) > limit:
            raise TransientDeliveryError(f"发送过快，已超过每{'秒' if ttl == 2 else '分钟'} {limit} 条的限制，稍后重试")
