"""Receivers: session bookkeeping at login; members who leave lose their account (AUTH-5)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.sessions import mark_session


@receiver(user_logged_in)
def _mark_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        mark_session(request, user)


@receiver(post_save, sender="members.Member")
def _member_left(sender: Any, instance: Any, **kwargs: Any) -> None:
    from accounts.backends import INACTIVE_MEMBER_STATUSES
    from accounts.services import account_disable_for_member

    if instance.user_id and instance.membership_status in INACTIVE_MEMBER_STATUSES:
        account_disable_for_member(member=instance)
