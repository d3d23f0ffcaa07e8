"""The worker process of ``bench_reports``: started with multiprocessing's *spawn*, so this
module imports nothing of Django or the apps at import time (the child sets Django up first)."""

from __future__ import annotations

import os
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
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report_worker(queue: Any, results: Any, batch_id: int) -> None:
    """One worker process: set Django up, generate chunks until the queue is empty."""
    import django

    django.setup()
    from assessments.services.reports import report_generate_chunk  # import-here: after django.setup()

    started = time.perf_counter()
    totals = {"done": 0, "skipped": 0, "failed": 0}
    rss_after_setup = _peak_rss_mb()
    while True:
        ids = queue.get()
        if ids is None:
            break
        outcome = report_generate_chunk(batch_id=batch_id, report_ids=ids)
        for key, value in outcome.items():
            totals[key] += value
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    results.put(
        {
            "pid": os.getpid(),
            "seconds": time.perf_counter() - started,
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": _peak_rss_mb(),
            "rss_after_setup_mb": rss_after_setup,
            **totals,
        }
    )
