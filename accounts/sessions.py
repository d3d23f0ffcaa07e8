"""Session bookkeeping done once at login, so per-request checks cost no query.

Keys: ``pb_auth_at`` / ``pb_expires_at`` (absolute cap, SESS-1), ``pb_pw_change`` (why a password
change is forced, AUTH-1/AUTH-4), ``pb_has_otp`` (the user has a confirmed TOTP device).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.policy import TWO_FACTOR_ROLES, security_policy
from core.access import get_scope

AUTH_AT = "pb_auth_at"
EXPIRES_AT = "pb_expires_at"
PW_CHANGE = "pb_pw_change"
HAS_OTP = "pb_has_otp"


def password_change_reason(user: Any, *, now: datetime | None = None) -> str:
    """ "forced" (new account or reset), "expired" (older than the policy allows) or ""."""
    from accounts.models import AccountSecurity

    now = now or timezone.now()
    state = AccountSecurity.objects.filter(user=user).values("password_changed_at", "must_change_password").first()
    if state and state["must_change_password"]:
        return "forced"
    changed_at = (state or {}).get("password_changed_at") or user.date_joined
    if changed_at + timedelta(days=security_policy().password_max_age_days) < now:
        return "expired"
    return ""


def user_has_otp_device(user: Any) -> bool:
    from django_otp import user_has_device

    return user_has_device(user, confirmed=True)


def user_requires_2fa(user: Any) -> bool:
    """Superusers and the administrative roles must use a second factor when PB_REQUIRE_2FA is on."""
    if not settings.PB_REQUIRE_2FA:
        return False
    if user.is_superuser:
        return True
    return get_scope(user).has_any_role(TWO_FACTOR_ROLES)


def mark_session(request: Any, user: Any) -> None:
    now = timezone.now()
    session = request.session
    session[AUTH_AT] = now.timestamp()
    session[EXPIRES_AT] = (now + timedelta(hours=security_policy().session_absolute_hours)).timestamp()
    session[PW_CHANGE] = password_change_reason(user, now=now)
    session[HAS_OTP] = user_has_otp_device(user)
