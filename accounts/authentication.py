"""DRF authentication classes (kept free of view imports: DRF loads them while importing its views)."""

from __future__ import annotations

import binascii
from hmac import compare_digest
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework import exceptions

from core.compiled import PreparedRowsWithRelated

INVALID = "令牌无效或已注销，请重新登录"
# The token rows of one lookup prefix with their user: compiled once per process (#20.1).
_TOKENS_BY_PREFIX = PreparedRowsWithRelated(AuthToken, "token_key", "user")
EXPIRED = "令牌已过期，请重新登录"


class TokenRefused(exceptions.AuthenticationFailed):
    """A token was presented and refused: the API answers 401 (``core.api.exceptions``)."""

    auth_scheme = "Token"


class ExpiringTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <token>`` against django-rest-knox's hashed rows (#21.11).

    One indexed query (the lookup prefix, with the user joined) and no write: unlike knox's own
    class it neither deletes the user's other expired tokens on every request nor refreshes the
    expiry (the daily purge removes expired rows). The digest is compared in constant time. A
    token is refused after its stored expiry or after the policy's current session cap, counted
    from its creation (so a cap the secadmin shortens applies to tokens already issued).
    """

    def authenticate(self, request: Any) -> Any:
        try:
            return super().authenticate(request)
        except TokenRefused:
            raise
        except exceptions.AuthenticationFailed as exc:  # knox's malformed-header refusals, in English
            raise TokenRefused(INVALID) from exc

    def authenticate_credentials(self, token: Any) -> Any:
        from accounts.services.tokens import token_expires_at

        try:
            key = token.decode("utf-8") if isinstance(token, bytes) else str(token)
            digest = hash_token(key)
        except (UnicodeDecodeError, TypeError, ValueError, binascii.Error) as exc:
            raise TokenRefused(INVALID) from exc
        prefix = key[: CONSTANTS.TOKEN_KEY_LENGTH]
        for row in _TOKENS_BY_PREFIX.rows(prefix):
            if not compare_digest(digest, row.digest):
                continue
            if token_expires_at(row) < timezone.now():
                raise TokenRefused(EXPIRED)
            if not row.user.is_active:
                raise TokenRefused(INVALID)
            return row.user, row
        raise TokenRefused(INVALID)


class ExpiringTokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme: the same ``tokenAuth`` (``Authorization: Token …``) as before."""

    target_class = "accounts.authentication.ExpiringTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> Any:
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")  # noqa: S106  (the scheme word)
