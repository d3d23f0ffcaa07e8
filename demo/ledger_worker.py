"""The worker process of ``bench_ledger``: started with multiprocessing's *spawn*, so this module
imports nothing of Django or the apps at import time (the child sets Django up first)."""

from __future__ import annotations

import os
import resource
import time
from typing import Any


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ledger_worker(queue: Any, results: Any, batch_id: int) -> None:
    """One worker process: set Django up, build 台账 chunks until the queue is empty."""
    import django

    django.setup()
    from assessments.ledger.batch import ledger_generate_chunk  # import-here: after django.setup()

    started = time.perf_counter()
    totals = {"done": 0, "failed": 0}
    while True:
        ids = queue.get()
        if ids is None:
            break
        for key, value in ledger_generate_chunk(batch_id=batch_id, org_ids=ids).items():
            totals[key] += value
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results.put(
        {
            "pid": os.getpid(),
            "seconds": time.perf_counter() - started,
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": _peak_rss_mb(),
            **totals,
        }
    )
