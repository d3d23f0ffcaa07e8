"""Request id, client address and the current request, for audit records and logs."""

from __future__ import annotations

import logging
import time
import uuid
from contextvars import ContextVar
from typing import Any

_current: ContextVar[Any] = ContextVar("current_request", default=None)
request_log = logging.getLogger("pb.request")


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
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            from audit.denials import flush_out_of_scope  # import-here: audit.denials imports this module

            flush_out_of_scope(request)
            self._log(request, response, started)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request.request_id
        return response

    @staticmethod
    def _log(request: Any, response: Any, started: float) -> None:
        """One line per request (#18.6): id, user, roles, organizations, duration and status."""
        from audit.logging import request_context_fields  # import-here: audit.logging imports this module

        request_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request.request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                **request_context_fields(request),
            },
        )
