"""``{% once_token %}``: the one-time token a page form carries (#17.2, core/idempotency.py)."""

import uuid

from django import template
from django.utils.html import format_html

from core.idempotency import FORM_FIELD

register = template.Library()


@register.simple_tag
def once_token() -> str:
    """A hidden input with a fresh token: a second submission of this rendering is not run twice."""
    return format_html('<input type="hidden" name="{}" value="{}">', FORM_FIELD, uuid.uuid4().hex)
