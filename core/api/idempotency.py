"""The API's ``Idempotency-Key`` header (#17.2): every POST may carry one (see core/idempotency.py).

Same key and same body → the first response again (header ``Idempotent-Replayed: true``); same key
and another body → 409; a request still running → the twin waits for it, then replays it. A POST
with a key runs in one transaction with its claim and its kept response.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError

from core.idempotency import (
    KEY_MESSAGE,
    KEY_RE,
    fingerprint,
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
    idempotency_replay,
    request_block,
)

HEADER = "Idempotency-Key"


class IdempotencyConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "幂等键冲突"
    default_code = "idempotency_conflict"


class _Replay(Exception):  # noqa: N818 - control flow, answered by handle_exception
    def __init__(self, response: Any) -> None:
        self.response = response


class IdempotencyKeyMixin:
    """For API views: honour ``Idempotency-Key`` on POST for an authenticated user."""

    _idempotency: Any = None

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        self._idempotency = None
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None or not request.user.is_authenticated:
            return
        if not KEY_RE.match(key):
            raise ValidationError({HEADER: KEY_MESSAGE})
        claim = idempotency_claim(
            user=request.user, key=f"api:{key}", fingerprint=fingerprint("POST", request.path, request.data)
        )
        if claim.conflict:
            raise IdempotencyConflict(claim.conflict)
        if claim.replay is not None:
            raise _Replay(idempotency_replay(claim.replay))
        self._idempotency = claim.record

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)  # type: ignore[misc]

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        record, self._idempotency = self._idempotency, None
        if record is not None:
            if 200 <= response.status_code < 300:
                if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                    response.render()
                idempotency_complete(record, response)
            else:
                idempotency_release(record)
        return response

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.method != "POST" or HEADER not in request.headers:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        # The claim, the work and the kept response commit together or not at all: a failure after
        # the object's own commit (a database restart) would otherwise leave an object whose key
        # says "still running", and a later retry would make a second one. A concurrent twin's
        # claim waits on the key's unique index until this transaction ends, then replays it.
        # The block is audit's deferred chain: the request's audit events are linked just before
        # the commit, after the response is built and kept (#20.3).
        try:
            with request_block():
                return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        finally:
            self._idempotency = None  # an uncaught exception rolled the claim back with the rest
