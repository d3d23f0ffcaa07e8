"""django-axes handler: a successful login clears only that account's own failures (#21.3).

Axes' database handler resets every attempt matching *any* lockout parameter, and ours are the
username and, separately, the address: one good login as Y from an address wiped X's failures made
from it, so 4 wrong passwords for X, one login as Y, repeated, gave unlimited guesses for X. Here a
success deletes only the rows of the username that logged in (from every address). Failures of
other accounts stay: they count against their account wherever they come from, and against the
address they came from.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt


class AccountScopedHandler(AxesDatabaseHandler):
    def reset_user_attempts(self, request: Any, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count
