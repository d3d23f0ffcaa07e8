"""Helpers for page forms shared by the apps."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    """The project's form renderer (``FORM_RENDERER``): ``{{ form }}`` and ``{{ field.as_field_group }}``
    draw every page form from one pair of templates, ``templates/forms/form.html`` and
    ``templates/forms/field.html``, instead of a per-field loop copied into each page.

    ``TemplatesSetting`` rather than Django's default ``DjangoTemplates`` renderer: the default one
    builds its own engine over the apps' ``templates/`` folders and Django's widget templates only,
    so it never sees the project-level ``templates/`` folder (``TEMPLATES["DIRS"]``) where the
    site-wide partials live. This one renders with ``settings.TEMPLATES``; ``"django.forms"`` in
    ``INSTALLED_APPS`` lets that engine (``APP_DIRS``) find Django's own widget templates."""

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"


def attach_errors(form: Any, exc: ValidationError, field_map: dict[str, str] | None = None) -> None:
    """Put a service's ``ValidationError`` on the page form that sent the data: each field's
    messages on that field (renamed through ``field_map`` where the form names it differently), the
    others as the form's own errors, so the form is shown again with the user's input."""
    field_map = field_map or {}
    for field, errors in exc.message_dict.items():
        name = field_map.get(field, field)
        form.add_error(name if name in form.fields else None, errors)
