"""#21.3: another user's successful login no longer clears an account's failures.

The attack: 4 wrong passwords for X, one good login as Y from the same address, repeated, gave
unlimited guesses for X (axes reset every attempt of the address on any success). Now a success
resets only the account's own failures (``accounts.lockout.AccountScopedHandler``), and an
account's failures count wherever they come from.
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.db.models import Sum
from django.test import Client

from tests.security.conftest import PASSWORD, login, set_password

pytestmark = pytest.mark.django_db


def _failures(username: str) -> int:
    return AccessAttempt.objects.filter(username=username).aggregate(n=Sum("failures_since_start"))["n"] or 0


def test_21_3_another_users_login_does_not_reset_an_accounts_failures(cast):
    x, y = cast.users["secretary_a"], cast.users["member_a"]
    set_password(x)
    set_password(y)
    client = Client()
    for _ in range(4):
        assert login(client, x.username, "guess", REMOTE_ADDR="10.7.0.1").status_code == 200
    assert login(Client(), y.username, PASSWORD, REMOTE_ADDR="10.7.0.1").status_code == 302
    assert _failures(x.username) == 4  # Y's success left X's failures alone
    # The 5th guess locks X, and the address: the loop of the attack ends here.
    assert login(client, x.username, "guess", REMOTE_ADDR="10.7.0.1").status_code == 429
    assert login(Client(), x.username, PASSWORD, REMOTE_ADDR="10.7.0.99").status_code == 429
    assert login(Client(), y.username, PASSWORD, REMOTE_ADDR="10.7.0.1").status_code == 429


def test_21_3_a_success_resets_the_accounts_own_failures_only(cast):
    x, y = cast.users["secretary_a"], cast.users["member_a"]
    set_password(x)
    set_password(y)
    for _ in range(2):
        login(Client(), x.username, "guess", REMOTE_ADDR="10.7.1.1")
        login(Client(), y.username, "guess", REMOTE_ADDR="10.7.1.2")
    assert login(Client(), y.username, PASSWORD, REMOTE_ADDR="10.7.1.3").status_code == 302
    assert (_failures(x.username), _failures(y.username)) == (2, 0)


def test_21_3_an_accounts_failures_count_from_every_address(cast):
    x = cast.users["secretary_a"]
    set_password(x)
    for n, address in enumerate(["10.8.0.1", "10.8.0.2", "10.8.0.3", "10.8.0.4", "10.8.0.5"], start=1):
        assert login(Client(), x.username, "guess", REMOTE_ADDR=address).status_code == (200 if n < 5 else 429)
    assert login(Client(), x.username, PASSWORD, REMOTE_ADDR="10.8.0.6").status_code == 429
