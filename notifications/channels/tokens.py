"""Access tokens of the work apps (企业微信, 钉钉), in one place: a token is fetched with the app's
id and secret, cached until shortly before it expires (both vendors: 7200 s), and when the vendor
answers a call with its expiry code the token is dropped, fetched again and the call repeated
once. The cache key carries a hash of the credentials, never the secret itself.

What differs between the vendors is data (``WorkApp``): the token path, how the credentials go
into its query, and which error codes mean "token expired", "try again later" or "no such user"."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from notifications.channels import InvalidRecipientError, PermanentDeliveryError, TransientDeliveryError, transport

EXPIRY_MARGIN_SECONDS = 300


def cache_key(vendor: str, app_id: str, secret: str) -> str:
    digest = hashlib.sha256(f"{vendor}\0{app_id}\0{secret}".encode()).hexdigest()[:24]
    return f"pb:channel-token:{vendor}:{digest}"


def get_token(key: str, fetch: Callable[[], tuple[str, int]]) -> str:
    token = cache.get(key)
    if token:
        return str(token)
    token, expires_in = fetch()
    cache.set(key, token, max(int(expires_in) - EXPIRY_MARGIN_SECONDS, 60))
    return token


def drop_token(key: str) -> None:
    cache.delete(key)


@dataclass(frozen=True)
class WorkApp:
    """One work-app vendor's token protocol. ``credentials(config)`` gives (app id, secret);
    ``token_query(config)`` the query of the token request. The config has a ``base_url``."""

    vendor: str
    label: str
    auth_path: str
    credentials: Callable[[Any], tuple[str, str]]
    token_query: Callable[[Any], dict[str, str]]
    expired_codes: frozenset[int]
    transient_codes: frozenset[int]
    invalid_user_codes: frozenset[int]

    def key(self, config: Any) -> str:
        return cache_key(self.vendor, *self.credentials(config))

    def error(self, code: Any, reply: dict[str, Any], *, stage: str) -> Exception:
        """The delivery error for a vendor code: expiry and busy codes are transient, an unknown
        user is permanent with its own message, any other code is permanent."""
        if code in self.invalid_user_codes:
            return InvalidRecipientError(f"{self.label}账号无效：{code}")
        message = f"{stage}失败：{code} {str(reply.get('errmsg', ''))[:80]}"
        if code in self.transient_codes or code in self.expired_codes:
            return TransientDeliveryError(message)
        return PermanentDeliveryError(message)

    def fetch_token(self, config: Any) -> tuple[str, int]:
        reply = transport.call_json("GET", f"{config.base_url}{self.auth_path}", query=self.token_query(config))
        code = reply.get("errcode", 0)
        if code != 0 or not reply.get("access_token"):
            raise self.error(code, reply, stage=f"获取{self.label}令牌")
        return str(reply["access_token"]), int(reply.get("expires_in", 7200))

    def call(self, config: Any, path: str, payload: dict[str, Any], *, stage: str) -> dict[str, Any]:
        """POST ``payload`` to ``path`` with the cached token; on the expiry code the token is
        dropped and the call repeated once with a fresh one. A non-zero code raises."""
        key = self.key(config)
        for attempt in (1, 2):
            token = get_token(key, lambda: self.fetch_token(config))
            reply = transport.call_json(
                "POST", f"{config.base_url}{path}", query={"access_token": token}, payload=payload
            )
            code = reply.get("errcode", 0)
            if code in self.expired_codes:
                drop_token(key)
                if attempt == 1:
                    continue
            if code != 0:
                raise self.error(code, reply, stage=stage)
            return reply
        raise TransientDeliveryError(f"{self.label}令牌刷新后仍无效")  # pragma: no cover - the loop returns/raises
