"""The "固定开销" scenario of ``manage.py bench`` (#20.1): what one authenticated API call costs
before it does any work of its own.

The call reads one small object — the secretary's own branch, ``GET /api/v1/organizations/{id}/``
(one row, two SQL statements of its own: the organization with its flag annotations and its
parent's id). Everything else the server spends on it is fixed cost: middleware, the session,
authentication (token or session), the access gate's scope, DRF's dispatch and the renderer.

Measured twice, as a client would call it: with an API token (``Authorization: Token …``, obtained
through ``POST /api/v1/auth/token/`` like any client, so the scenario does not depend on how tokens
are stored), and with a logged-in session (the pages' own fetches). ``--profile`` prints where the
time of the token call goes (cProfile over the same requests; never in production).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.test import Client

from demo.bench_data import BENCH_PASSWORD

USERNAME = "bench_secretary"
LOGIN_URL = "/api/v1/auth/token/"  # the API login that hands out a token

Timer = Callable[[Callable[[], Any], int], tuple[list[float], int]]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _object_url() -> tuple[str, int]:
    """The secretary's branch: the one small object every scenario reads."""
    user = get_user_model().objects.get(username=USERNAME)
    branch = user.roles.get().organization
    return f"/api/v1/organizations/{branch.pk}/", branch.pk


def token_client() -> Client:
    """A client holding an API token, obtained the way a client does (the token login)."""
    client = Client()
    response = client.post(
        LOGIN_URL, {"username": USERNAME, "password": BENCH_PASSWORD}, content_type="application/json"
    )
    if response.status_code != 200:
        raise CommandError(f"令牌登录失败：HTTP {response.status_code} {response.content[:200]!r}")
    return Client(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")


def session_client() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=USERNAME))
    return client


def _call(client: Client, url: str, label: str) -> Callable[[], None]:
    def call() -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise CommandError(f"{label}: HTTP {response.status_code}")

    return call


def _raw_object_ms(org_id: int, runs: int) -> float:
    """The object's own row, read with one plain SELECT (the floor under the fixed cost)."""
    import time

    from django.db import connection

    samples = []
    with connection.cursor() as cursor:
        for i in range(runs + 2):
            started = time.perf_counter()
            cursor.execute("SELECT * FROM organizations_organization WHERE id = %s", [org_id])
            cursor.fetchall()
            if i >= 2:
                samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def fixed_cost_rows(*, runs: int, scale: str, timer: Timer) -> list[tuple]:
    """Rows for bench's table: (label, scale, p50 ms, p95 ms, queries, raw SQL ms)."""
    url, org_id = _object_url()
    raw = _raw_object_ms(org_id, runs)
    rows = []
    for label, client in (
        ("固定开销：令牌认证读一个组织（API）", token_client()),
        ("固定开销：会话认证读一个组织（API）", session_client()),
    ):
        samples, queries = timer(_call(client, url, label), max(runs, 100))
        rows.append((label, scale, statistics.median(samples), _pct(samples, 0.95), queries, raw))
    return rows


def fixed_cost_profile(*, runs: int = 300, limit: int = 30) -> str:
    """cProfile of the token call: the functions that take the time, by cumulative time."""
    url, _org_id = _object_url()
    call = _call(token_client(), url, "profile")
    for _ in range(5):
        call()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        call()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(limit)
    stats.sort_stats("tottime").print_stats(limit)
    return f"（{runs} 次调用的累计时间，单位秒）\n" + out.getvalue()
