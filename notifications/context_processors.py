from typing import Any

from notifications.selectors import UnreadBadge


def inbox(request: Any) -> dict[str, Any]:
    """The header's unread badge. Counted lazily: one query, only on pages that render it."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    return {"inbox": UnreadBadge(user)}
