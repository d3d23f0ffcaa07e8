"""Writing audit events. Call ``audit_log`` inside the same transaction as the action it records,
so that when the audit insert fails the business write rolls back too (AUD-5)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.request_context import current_request
from core.access import get_scope

# Never store a full 18-digit ID number or a phone number in an audit record (AUD-2).
_ID_RE = re.compile(r"(?<![0-9])([0-9]{2})[0-9]{14}([0-9][0-9Xx])(?![0-9A-Za-z])")
_PHONE_RE = re.compile(r"(?<![0-9])(1[0-9]{2})[0-9]{4}([0-9]{4})(?![0-9])")
# Keys whose values are secrets: passwords (also old_/new_password1…), one-time codes, tokens, keys.
_SECRET_KEY_RE = re.compile(r"(^|_)(password\d?|passwd|otp|token|secret|api_key)$", re.IGNORECASE)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _PHONE_RE.sub(r"\1****\2", _ID_RE.sub(r"\1**************\2", value))
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items() if not _SECRET_KEY_RE.search(str(key))}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def _hash(prev_hash: str, event: AuditEvent) -> str:
    payload = json.dumps(
        [
            prev_hash,
            event.created_at.isoformat(),
            event.user_id,
            event.username,
            event.roles,
            event.ip_address,
            event.request_id,
            event.event,
            event.object_type,
            event.object_id,
            event.organization_id,
            event.outcome,
            event.detail,
        ],
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def audit_log(
    *,
    event: str,
    user: Any = None,
    obj: Any = None,
    organization: Any = None,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
    request: Any = None,
) -> AuditEvent:
    """Append one event. ``request`` defaults to the current request (set by middleware)."""
    request = request or current_request()
    if user is None and request is not None:
        user = getattr(request, "user", None)
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    if organization is None and obj is not None:
        organization = getattr(obj, "organization", None)
        if organization is None and obj.__class__.__name__ == "Organization":
            organization = obj
    roles = ""
    if user is not None:
        roles = ",".join(sorted(get_scope(user).roles))
    with transaction.atomic():
        # Serialize writers so the chain has no forks: lock the newest row.
        last = AuditEvent.objects.select_for_update().order_by("-id").values("row_hash").first()
        prev_hash = last["row_hash"] if last else ""
        record = AuditEvent(
            created_at=timezone.now(),
            user=user,
            username=getattr(user, "username", "") if user else "",
            roles=roles,
            ip_address=getattr(request, "audit_ip", None) if request else None,
            request_id=getattr(request, "request_id", "") if request else "",
            event=event,
            object_type=obj.__class__.__name__ if obj is not None else "",
            object_id=str(getattr(obj, "pk", "") or "") if obj is not None else "",
            organization=organization,
            outcome=outcome,
            detail=_scrub(detail or {}),
            prev_hash=prev_hash,
        )
        record.row_hash = _hash(prev_hash, record)
        record.save(force_insert=True)
    return record


def _purge_anchors() -> set[tuple[int, str]]:
    """(first remaining id, its prev_hash) recorded by each retention purge (``audit_purge``)."""
    anchors = set()
    for detail in AuditEvent.objects.filter(event=PURGE_EVENT).values_list("detail", flat=True):
        if isinstance(detail, dict) and detail.get("anchor_id"):
            anchors.add((int(detail["anchor_id"]), str(detail.get("anchor_prev_hash", ""))))
    return anchors


def audit_verify() -> list[int]:
    """Ids of rows whose hash does not match their content or chain (edited or deleted rows).

    After a retention purge the chain starts at the first remaining row; its link to the purged
    rows is accepted only if a (chained, hence tamper-evident) ``audit_purge`` record names it.
    """
    broken: list[int] = []
    prev_hash: str | None = None
    for record in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if prev_hash is None:
            prev_hash = ""
            if record.prev_hash and (record.pk, record.prev_hash) in _purge_anchors():
                prev_hash = record.prev_hash
        if record.prev_hash != prev_hash or _hash(prev_hash, record) != record.row_hash:
            broken.append(record.pk)
        prev_hash = record.row_hash
    return broken


PURGE_EVENT = "audit_purge"


def _allow_purge(connection: Any) -> None:
    """On PostgreSQL the append-only trigger lets DELETE through only while this transaction-local
    flag is on; only ``audit_purge`` sets it (see audit/migrations/0003)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pb.audit_purge', 'on', true)")


# The retention period in force comes from the security policy, which the accounts app keeps (above
# this one): it registers a source at start-up; without one the settings default applies.
_retention_source: Callable[[], int] | None = None


def register_retention_source(source: Callable[[], int]) -> None:
    global _retention_source
    _retention_source = source


def audit_purge(*, now: datetime | None = None, retention_days: int | None = None) -> int:
    """Delete rows older than the retention period (AUD-4, default 190 days) and record the purge.

    Only rows older than the retention are deleted; the purge record keeps the chain verifiable.
    """
    from django.conf import settings
    from django.db import connection

    if retention_days is None:
        retention_days = _retention_source() if _retention_source else settings.PB_AUDIT_RETENTION_DAYS
    retention_days = max(int(retention_days), settings.PB_AUDIT_RETENTION_DAYS_MINIMUM)
    now = now or timezone.now()
    cutoff = now - timedelta(days=retention_days)
    with transaction.atomic():
        # Lock the newest row first: no event is appended while the purge runs.
        AuditEvent.objects.select_for_update().order_by("-id").values("pk").first()
        # Only the oldest contiguous run of expired rows goes, so the remaining chain has no holes.
        first_kept = (
            AuditEvent.objects.filter(created_at__gte=cutoff).order_by("id").values_list("pk", flat=True).first()
        )
        expired = AuditEvent.objects.filter(created_at__lt=cutoff)
        if first_kept is not None:
            expired = expired.filter(pk__lt=first_kept)
        if not expired.exists():
            return 0
        _allow_purge(connection)
        deleted, _ = expired.delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('pb.audit_purge', 'off', true)")
        anchor = AuditEvent.objects.order_by("id").values("pk", "prev_hash").first()
        audit_log(
            event=PURGE_EVENT,
            detail={
                "deleted": deleted,
                "before": cutoff.isoformat(),
                "retention_days": retention_days,
                "anchor_id": anchor["pk"] if anchor else None,
                "anchor_prev_hash": anchor["prev_hash"] if anchor else "",
            },
        )
    return deleted
