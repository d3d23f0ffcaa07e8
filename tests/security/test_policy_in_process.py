"""The security policy kept in the process a few seconds (#20.2): read once from the shared cache,
then answered without a round trip; a save applies at once in the saving process, and within
``PROCESS_SECONDS`` in the others (their copy expires)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from accounts import policy
from accounts.services import security_policy_update
from core.roles import Role
from tests.factories import UserFactory, assign

pytestmark = pytest.mark.django_db


def test_read_once_then_kept_in_the_process(monkeypatch):
    calls = []
    real_get = cache.get
    monkeypatch.setattr(cache, "get", lambda *a, **k: calls.append(a) or real_get(*a, **k))
    first = policy.security_policy()
    assert policy.security_policy() is first and len(calls) == 1


def test_a_save_applies_at_once_here_and_after_the_copy_expires_elsewhere(cast, monkeypatch):
    secadmin = UserFactory(username="sec_policy")
    assign(secadmin, cast.P, Role.SECADMIN)
    before = policy.security_policy()
    # Another process: its copy of the old policy, valid for PROCESS_SECONDS more.
    other_process_copy = policy._in_process
    security_policy_update(actor=secadmin, password_history_count=before.password_history_count + 2)
    assert policy.security_policy().password_history_count == before.password_history_count + 2  # here: at once
    policy._in_process = other_process_copy  # the other process still answers from its copy …
    assert policy.security_policy().password_history_count == before.password_history_count
    clock = [other_process_copy[0] + 0.001]
    monkeypatch.setattr(policy.time, "monotonic", lambda: clock[0])
    assert policy.security_policy().password_history_count == before.password_history_count + 2  # … until it expires


def test_a_changed_setting_is_read_at_once(settings):
    assert policy.security_policy().session_absolute_hours == settings.PB_SESSION_MAX_HOURS
    cache.clear()
    settings.PB_SESSION_MAX_HOURS = settings.PB_SESSION_MAX_HOURS + 1
    assert policy.security_policy().session_absolute_hours == settings.PB_SESSION_MAX_HOURS
