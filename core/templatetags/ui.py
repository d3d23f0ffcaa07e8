"""Small UI helpers for templates: ``{% icon "name" %}`` draws one icon of the local sprite."""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

from core.icons import ICONS

register = template.Library()


@register.simple_tag
def icon(name: str, label: str = "") -> str:
    """An inline SVG icon; decorative (hidden from screen readers) unless ``label`` is given."""
    if name not in ICONS:
        raise template.TemplateSyntaxError(f"icon {name!r} is not in core.icons.ICONS")
    href = f"{static('vendor/bootstrap-icons/icons.svg')}#{name}"
    if label:
        return format_html('<svg class="icon" role="img" aria-label="{}"><use href="{}"></use></svg>', label, href)
    return format_html('<svg class="icon" aria-hidden="true" focusable="false"><use href="{}"></use></svg>', href)


@register.simple_tag(takes_context=True)
def nav_current(context: template.Context, prefix: str, exact: bool = False) -> str:
    """`` aria-current="page"`` on the navigation link of the page being shown."""
    request = context.get("request")
    path = getattr(request, "path", "")
    hit = path == prefix if exact else path.startswith(prefix)
    return format_html(' aria-current="{}"', "page") if hit else ""
