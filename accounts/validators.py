"""Password validators (AUTH-1): character classes and no reuse of recent passwords.

Django calls ``password_changed`` on every validator after a password is saved; the history
validator uses it to record the new hash and the change time.
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import MinimumLengthValidator, get_default_password_validators
from django.core.exceptions import ValidationError
from django.utils import timezone

CLASSES = (
    ("小写字母", lambda c: c in string.ascii_lowercase),
    ("大写字母", lambda c: c in string.ascii_uppercase),
    ("数字", lambda c: c in string.digits),
    ("特殊字符", lambda c: not c.isalnum() and not c.isspace()),
)


class CharacterClassesValidator:
    """At least ``min_classes`` of: lower case, upper case, digits, special characters."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        present = sum(1 for _, test in CLASSES if any(test(c) for c in password))
        if present < self.min_classes:
            raise ValidationError(
                f"密码须包含大写字母、小写字母、数字、特殊字符中的至少 {self.min_classes} 类。",
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return f"密码须包含大写字母、小写字母、数字、特殊字符中的至少 {self.min_classes} 类。"


class PasswordHistoryValidator:
    """Refuses the current password and the last N (the security policy's count; default 5)."""

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or not getattr(user, "pk", None):
            return
        from accounts.models import PasswordHistory
        from accounts.policy import security_policy

        count = security_policy().password_history_count
        hashes = list(PasswordHistory.objects.filter(user=user).values_list("password", flat=True)[:count])
        from django.contrib.auth import get_user_model

        current = get_user_model().objects.filter(pk=user.pk).values_list("password", flat=True).first()
        if current:
            hashes.append(current)
        if any(check_password(password, encoded) for encoded in hashes):
            raise ValidationError(f"不能使用最近 {count} 次用过的密码。", code="password_reused")

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or not getattr(user, "pk", None):
            return
        from accounts.models import AccountSecurity, PasswordHistory

        PasswordHistory.objects.create(user=user, password=user.password)
        AccountSecurity.objects.update_or_create(
            user=user, defaults={"password_changed_at": timezone.now(), "must_change_password": False}
        )

    def get_help_text(self) -> str:
        return "不能使用最近用过的密码。"


_COMMON_FILE = Path(__file__).resolve().parent / "data" / "common_passwords_zh.txt"
_SUFFIXES = (
    "123", "@123", "#123", "!123", "_123", ".123", "1234", "@1234", "#1234", "12345", "@12345", "123456",
    "@123456", "888", "@888", "666", "@666", "520", "1314", "@1314", "123!", "123.", "!@#", "@123!",
    *(str(year) for year in range(2000, 2031)), *(f"@{year}" for year in range(2000, 2031)),
)  # fmt: skip


@lru_cache(maxsize=1)
def _common_lists() -> tuple[frozenset[str], frozenset[str]]:
    exact, bases = set(), set()
    for line in _COMMON_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip().lower()
        if not line or line.startswith("#"):
            continue
        (bases if line.endswith("*") else exact).add(line.rstrip("*"))
    return frozenset(exact), frozenset(bases)


class LocalCommonPasswordValidator:
    """Common passwords of Chinese deployments (``accounts/data/common_passwords_zh.txt``): the
    list itself, a vendor/role/pinyin base word plus a usual suffix (``Admin@123``,
    ``Huawei@2024``), and passwords of very few distinct characters (``Aa1aaaaa``) (#21.13)."""

    def __init__(self, min_distinct: int = 5) -> None:
        self.min_distinct = min_distinct

    def validate(self, password: str, user: Any = None) -> None:
        text = password.strip().lower()
        exact, bases = _common_lists()
        bare = text.rstrip("!@#.*_-")  # "Qwer1234!" is "qwer1234" with a mark added
        common = text in exact or bare in exact
        common = common or any(
            word == base + suffix for word in (text, bare) for base in bases for suffix in ("", *_SUFFIXES)
        )
        if common or len(set(text)) < self.min_distinct:
            raise ValidationError("该密码过于常见或过于简单，请换一个不易被猜到的密码。", code="password_too_common")

    def get_help_text(self) -> str:
        return "不能使用常见密码（如 Admin@123、Huawei@123），不能由过少的不同字符组成。"


def password_rules_text() -> str:
    """The password rules as the forms state them, from the validators and the security policy in
    force (a secadmin's history count included), so the hint never disagrees with the check."""
    from accounts.policy import security_policy

    validators = get_default_password_validators()
    length = next((v.min_length for v in validators if isinstance(v, MinimumLengthValidator)), 8)
    classes = next((v.min_classes for v in validators if isinstance(v, CharacterClassesValidator)), 3)
    history = security_policy().password_history_count
    return (
        f"至少 {length} 位，包含大写字母、小写字母、数字、特殊字符中的至少 {classes} 类，"
        f"不能是常见密码，不能与最近 {history} 次的密码相同。"
    )
