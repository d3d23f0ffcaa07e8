"""API side of the access gate: deny by default, object checks through ``user_can``."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from organizations.access import CHANGE, VIEW, get_scope, user_can


class ScopedPermission(BasePermission):
    """Authenticated users with at least one scope rule; writes need CHANGE on the object.

    Row visibility itself comes from each view's ``get_queryset`` (``visible_to``), because DRF
    does not apply object permissions to list views.
    """

    message = "无权访问"

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return not get_scope(user).is_empty

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        action = VIEW if request.method in SAFE_METHODS else CHANGE
        return user_can(request.user, action, obj)
