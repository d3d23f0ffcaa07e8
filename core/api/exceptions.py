"""The API's error answers: one shape for field errors, JSON for every status.

Field errors, from a query parameter or a body alike, are ``{"field": ["message", …]}``; errors
that belong to no field are under ``non_field_errors``. Other errors are ``{"detail": "…"}``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def field_errors(detail: Any) -> Any:
    """A ValidationError's detail in the one shape: a dict of lists (nested serializers keep
    their nesting; a bare message or list goes under ``non_field_errors``)."""
    if isinstance(detail, dict):
        return {key: _as_list(value) for key, value in detail.items()}
    return {"non_field_errors": _as_list(detail)}


def _as_list(value: Any) -> Any:
    if isinstance(value, dict):
        return field_errors(value)
    if isinstance(value, list):
        return value
    return [value]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    if isinstance(exc, exceptions.ValidationError):
        exc = exceptions.ValidationError(detail=field_errors(exc.detail))
    response = drf_exception_handler(exc, context)
    scheme = getattr(exc, "auth_scheme", "")
    if response is not None and scheme and isinstance(exc, exceptions.AuthenticationFailed):
        # Credentials were presented and refused (a revoked or expired token): 401 with the scheme,
        # whichever authentication class comes first (DRF answers 403 when it is the session's).
        response.status_code = 401
        response["WWW-Authenticate"] = scheme
    return response
