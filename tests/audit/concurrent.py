"""Writers appending to the audit chain from several threads at once (PostgreSQL), and what the
chain must look like afterwards: as many rows, no two with the same predecessor, every hash right,
the head on the newest row."""

from __future__ import annotations

from collections.abc import Callable

from audit.models import AuditChainHead, AuditEvent
from audit.services import audit_verify
from tests.threads import run_together


def run_writers(write: Callable[[int, int], None], *, writers: int = 8, writes: int = 15) -> None:
    """``write(writer, i)`` ``writes`` times in each of ``writers`` threads started together."""

    def writer(number: int) -> None:
        for i in range(writes):
            write(number, i)

    run_together(writer, writers)


def assert_one_linear_chain(event: str, rows: int) -> None:
    prev_hashes = list(AuditEvent.objects.filter(event=event).values_list("prev_hash", flat=True))
    assert len(prev_hashes) == rows
    assert len(set(prev_hashes)) == rows  # no two events share a predecessor: no fork
    assert audit_verify() == []
    head = AuditChainHead.objects.get(pk=1)
    newest = AuditEvent.objects.order_by("-id").first()
    assert (head.last_id, head.last_hash) == (newest.pk, newest.row_hash)
