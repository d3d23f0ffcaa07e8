"""What retires the access gate's cached scopes on this app's side (#20.1): a role assignment
added, changed or removed, an organization moved (its subtree's paths change) or deleted.

Connected in ``OrganizationsConfig.ready``; the cache itself lives in ``core.access``.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from core.access import forget_all_scopes
from core.signals import tree_changed


def _retire(sender: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        forget_all_scopes()


def connect() -> None:
    from organizations.models import Organization, RoleAssignment

    post_save.connect(_retire, sender=RoleAssignment, dispatch_uid="scope:role:save", weak=False)
    post_delete.connect(_retire, sender=RoleAssignment, dispatch_uid="scope:role:delete", weak=False)
    post_delete.connect(_retire, sender=Organization, dispatch_uid="scope:org:delete", weak=False)
    tree_changed.connect(_retire, dispatch_uid="scope:tree", weak=False)
