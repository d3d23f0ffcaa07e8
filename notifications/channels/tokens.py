"""Access tokens of the work apps (企业微信, 钉钉): fetched with the app's id and secret, cached
until shortly before they expire (both vendors: 7200 s) and dropped when the vendor says the
token expired or is invalid, so the next call fetches a fresh one. The cache key carries a hash
of the credentials, never the secret itself."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.core.cache import cache

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
