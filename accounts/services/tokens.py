"""API tokens (#21.11): django-rest-knox rows, revocable one by one or all at once.

A token is shown once, in the login answer. The database keeps its SHA-512 digest and a
15-character lookup prefix (``token_key``), never the token: a copy of the table logs nobody in.
Each token expires after the security policy's session cap (``session_absolute_hours``), counted
from its creation; a cap shortened later applies to tokens already issued
(``accounts.authentication``). A user holds at most ``PB_API_TOKENS_PER_USER`` tokens (one per
device or script); a login beyond that ends the oldest. Authentication reads one row and writes
nothing, so there is no "last used" column (#20: at most one indexed query and no write per
request); the audit log has every login.

Ended by: ``POST /api/v1/auth/logout/`` (this token), ``POST /api/v1/auth/logout-all/``,
``DELETE /api/v1/auth/tokens/<prefix>/``, the web logout, a password change or reset, the
account being disabled.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from knox.models import AuthToken

from accounts.policy import security_policy
from audit.services import audit_log

PREFIX_SHOWN = 8  # characters of the lookup prefix written to the audit log


def token_expires_at(token: AuthToken) -> datetime:
    """The earlier of the stored expiry and creation + the policy's current session cap."""
    capped = token.created + timedelta(hours=security_policy().session_absolute_hours)
    return min(token.expiry, capped) if token.expiry else capped


def tokens_of(*, user: Any) -> QuerySet[AuthToken]:
    """The user's own tokens, newest first (only the owner's rows: the list and delete go through this)."""
    return AuthToken.objects.filter(user_id=user.pk).order_by("-created").only("token_key", "created", "expiry")


@transaction.atomic
def token_issue(*, user: Any, via: str = "api_token") -> tuple[AuthToken, str]:
    """A new token for ``user`` (already authenticated by the caller). Returns the row and the token,
    which the caller shows once. Tokens beyond the per-user limit end, oldest first."""
    hours = security_policy().session_absolute_hours
    instance, key = AuthToken.objects.create(user=user, expiry=timedelta(hours=hours))
    keep = settings.PB_API_TOKENS_PER_USER
    stale = list(
        AuthToken.objects.filter(user_id=user.pk)
        .order_by("-created", "-digest")
        .values_list("digest", flat=True)[keep:]
    )
    if stale:
        AuthToken.objects.filter(digest__in=stale).delete()
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    audit_log(
        event="login",
        user=user,
        detail={"via": via, "prefix": instance.token_key[:PREFIX_SHOWN], "ended_oldest": len(stale)},
    )
    return instance, key


@transaction.atomic
def token_end(*, user: Any, prefix: str, why: str = "revoke") -> bool:
    """End one of the user's own tokens, named by its lookup prefix (``why="logout"``: the token the
    request came with, audited as a logout). Another user's prefix (or an unknown one) ends nothing
    and returns False: the caller answers 404."""
    prefix = (prefix or "")[:40]
    deleted, _ = AuthToken.objects.filter(user_id=user.pk, token_key=prefix).delete()
    if deleted:
        event = "logout" if why == "logout" else "api_token_end"
        audit_log(event=event, user=user, obj=user, detail={"via": "api_token", "prefix": prefix[:PREFIX_SHOWN]})
    return bool(deleted)


@transaction.atomic
def tokens_end_all(*, user: Any, reason: str = "") -> int:
    """End every token of the user. With a ``reason`` (logout, logout-all) the ending is audited on
    its own; without one the caller's event (password change, deactivation) already records it."""
    deleted, _ = AuthToken.objects.filter(user_id=user.pk).delete()
    if reason and deleted:
        audit_log(event="api_tokens_end_all", user=user, obj=user, detail={"why": reason, "count": deleted})
    return deleted


def tokens_purge_expired(*, now: datetime | None = None) -> int:
    """System (daily): delete tokens past their stored expiry (authentication refuses them anyway;
    it writes nothing, so their rows are removed here)."""
    now = now or timezone.now()
    deleted, _ = AuthToken.objects.filter(expiry__lt=now).delete()
    capped = now - timedelta(hours=security_policy().session_absolute_hours)
    more, _ = AuthToken.objects.filter(created__lt=capped).delete()
    return deleted + more
