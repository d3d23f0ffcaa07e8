from typing import Any

from core.access import get_scope


def navigation(request: Any) -> dict[str, Any]:
    """Which navigation entries the current user gets (by role)."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    scope = get_scope(user)
    return {
        "nav": {
            "roles": sorted(scope.roles),
            "manages": scope.works_with_data,
            "is_member": scope.is_member,
            "is_sysadmin": scope.is_sysadmin,
        }
    }
