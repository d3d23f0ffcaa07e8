"""Several threads doing the same thing at the same moment (races on PostgreSQL's locks): released
together by a barrier, each with its own database connections (closed when it ends); an exception
in any of them fails the test in the main thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connections

T = TypeVar("T")


def run_together(work: Callable[[int], T], count: int, *, timeout: float = 60) -> list[T]:
    """``work(n)`` for n in ``range(count)``, each in its own thread, all started at once; the
    results in thread order."""
    barrier = threading.Barrier(count)
    results: list[T | None] = [None] * count
    errors: list[BaseException] = []

    def run(number: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[number] = work(number)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    assert errors == [], errors
    return results  # type: ignore[return-value]
