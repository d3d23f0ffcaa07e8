"""``manage.py check --deploy``: the field keys must be set, not derived from SECRET_KEY (#21.12)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def field_keys_set(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    missing = [name for name in ("FIELD_ENCRYPTION_KEY", "FIELD_HASH_KEY") if not getattr(settings, name, "")]
    if not missing:
        return []
    return [
        Error(
            f"{' and '.join(missing)} not set: ID numbers, phones and dues bases are encrypted with keys "
            "derived from SECRET_KEY.",
            hint="Set both from the environment (docs/configuration.md); production settings refuse to start without them.",
            id="members.E001",
        )
    ]
