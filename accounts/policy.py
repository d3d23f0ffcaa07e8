"""The security parameters in force: the secadmin's SecurityPolicy row, else the settings defaults."""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

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
# Every API call reads the policy (the token's session cap): kept in the process for a few seconds
# on top of the shared cache, so most calls make no cache round trip (#20.2). A saved change
# applies at once in the process that saved it and within PROCESS_SECONDS in the others.
PROCESS_SECONDS = 5.0
_in_process: tuple[float, Policy] | None = None


def security_policy() -> Policy:
    """The stored row if the secadmin saved one, else the settings defaults (cached for a minute,
    forgotten when the secadmin saves; each process re-reads the cache every few seconds)."""
    global _in_process
    kept = _in_process
    now = time.monotonic()
    if kept is not None and kept[0] > now:
        return kept[1]
    from django.core.cache import cache

    policy = cache.get(CACHE_KEY)
    if policy is None:
        from accounts.models import SecurityPolicy

        row = SecurityPolicy.objects.filter(pk=1).values(*POLICY_FIELDS).first()
        policy = Policy(**row) if row else default_policy()
        cache.set(CACHE_KEY, policy, CACHE_SECONDS)
    _in_process = (now + PROCESS_SECONDS, policy)
    return policy


def forget_policy() -> None:
    """After a save: the next read in this process goes to the database."""
    from django.core.cache import cache

    _forget_in_process()
    cache.delete(CACHE_KEY)


def _forget_in_process(**_signal: Any) -> None:
    """This process's copy only (a changed setting, a new test)."""
    global _in_process
    _in_process = None


setting_changed.connect(_forget_in_process, dispatch_uid="accounts.policy.settings")


# --- django-axes hooks (AXES_FAILURE_LIMIT / AXES_COOLOFF_TIME / AXES_CLIENT_IP_CALLABLE) ---------


def axes_failure_limit(request: Any, credentials: Any) -> int:
    return security_policy().lockout_failure_limit


def axes_cooloff(request: Any) -> timedelta:
    return timedelta(minutes=security_policy().lockout_cooloff_minutes)
