"""Writers appending to the audit chain from several threads at once (PostgreSQL), and what the
chain must look like afterwards: as many rows, no two with the same predecessor, every hash right,
the head on the newest row."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection

from audit.models import AuditChainHead, AuditEvent
from audit.services import audit_verify


def run_writers(write: Callable[[int, int], None], *, writers: int = 8, writes: int = 15) -> None:
    """``write(writer, i)`` ``writes`` times in each of ``writers`` threads started together."""
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            barrier.wait()
            for i in range(writes):
                write(number, i)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def assert_one_linear_chain(event: str, rows: int) -> None:
    prev_hashes = list(AuditEvent.objects.filter(event=event).values_list("prev_hash", flat=True))
    assert len(prev_hashes) == rows
    assert len(set(prev_hashes)) == rows  # no two events share a predecessor: no fork
    assert audit_verify() == []
    head = AuditChainHead.objects.get(pk=1)
    newest = AuditEvent.objects.order_by("-id").first()
    assert (head.last_id, head.last_hash) == (newest.pk, newest.row_hash)
