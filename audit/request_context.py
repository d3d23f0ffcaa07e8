"""Request id, client address and the current request, for audit records and logs."""

from __future__ import annotations

import ipaddress
import logging
import time
import uuid
from contextvars import ContextVar
from typing import Any

_current: ContextVar[Any] = ContextVar("current_request", default=None)
request_log = logging.getLogger("pb.request")


def current_request() -> Any:
    return _current.get()


def canonical_ip(value: Any) -> str | None:
    """``value`` in the one form that the database gives back, or None when it is no address.

    The audit row's hash covers its address, so the text hashed must be the text read back: an
    address written another way (``2001:0DB8::0001``, a zone ``%eth0``) would otherwise make a row
    that never verifies, and a header that is no address would fail the insert. The form is a fixed
    point of both Django's IPv6 cleaning and PostgreSQL's ``inet`` output (RFC 5952, lower case).
    They disagree only on IPv4 carried in IPv6 (``::ffff:a.b.c.d`` and the deprecated ``::a.b.c.d``),
    which is therefore written as the IPv4 address it carries. The per-address lockout keys on this
    form too, so writing one address several ways does not give several counters.
    """
    if value is None:
        return None
    try:
        address = ipaddress.ip_address(str(value).strip().split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        number = int(address)
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        if number >> 32 == 0 and number > 0xFFFF:  # IPv4-compatible (PostgreSQL writes it dotted)
            return str(ipaddress.IPv4Address(number))
    return str(address)


def client_ip(request: Any) -> str | None:
    """The client address: the header named by ``PB_CLIENT_IP_HEADER`` (set by the reverse proxy),
    else REMOTE_ADDR, in ``canonical_ip``'s form. Behind nginx every request comes from 127.0.0.1,
    so per-address lockout and the audit log need the proxy's header (e.g. ``HTTP_X_REAL_IP``); never
    set it without a proxy. A header that is no address gives None, not the proxy's address."""
    from django.conf import settings

    meta = getattr(request, "META", None) or {}
    header = getattr(settings, "PB_CLIENT_IP_HEADER", "")
    if header:
        value = (meta.get(header) or "").split(",")[0].strip()
        if value:
            return canonical_ip(value[:64])
    return canonical_ip(meta.get("REMOTE_ADDR"))


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
