"""Worker processes for the batch benchmarks (``bench_reports``, ``bench_ledger``).

Started with multiprocessing's *spawn*: this module imports nothing of Django or the apps at import
time (each child sets Django up first). ``run_chunks`` hands out chunks of ids through a queue; each
child calls the batch's chunk function (``"module:function"``, its ids under ``ids_kw``) until the
queue is empty and reports its totals (``keys``, 0 where nothing happened), CPU time and memory.
"""

from __future__ import annotations

import importlib
import os
import resource
import time
from collections import Counter
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


def chunk_worker(queue: Any, results: Any, target: str, ids_kw: str, batch_id: int, keys: tuple) -> None:
    """One worker process: set Django up, run ``target`` on chunks until the queue is empty."""
    import django

    django.setup()
    module, name = target.split(":")
    generate = getattr(importlib.import_module(module), name)  # import-here: after django.setup()
    started = time.perf_counter()
    totals: Counter[str] = Counter(dict.fromkeys(keys, 0))  # every figure, also for an idle worker
    rss_after_setup = _peak_rss_mb()
    while True:
        ids = queue.get()
        if ids is None:
            break
        totals.update(generate(batch_id=batch_id, **{ids_kw: ids}))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results.put(
        {
            "pid": os.getpid(),
            "seconds": time.perf_counter() - started,
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "rss_after_setup_mb": rss_after_setup,
            "peak_rss_mb": _peak_rss_mb(),
            **totals,
        }
    )


def run_chunks(
    *, target: str, ids_kw: str, batch_id: int, chunks: list[list[int]], workers: int, keys: tuple = ("done", "failed")
) -> tuple[float, list]:
    """Run ``workers`` spawned processes over ``chunks``; the wall time and each one's figures."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue, results = ctx.Queue(), ctx.Queue()
    for ids in chunks:
        queue.put(ids)
    for _ in range(workers):
        queue.put(None)
    started = time.perf_counter()
    processes = [
        ctx.Process(target=chunk_worker, args=(queue, results, target, ids_kw, batch_id, keys)) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    stats = [results.get() for _ in processes]
    for process in processes:
        process.join()
    return time.perf_counter() - started, stats
