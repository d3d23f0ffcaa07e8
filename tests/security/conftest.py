"""Fixtures for the security tests: real logins through the login form, TOTP codes."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "Secur1ty!pass"


@pytest.fixture(autouse=True)
def _fresh_policy_cache():
    cache.clear()
    yield
    cache.clear()


def set_password(user, password: str = PASSWORD) -> None:
    user.set_password(password)
    user.save()


def login(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def enrol_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def code_for(device: TOTPDevice) -> str:
    """A valid code now (the device's replay guard is reset so tests can log in repeatedly)."""
    device.refresh_from_db()
    device.last_t = -1
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
