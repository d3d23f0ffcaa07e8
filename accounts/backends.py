"""Authentication backends: lockout (django-axes) and the account checks of AUTH-5."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from core.compiled import plain_lookup
from members.models import Member

# Members in these states lose access (AUTH-5): their account is refused even if still active.
INACTIVE_MEMBER_STATUSES = frozenset({"transferred_out", "expelled", "removed", "deceased"})


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check for every login that arrives with a request.

    Calls without a request (``Client.login`` in tests, shell use) are not HTTP logins and skip
    the check instead of crashing; every HTTP login path passes the request (login form, token API).
    """

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class AccountBackend(ModelBackend):
    """ModelBackend that also refuses accounts whose member record has left the organization."""

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and member_access_revoked(user):
            return None
        return user

    def get_user(self, user_id: Any) -> Any:
        """The signed-in user of a session, on every page and session API call: the statement is
        compiled once per process (#20.1); inactive users are refused as by ModelBackend."""
        user = plain_lookup(get_user_model()).get(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def member_access_revoked(user: Any) -> bool:
    return Member.objects.filter(user=user, membership_status__in=INACTIVE_MEMBER_STATUSES).exists()
