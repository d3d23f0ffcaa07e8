"""cProfile of our side of each compared operation, in one process (Django test client, token auth,
the bench database): where the server time goes, and how many queries each request makes."""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import time

from demo.peer_compare.measure import operations, pick_targets


def profile_ours(bench_url: str, *, runs: int = 50, top: int = 25) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from accounts.services.tokens import token_issue  # import-here: with the Django imports above, once set up

    admin = get_user_model().objects.get(username="bench_admin")
    _row, key = token_issue(user=admin, via="bench")
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    for op in operations(pick_targets(bench_url)):
        path = op.ours
        for _ in range(3):
            assert client.get(path).status_code == 200, path  # noqa: S101 - a bench script, not app code
        captured: list[tuple[float, str]] = []

        def record(execute, sql, params, many, context, captured=captured):  # noqa: ANN001 - Django's wrapper signature
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                captured.append(((time.perf_counter() - started) * 1000, sql))

        with connection.execute_wrapper(record):
            client.get(path)
        samples = []
        profiler = cProfile.Profile()
        for _ in range(runs):
            started = time.perf_counter()
            profiler.enable()
            client.get(path)
            profiler.disable()
            samples.append((time.perf_counter() - started) * 1000)
        print(f"\n== {op.label}: p50 {statistics.median(samples):.1f} ms, {len(captured)} 次 SQL")
        for ms, sql in captured:
            print(f"   {ms:6.1f} ms  {sql[:300]}")
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
            print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))
