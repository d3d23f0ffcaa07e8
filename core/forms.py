"""Helpers for page forms shared by the apps."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


def attach_errors(form: Any, exc: ValidationError, field_map: dict[str, str] | None = None) -> None:
    """Put a service's ``ValidationError`` on the page form that sent the data: each field's
    messages on that field (renamed through ``field_map`` where the form names it differently), the
    others as the form's own errors, so the form is shown again with the user's input."""
    field_map = field_map or {}
    for field, errors in exc.message_dict.items():
        name = field_map.get(field, field)
        form.add_error(name if name in form.fields else None, errors)
