"""Writing audit events. Call ``audit_log`` inside the same transaction as the action it records,
so that when the audit insert fails the business write rolls back too (AUD-5).

Linking an event to the chain locks the chain head until the commit, so writers link one after the
other (#17.1). ``deferred_chain`` shortens that hold (#20.3): an atomic block whose events are
linked in one go just before it ends, so the head is held for its last statements and the commit
instead of the rest of the request.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from audit.chain import checkpoint_write, checkpoints_read, row_hash
from audit.models import AuditChainHead, AuditEvent
from audit.request_context import canonical_ip, current_request
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
    """The keyed row hash (``audit.chain.row_hash``)."""
    return row_hash(prev_hash, event)


def _lock_head() -> AuditChainHead:
    """Lock the one-row chain head for the rest of the transaction and return it as committed.

    Under READ COMMITTED a writer that waited on the lock reads the row version the previous
    writer committed, so it links to the event that writer appended (no fork). Created on first
    use (a fresh or flushed database), linked to the newest row if there is one.
    """
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        newest = AuditEvent.objects.order_by("-id").values("pk", "row_hash").first()
        AuditChainHead.objects.bulk_create(
            [
                AuditChainHead(
                    pk=1,
                    last_id=newest["pk"] if newest else None,
                    last_hash=newest["row_hash"] if newest else "",
                )
            ],
            ignore_conflicts=True,
        )
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


class _Batch:
    """The events of one ``deferred_chain`` block not linked yet."""

    def __init__(self, savepoints: int) -> None:
        self.savepoints = savepoints  # savepoints open at the block's level
        self.events: list[AuditEvent] = []

    def takes_now(self) -> bool:
        """True when an event logged now rolls back only with the whole block: no savepoint was
        opened since the block began (Django says nothing when a savepoint rolls back, so an event
        logged inside one is linked at once, as without deferral)."""
        return connection.in_atomic_block and all(sid is None for sid in connection.savepoint_ids[self.savepoints :])


_local = threading.local()


@contextmanager
def deferred_chain() -> Iterator[None]:
    """An atomic block whose audit events are linked to the chain just before it ends (#20.3).

    ``audit_log`` inside the block builds its event and keeps it; when the block's body has run
    without an exception the kept events are linked in one go (head lock, insert, head update) and
    the block commits. The business writes and their events still commit or roll back together
    (AUD-5: a failing audit insert raises inside the block and rolls it all back), and the chain
    stays linear (the head is locked as before), but the lock is held for the link and the commit
    only, not for the rest of the request (its response, the idempotency key's answer).

    At the outermost level the pending foreign-key checks run first (``SET CONSTRAINTS ALL
    IMMEDIATE`` on PostgreSQL, whose constraints Django declares deferred): otherwise they run at
    COMMIT, inside the hold. The events' ``created_at`` is the time they are linked, so it still
    grows along the chain; the returned events have no ``pk`` until then. A block inside another
    is a plain atomic block, a savepoint: its events are linked at once.
    """
    if getattr(_local, "batch", None) is not None:
        with transaction.atomic():
            yield
        return
    with transaction.atomic():
        batch = _Batch(len(connection.savepoint_ids))
        _local.batch = batch
        try:
            yield
        finally:
            _local.batch = None
        if batch.events and not connection.needs_rollback:  # needs_rollback: the block rolls back anyway
            if connection.vendor == "postgresql" and not connection.savepoint_ids:
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the transaction ends right after
            _link(batch.events)


def _link(records: list[AuditEvent]) -> None:
    """Append ``records`` to the chain, in order, inside the current transaction: lock the head,
    hash, insert, move the head. The lock is held to the commit."""
    with transaction.atomic(savepoint=False):
        head = _lock_head()  # held to the commit: writers link one after the other (#17.1)
        prev_hash = head.last_hash
        now = timezone.now()
        for record in records:
            record.created_at = now
            record.prev_hash = prev_hash
            record.row_hash = prev_hash = _hash(prev_hash, record)
        if len(records) == 1:
            records[0].save(force_insert=True)
        else:
            AuditEvent.objects.bulk_create(records)  # one INSERT, ids in order
        AuditChainHead.objects.filter(pk=1).update(last_id=records[-1].pk, last_hash=prev_hash)


def audit_log(
    *,
    event: str,
    user: Any = None,
    obj: Any = None,
    organization: Any = None,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
    request: Any = None,
    system_detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. ``request`` defaults to the current request (set by middleware).

    ``detail`` is scrubbed of ID and phone numbers (AUD-2). ``system_detail`` holds what the system
    itself writes and reads back exactly, hashes and ids: it is kept as written, since a hex digest
    can hold a run of digits that looks like a mobile number (a masked anchor hash made every later
    ``audit_verify`` report the chain broken).

    Inside ``deferred_chain`` the event is linked when the block ends (its ``pk`` is None until
    then); elsewhere now, and the chain head stays locked to the commit."""
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
    record = AuditEvent(
        created_at=timezone.now(),
        user=user,
        username=getattr(user, "username", "") if user else "",
        roles=roles,
        ip_address=canonical_ip(getattr(request, "audit_ip", None)) if request else None,
        request_id=getattr(request, "request_id", "") if request else "",
        event=event,
        object_type=obj.__class__.__name__ if obj is not None else "",
        object_id=str(getattr(obj, "pk", "") or "") if obj is not None else "",
        organization=organization,
        outcome=outcome,
        detail={**_scrub(detail or {}), **(system_detail or {})},
    )
    batch: _Batch | None = getattr(_local, "batch", None)
    if batch is not None and batch.takes_now():
        batch.events.append(record)
        return record
    # No savepoint inside the caller's transaction (#20.3): nothing continues after a failed audit
    # insert, the action it records rolls back with it (AUD-5).
    _link([record])
    return record


def _purge_anchors() -> set[tuple[int, str]]:
    """(first remaining id, its prev_hash) recorded by each retention purge (``audit_purge``)."""
    anchors = set()
    for pk, prev_hash, detail in AuditEvent.objects.filter(event=PURGE_EVENT).values_list("pk", "prev_hash", "detail"):
        if isinstance(detail, dict) and detail.get("anchor_id"):
            anchors.add((int(detail["anchor_id"]), str(detail.get("anchor_prev_hash", ""))))
        elif isinstance(detail, dict) and detail.get("deleted"):  # every row went: the purge record starts the chain
            anchors.add((pk, prev_hash))
    return anchors


def audit_verify() -> list[int]:
    """Ids of rows whose hash does not match their content or chain (edited or deleted rows).

    After a retention purge the chain starts at the first remaining row; its link to the purged
    rows is accepted only if a (chained, hence tamper-evident) ``audit_purge`` record names it.
    Deleting the newest rows or emptying the table shows in ``audit_checkpoint_problems``.
    """
    broken: list[int] = []
    prev_hash: str | None = None
    for record in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if prev_hash is None:
            prev_hash = ""
            anchors = _purge_anchors() if record.prev_hash else set()
            # Purge records written before system_detail masked a phone-like run in the hash; the
            # record itself is chained, so its masked form still names this row only.
            if (record.pk, record.prev_hash) in anchors or (record.pk, _scrub(record.prev_hash)) in anchors:
                prev_hash = record.prev_hash
        if record.prev_hash != prev_hash or _hash(prev_hash, record) != record.row_hash:
            broken.append(record.pk)
        prev_hash = record.row_hash
    return broken


def audit_checkpoint(*, now: datetime | None = None) -> dict[str, Any] | None:
    """Write a signed checkpoint of the chain head outside the database (file + log); None when the
    log is empty. Run daily by beat (``audit.checkpoint``) and by ``manage.py audit_checkpoint``."""
    newest = AuditEvent.objects.order_by("-id").values("pk", "row_hash").first()
    if newest is None:
        return None
    return checkpoint_write(
        head_id=newest["pk"], head_hash=newest["row_hash"], rows=AuditEvent.objects.count(), now=now
    )


def audit_checkpoint_problems() -> list[str]:
    """What the checkpoints kept outside the database say is missing (Chinese, for the command).

    The newest signed checkpoint names the head of the chain on that day: that row must still be
    there with the same hash (or have gone in a recorded retention purge). Rows deleted from the
    head, an emptied (TRUNCATEd) table or a chain recomputed under another key all fail here.
    """
    checkpoints = checkpoints_read()
    problems = [f"检查点文件中有签名无效的记录（{c.at or '无法解析'}）" for c in checkpoints if not c.signed]
    signed = [c for c in checkpoints if c.signed]
    if not signed:
        return problems
    last = max(signed, key=lambda c: c.head_id)
    row = AuditEvent.objects.filter(pk=last.head_id).values("row_hash").first()
    if row is None:
        first_id = AuditEvent.objects.order_by("id").values_list("pk", flat=True).first()
        purged = first_id is not None and first_id > last.head_id and any(a > last.head_id for a, _ in _purge_anchors())
        if not purged:
            problems.append(
                f"检查点（{last.at}）记录的链头 id={last.head_id} 已不在审计日志中：最新的记录被删除或表被清空"
            )
    elif row["row_hash"] != last.head_hash:
        problems.append(f"检查点（{last.at}）记录的链头 id={last.head_id} 哈希不一致：记录被改写或哈希链被重算")
    return problems


PURGE_EVENT = "audit_purge"


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

    if retention_days is None:
        retention_days = _retention_source() if _retention_source else settings.PB_AUDIT_RETENTION_DAYS
    retention_days = max(int(retention_days), settings.PB_AUDIT_RETENTION_DAYS_MINIMUM)
    now = now or timezone.now()
    cutoff = now - timedelta(days=retention_days)
    with transaction.atomic():
        _lock_head()  # no event is appended while the purge runs
        # Only the oldest contiguous run of expired rows goes, so the remaining chain has no holes.
        first_kept = (
            AuditEvent.objects.filter(created_at__gte=cutoff).order_by("id").values_list("pk", flat=True).first()
        )
        expired = AuditEvent.objects.filter(created_at__lt=cutoff)
        if first_kept is not None:
            expired = expired.filter(pk__lt=first_kept)
        if not expired.exists():
            return 0
        # On PostgreSQL the append-only trigger lets DELETE through only for rows older than the
        # minimum retention (audit/migrations/0005): no session setting opens it.
        deleted, _ = expired.delete()
        anchor = AuditEvent.objects.order_by("id").values("pk", "prev_hash").first()
        audit_log(
            event=PURGE_EVENT,
            system_detail={
                "deleted": deleted,
                "before": cutoff.isoformat(),
                "retention_days": retention_days,
                "anchor_id": anchor["pk"] if anchor else None,
                "anchor_prev_hash": anchor["prev_hash"] if anchor else "",
            },
        )
    return deleted
