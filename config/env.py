"""Typed access to environment variables.

Every helper raises ImproperlyConfigured naming the variable when its value is
malformed, so a bad deployment stops at start-up instead of failing later.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    """Value of NAME, or the contents of the file named by NAME_FILE (for secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name!r}: {exc}") from exc
    return os.environ.get(name)


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}: expected a boolean (true/false/1/0), got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: expected an integer, got {value!r}") from exc
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}: must be >= {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


_DB_SCHEMES = {"postgres", "postgresql", "pgsql", "sqlite"}


def env_database(name: str, default: str) -> dict:
    url = env_str(name, default)
    scheme = urlparse(url).scheme
    if scheme not in _DB_SCHEMES:
        raise ImproperlyConfigured(
            f"{name}: unsupported or malformed database URL {url!r}; "
            "use postgres://user:pass@host:port/db or sqlite:////absolute/path.db"
        )
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # environ raises several types for bad URLs
        raise ImproperlyConfigured(f"{name}: malformed database URL: {exc}") from exc
    if scheme != "sqlite" and not config.get("NAME"):
        raise ImproperlyConfigured(f"{name}: the database URL names no database")
    return config


_BROKER_SCHEMES = {"redis", "rediss", "filesystem", "memory", "amqp", "sentinel"}


def env_broker(name: str, default: str) -> str:
    url = env_str(name, default)
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in _BROKER_SCHEMES:
        raise ImproperlyConfigured(
            f"{name}: unsupported or malformed broker URL {url!r}; use redis://host:6379/0 or filesystem://"
        )
    return url
