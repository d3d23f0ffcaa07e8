"""Request id, client address and the current request, for audit records and logs."""
from __future__ import annotations

import uuid
from contextvars import ContextVar
from typing import Any

_current: ContextVar[Any] = ContextVar("current_request", default=None)


def current_request() -> Any:
    return _current.get()


class RequestContextMiddleware:
    """Gives every request an id (echoed in ``X-Request-ID``) and records the client address."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming[:64] if incoming.replace("-", "").isalnum() else uuid.uuid4().hex
        request.audit_ip = request.META.get("REMOTE_ADDR") or None
        token = _current.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request.request_id
        return response
