"""DRF authentication classes (kept free of view imports: DRF loads them while importing its views)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing tokens older than the policy's session cap (hours)."""

    def authenticate_credentials(self, key: str) -> Any:
        from accounts.policy import security_policy

        user, token = super().authenticate_credentials(key)
        max_age = timedelta(hours=security_policy().session_absolute_hours)
        if token.created + max_age < timezone.now():
            token.delete()
            raise exceptions.AuthenticationFailed("令牌已过期，请重新登录")
        return user, token
