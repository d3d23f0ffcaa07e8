"""The security parameters in force: the secadmin's SecurityPolicy row, else the settings defaults."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from django.conf import settings

from core.roles import Role

# Roles whose accounts must use two-factor authentication (AUTH-3). Superusers always do.
TWO_FACTOR_ROLES = frozenset({Role.ORG_ADMIN, Role.SECRETARY, Role.AUDITOR, Role.SYSADMIN, Role.SECADMIN})


@dataclass(frozen=True)
class Policy:
    password_max_age_days: int
    password_history_count: int
    lockout_failure_limit: int
    lockout_cooloff_minutes: int
    dormant_days: int
    session_absolute_hours: int
    audit_retention_days: int


POLICY_FIELDS = tuple(f.name for f in fields(Policy))


def default_policy() -> Policy:
    return Policy(
        password_max_age_days=settings.PB_PASSWORD_MAX_AGE_DAYS,
        password_history_count=settings.PB_PASSWORD_HISTORY,
        lockout_failure_limit=settings.PB_LOCKOUT_FAILURES,
        lockout_cooloff_minutes=settings.PB_LOCKOUT_COOLOFF_MINUTES,
        dormant_days=settings.PB_DORMANT_DAYS,
        session_absolute_hours=settings.PB_SESSION_MAX_HOURS,
        audit_retention_days=settings.PB_AUDIT_RETENTION_DAYS,
    )


CACHE_KEY = "pb:security-policy"
CACHE_SECONDS = 60


def security_policy() -> Policy:
    """The stored row if the secadmin saved one, else the settings defaults (cached for a minute)."""
    from django.core.cache import cache

    cached = cache.get(CACHE_KEY)
    if cached is not None:
        return cached
    from accounts.models import SecurityPolicy

    row = SecurityPolicy.objects.filter(pk=1).values(*POLICY_FIELDS).first()
    policy = Policy(**row) if row else default_policy()
    cache.set(CACHE_KEY, policy, CACHE_SECONDS)
    return policy


def forget_policy() -> None:
    from django.core.cache import cache

    cache.delete(CACHE_KEY)


# --- django-axes hooks (AXES_FAILURE_LIMIT / AXES_COOLOFF_TIME / AXES_CLIENT_IP_CALLABLE) ---------


def axes_failure_limit(request: Any, credentials: Any) -> int:
    return security_policy().lockout_failure_limit


def axes_cooloff(request: Any) -> timedelta:
    return timedelta(minutes=security_policy().lockout_cooloff_minutes)
