"""Requests a client may send twice create one object (#17.2).

One mechanism for the API and the pages: the first request with a key claims a row
(``IdempotencyRecord``, unique per user and key) before it runs; a repeat with the same
fingerprint waits for the first to finish and gets its response again; a repeat with another body
is refused (409). Failed requests (4xx/5xx, or a form shown again with errors) release the key,
so the client may correct and resend. The claim, the request's work and the kept response share
one transaction, so an object is never committed without its key's response (a twin's claim waits
on the key's unique index until that transaction ends). Records are kept a day (``PB_IDEMPOTENCY_TTL_HOURS``) and
purged by the beat task ``core.purge_idempotency_records``.

- API: the ``Idempotency-Key`` header on any POST (``core.api.idempotency.IdempotencyKeyMixin``,
  part of every API view through ``StrictQueryParamsMixin``).
- Pages: a form carries a one-time token (``{% once_token %}`` from ``core_tags``);
  ``OnceTokenMiddleware`` answers a second submission of the same form with the first one's redirect.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone

from core.models import IdempotencyRecord

KEY_RE = re.compile(r"^[\x21-\x7e]{8,200}$")
FORM_FIELD = "_once"
KEY_MESSAGE = "幂等键应为 8–200 个可见 ASCII 字符（建议使用 UUID）"
OTHER_BODY_MESSAGE = "该幂等键已用于内容不同的另一请求，请为新的请求生成新的键"
IN_PROGRESS_MESSAGE = "相同的请求正在处理中，请稍后刷新查看结果"


# The transaction of a request with a key (claim, work, kept answer). A plain atomic block unless an
# app above registers its own at start-up: audit links the request's events to its chain just
# before the commit (``audit.services.deferred_chain``, #20.3), so the chain head is not held while
# the response is built and kept.
_request_block: Callable[[], AbstractContextManager[Any]] = transaction.atomic


def register_request_block(factory: Callable[[], AbstractContextManager[Any]]) -> None:
    global _request_block
    _request_block = factory


def request_block() -> AbstractContextManager[Any]:
    """The atomic block a request with an idempotency key runs in (see ``register_request_block``)."""
    return _request_block()


def _ttl() -> timedelta:
    return timedelta(hours=getattr(settings, "PB_IDEMPOTENCY_TTL_HOURS", 24))


def fingerprint(method: str, path: str, data: Any) -> str:
    """What makes two requests "the same": method, path and the parsed body (files by name and size)."""

    def plain(value: Any) -> Any:
        if hasattr(value, "lists"):  # QueryDict / MultiValueDict
            return {key: [plain(v) for v in values] for key, values in value.lists()}
        if isinstance(value, dict):
            return {str(key): plain(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        if hasattr(value, "read") and hasattr(value, "size"):
            return ["file", getattr(value, "name", ""), value.size]
        return value

    text = json.dumps([method, path, plain(data)], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Claim:
    """``record`` set: this request runs and must ``idempotency_complete`` or ``idempotency_release``
    it. ``replay`` set: answer with the stored response. ``conflict`` set: refuse (409)."""

    record: IdempotencyRecord | None = None
    replay: IdempotencyRecord | None = None
    conflict: str = ""


def idempotency_claim(*, user: Any, key: str, fingerprint: str, wait: float | None = None) -> Claim:
    """Claim ``key`` for ``user``. A concurrent twin waits (up to ``PB_IDEMPOTENCY_WAIT_SECONDS``)
    for the first request to finish, then replays it."""
    if wait is None:
        wait = float(getattr(settings, "PB_IDEMPOTENCY_WAIT_SECONDS", 10))
    deadline = time.monotonic() + wait
    while True:
        now = timezone.now()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(user=user, key=key, fingerprint=fingerprint, created_at=now)
            return Claim(record=record)
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            continue  # released meanwhile: claim again
        abandoned = existing.status_code is None and existing.created_at < now - timedelta(
            seconds=getattr(settings, "PB_IDEMPOTENCY_ABANDONED_SECONDS", 300)
        )  # the process that claimed it died mid-request (a worker killed): the key is free again
        if existing.created_at < now - _ttl() or abandoned:
            IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.fingerprint != fingerprint:
            return Claim(conflict=OTHER_BODY_MESSAGE)
        if existing.status_code is not None:
            return Claim(replay=existing)
        if time.monotonic() >= deadline:
            return Claim(conflict=IN_PROGRESS_MESSAGE)
        time.sleep(0.05)


def idempotency_complete(record: IdempotencyRecord, response: HttpResponse) -> None:
    """Keep the response of a request that succeeded, for its repeats."""
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status_code=response.status_code,
        content_type=response.get("Content-Type", "")[:100],
        location=response.get("Location", "")[:500],
        body=bytes(getattr(response, "content", b"") or b""),
    )


def idempotency_release(record: IdempotencyRecord) -> None:
    """The request failed: forget the key so that a corrected request may use it."""
    IdempotencyRecord.objects.filter(pk=record.pk).delete()


def idempotency_replay(record: IdempotencyRecord) -> HttpResponse:
    if 300 <= record.status_code < 400 and record.location:
        response: HttpResponse = HttpResponseRedirect(record.location)
    else:
        response = HttpResponse(bytes(record.body), status=record.status_code, content_type=record.content_type or None)
        if record.location:
            response["Location"] = record.location
    response["Idempotent-Replayed"] = "true"
    return response


def idempotency_purge(*, now: datetime | None = None) -> int:
    """Delete records older than the time they are kept (a day by default)."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=(now or timezone.now()) - _ttl()).delete()
    return deleted


class OnceTokenMiddleware:
    """Page forms: a POST carrying ``_once`` (``{% once_token %}``) runs once per user and token.

    A second submission of the same form (a double tap, a resend after a timeout) gets the first
    one's redirect — to the object it created — instead of creating another. A form shown again
    with errors releases the token.
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            request.method != "POST"
            or request.path.startswith("/api/")
            or user is None
            or not user.is_authenticated
            or not KEY_RE.match(token := request.POST.get(FORM_FIELD, ""))
        ):
            return self.get_response(request)
        # Claim, work and kept redirect in one transaction (see core.api.idempotency): a failure
        # after the form's own commit rolls the object back with its claim, so a resend makes one.
        with request_block():
            claim = idempotency_claim(user=user, key=f"form:{token}", fingerprint=fingerprint("POST", request.path, ""))
            if claim.conflict:
                return HttpResponse(claim.conflict, status=409, content_type="text/plain; charset=utf-8")
            if claim.replay is not None:
                return idempotency_replay(claim.replay)
            response = self.get_response(request)
            if 300 <= response.status_code < 400 and response.get("Location"):
                idempotency_complete(claim.record, response)
            else:
                idempotency_release(claim.record)
            return response
