"""Request id, client address and the current request, for audit records and logs."""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from typing import Any

_current: ContextVar[Any] = ContextVar("current_request", default=None)


def current_request() -> Any:
    return _current.get()


def client_ip(request: Any) -> str | None:
    """The client address: the header named by ``PB_CLIENT_IP_HEADER`` (set by the reverse proxy),
    else REMOTE_ADDR. Behind nginx every request comes from 127.0.0.1, so per-address lockout and the
    audit log need the proxy's header (e.g. ``HTTP_X_REAL_IP``); never set it without a proxy."""
    from django.conf import settings

    meta = getattr(request, "META", None) or {}
    header = getattr(settings, "PB_CLIENT_IP_HEADER", "")
    if header:
        value = (meta.get(header) or "").split(",")[0].strip()
        if value:
            return value[:45]
    return meta.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Gives every request an id (echoed in ``X-Request-ID``) and records the client address."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming[:64] if incoming.replace("-", "").isalnum() else uuid.uuid4().hex
        request.audit_ip = client_ip(request)
        token = _current.set(request)
        try:
            response = self.get_response(request)
            from audit.denials import flush_out_of_scope  # import-here: audit.denials imports this module

            flush_out_of_scope(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request.request_id
        return response
