"""#21.12 (field keys in production) and #21.13 (common passwords: Django's list plus ``accounts/data/common_passwords_zh.txt``).

#21.12 — production silently derived FIELD_ENCRYPTION_KEY / FIELD_HASH_KEY from SECRET_KEY. Now
the production settings refuse to start without them, naming them, and ``check --deploy``
reports ``members.E001`` wherever they are missing.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "FIELD_ENCRYPTION_KEY": "v1:" + base64.urlsafe_b64encode(b"k" * 32).decode(),
    "FIELD_HASH_KEY": base64.urlsafe_b64encode(b"h" * 32).decode(),
}


def _run(settings_module: str, *args: str, **extra: str) -> subprocess.CompletedProcess:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", *KEYS)},
        "DJANGO_SETTINGS_MODULE": settings_module,
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "dangjian.example.gov.cn",
        "CSRF_TRUSTED_ORIGINS": "https://dangjian.example.gov.cn",
        "AUDIT_HMAC_KEY": secrets.token_urlsafe(48),  # required beside the field keys (#21.10)
        **extra,
    }
    return subprocess.run([sys.executable, "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True)


def test_21_12_production_refuses_to_start_without_the_field_keys():
    result = _run("config.settings.production", "check")
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY and FIELD_HASH_KEY" in result.stderr and "ImproperlyConfigured" in result.stderr
    only_one = _run("config.settings.production", "check", FIELD_ENCRYPTION_KEY=KEYS["FIELD_ENCRYPTION_KEY"])
    assert only_one.returncode != 0 and "FIELD_HASH_KEY" in only_one.stderr
    assert _run("config.settings.production", "check", **KEYS).returncode == 0


def test_21_12_check_deploy_reports_missing_field_keys():
    result = _run("config.settings.local", "check", "--deploy", "--fail-level", "ERROR")
    assert result.returncode != 0 and "members.E001" in (result.stdout + result.stderr)
    clean = _run("config.settings.production", "check", "--deploy", "--fail-level", "WARNING", **KEYS)
    assert clean.returncode == 0, clean.stdout + clean.stderr


# #21.13 — common passwords passed (Admin@123, Huawei@123, Aa1aaaaa): Django's list is English.
COMMON = ["Admin@123", "Huawei@123", "Aa1aaaaa", "Dangjian@2024", "P@ssw0rd", "1qaz@WSX", "Sangfor@1234", "Qwer1234!"]


@pytest.mark.django_db
@pytest.mark.parametrize("password", COMMON)
def test_21_13_common_passwords_are_refused(password):
    from django.contrib.auth.password_validation import validate_password

    from tests.factories import UserFactory

    with pytest.raises(ValidationError) as exc:
        validate_password(password, user=UserFactory(username="zhangsan"))
    assert any("常见" in message or "password" in message.lower() for message in exc.value.messages), exc.value.messages


@pytest.mark.django_db
def test_21_13_good_passwords_still_pass():
    from django.contrib.auth.password_validation import validate_password

    for password in ("Secur1ty!pass", "Hq7#mT2v9pLx", "青山绿水Ab1!"):
        validate_password(password)
