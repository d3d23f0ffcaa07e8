"""API side of the access gate: deny by default, object checks through ``user_can``."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.access import CHANGE, VIEW, get_scope, user_can


class ScopedPermission(BasePermission):
    """Authenticated users with at least one scope rule; writes need CHANGE on the object.

    A read-only user (no CHANGE rule, not a member) is refused every write before the request body
    is read, so the answer is 403 whatever the input (AC-3: the auditor only reads).

    Row visibility itself comes from each view's ``get_queryset`` (``visible_to``), because DRF
    does not apply object permissions to list views.
    """

    message = "无权访问"

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        scope = get_scope(user)
        if scope.is_empty:
            return False
        if request.method not in SAFE_METHODS and scope.is_read_only:
            self.message = "只读角色不能修改数据"
            return False
        return True

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        action = VIEW if request.method in SAFE_METHODS else CHANGE
        return user_can(request.user, action, obj)
