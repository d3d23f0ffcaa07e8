"""What retires the access gate's cached scopes on this app's side (#20.1): a member record
linked to or unlinked from an account, moved to another organization while linked, or deleted
while linked (the gate's identity: the member id and its organization's path).

Connected in ``MembersConfig.ready``; the cache itself lives in ``core.access``. Ordinary edits
of a record (name, phone, dues) leave the cached scopes alone.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save

from core.access import forget_all_scopes

IDENTITY_FIELDS = ("user_id", "organization_id")


def _before(sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any) -> None:
    if raw:
        return
    if instance.pk is None or instance._state.adding:
        instance._pb_identity_changed = instance.user_id is not None
        return
    if update_fields is not None and not {"user", "user_id", "organization", "organization_id"} & set(update_fields):
        instance._pb_identity_changed = False
        return
    old = sender._default_manager.filter(pk=instance.pk).values_list(*IDENTITY_FIELDS).first()
    new = (instance.user_id, instance.organization_id)
    instance._pb_identity_changed = old != new and (instance.user_id is not None or (old and old[0] is not None))


def _after(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw and getattr(instance, "_pb_identity_changed", False):
        instance._pb_identity_changed = False
        forget_all_scopes()


def _deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.user_id is not None:
        forget_all_scopes()


def connect() -> None:
    from members.models import Member

    pre_save.connect(_before, sender=Member, dispatch_uid="scope:member:pre", weak=False)
    post_save.connect(_after, sender=Member, dispatch_uid="scope:member:post", weak=False)
    post_delete.connect(_deleted, sender=Member, dispatch_uid="scope:member:delete", weak=False)
