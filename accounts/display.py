"""个人设置 → 显示: the large-text mode, one switch per user.

The choice is stored on ``DisplayPreference`` (so it follows the user to every device) and copied
into the session at login and whenever it changes, so drawing a page costs no query: the
``display`` context processor reads the session only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.models import DisplayPreference

SESSION_KEY = "ui_large_text"


def display_preference_set(*, actor: Any, user: Any, large_text: bool) -> DisplayPreference:
    """A user changes their own display settings (nobody else's)."""
    if actor is not None and actor.pk != user.pk:
        raise PermissionDenied("只能修改自己的显示设置")
    pref, _ = DisplayPreference.objects.update_or_create(user=user, defaults={"large_text": large_text})
    return pref


def large_text_for(user: Any) -> bool:
    return DisplayPreference.objects.filter(user=user, large_text=True).exists()


@receiver(user_logged_in)
def _remember_display(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = large_text_for(user)


def display(request: Any) -> dict[str, Any]:
    """Context processor: ``ui_large_text`` from the session (no query)."""
    session = getattr(request, "session", None)
    return {"ui_large_text": bool(session.get(SESSION_KEY)) if session is not None else False}


@login_required
@require_POST
def large_text_toggle(request: HttpRequest) -> HttpResponse:
    on = request.POST.get("large_text") == "1"
    display_preference_set(actor=request.user, user=request.user, large_text=on)
    request.session[SESSION_KEY] = on
    messages.success(request, "已开启大字模式" if on else "已恢复标准字号")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = "notifications:preferences"
    return redirect(target)
