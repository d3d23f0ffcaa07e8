from typing import Any

from core.access import get_scope


def navigation(request: Any) -> dict[str, Any]:
    """Which navigation entries the current user gets (by role)."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    scope = get_scope(user)
    roles = scope.roles
    return {
        "nav": {
            "roles": sorted(roles),
            "manages": bool(roles & {"org_admin", "secretary", "auditor"}),
            "is_member": scope.member_id is not None,
            "is_sysadmin": "sysadmin" in roles,
        }
    }
