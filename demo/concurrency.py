"""The concurrent write-path load scenario of ``manage.py bench_concurrency`` (#17).

Three parts, each run where it belongs:

- ``concurrency_seed`` (inside the scratch database): a small tree from ``bench_build``, one
  secretary login per writer on its own branch, one org_admin login per reader on the root, and the
  summary tables rebuilt so the run starts from a recount;
- ``run_load`` (plain HTTP against a running gunicorn): writers record meetings through the API,
  each with an ``Idempotency-Key`` (a share of them sent twice at once, as a double tap), while
  readers poll the root dashboard;
- ``concurrency_verify`` (inside the scratch database, after the worker drained): the audit chain
  (``audit_verify``, forked links), duplicated meetings, and the dashboard against a recount.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from activities.choices import MeetingType
from activities.models import Meeting
from activities.selectors import meeting_roster
from audit.models import AuditEvent
from audit.services import audit_verify
from core.dates import today
from core.roles import Role
from dashboard.facts import facts_rebuild
from dashboard.models import DashboardFact
from demo.bench_data import bench_build
from organizations.choices import OrgType
from organizations.models import Organization, RoleAssignment

TITLE = "并发基准会议"
PASSWORD = "Bench!concurrency-2026"  # noqa: S105 - throw-away logins of a scratch database


# --- seed (inside the scratch database) -----------------------------------------------------------


def concurrency_seed(*, writers: int, readers: int, members: int, seed: int) -> dict[str, Any]:
    """Logins and rosters for the run; builds the tree first when the database is empty."""
    if not Organization.objects.exists():
        bench_build(n_orgs=max(60, writers * 3), n_members=max(members, writers * 40), seed=seed, attendance_days=0)
    root = Organization.get_root_nodes().order_by("path").first()
    on = today() - timedelta(days=1)
    User = get_user_model()
    plan: dict[str, Any] = {"root": root.pk, "writers": [], "readers": []}
    branches = Organization.objects.filter(org_type=OrgType.BRANCH).order_by("path")
    for branch in branches:
        if len(plan["writers"]) == writers:
            break
        roster = meeting_roster(organization=branch, on=on, meeting_type=MeetingType.GENERAL_ASSEMBLY)
        ids = [p.member_id for p in roster.expected if p.member_id]
        if len(ids) < 3:
            continue
        username = f"bench_w{len(plan['writers']):03d}"
        user = User.objects.filter(username=username).first() or User.objects.create_user(username, password=PASSWORD)
        RoleAssignment.objects.get_or_create(user=user, organization=branch, role=Role.SECRETARY)
        plan["writers"].append({"username": username, "org": branch.pk, "members": ids})
    for i in range(readers):
        username = f"bench_r{i:03d}"
        user = User.objects.filter(username=username).first() or User.objects.create_user(username, password=PASSWORD)
        RoleAssignment.objects.get_or_create(user=user, organization=root, role=Role.ORG_ADMIN)
        plan["readers"].append({"username": username})
    facts_rebuild()
    return plan


# --- load (HTTP against gunicorn) -----------------------------------------------------------------


@dataclass
class LoadResult:
    seconds: float = 0.0
    samples: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, Counter] = field(default_factory=dict)
    created: set[int] = field(default_factory=set)
    keys_created: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.samples.setdefault(kind, []).append(seconds)
            self.statuses.setdefault(kind, Counter())[status] += 1


def http(method: str, url: str, *, token: str = "", body: Any = None, key: str = "") -> tuple[int, Any]:
    """One request with the standard library (no client dependency): (status, parsed JSON or None)."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    if key:
        headers["Idempotency-Key"] = key
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode("utf-8"), "application/json"
    request = Request(url, data=data, headers=headers, method=method)  # noqa: S310 - http://127.0.0.1 only
    try:
        with urlopen(request, timeout=120) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def login(base: str, username: str) -> str:
    status, data = http("POST", f"{base}/api/v1/auth/token/", body={"username": username, "password": PASSWORD})
    if status != 200:
        raise RuntimeError(f"{username}: 登录失败（{status}）")
    return data["token"]


def _meeting_body(spec: dict[str, Any], n: int) -> dict[str, Any]:
    held_on = today() - timedelta(days=1 + n % 25)
    return {
        "organization": spec["org"],
        "meeting_type": "general_assembly",
        "title": f"{TITLE} {spec['username']}-{n}",
        "held_on": held_on.isoformat(),
        "start_time": "14:30",
        "end_time": "16:00",
        "place": "党员活动室",
        "finish": True,
        "attendance": [{"member_id": pk, "status": "present", "reason": ""} for pk in spec["members"]],
        "resolutions": [],
    }


def _post(token: str, base: str, body: dict[str, Any], key: str) -> tuple[int, float, int | None]:
    started = time.perf_counter()
    status, data = http("POST", f"{base}/api/v1/meetings/", token=token, body=body, key=key)
    elapsed = time.perf_counter() - started
    return status, elapsed, (data or {}).get("id") if status == 201 else None


def _writer(base: str, spec: dict[str, Any], count: int, double: float, rng: random.Random, result: LoadResult) -> None:
    token = spec["token"]
    twin = ThreadPoolExecutor(max_workers=2)
    try:
        for n in range(count):
            body, key = _meeting_body(spec, n), str(uuid.uuid4())
            if rng.random() < double:  # a double tap: the same request twice at once
                futures = [twin.submit(_post, token, base, body, key), twin.submit(_post, token, base, body, key)]
                outcomes = [f.result() for f in futures]
                kinds = ["write", "write (double tap)"]
            else:
                outcomes, kinds = [_post(token, base, body, key)], ["write"]
            ok = False
            for kind, (status, elapsed, pk) in zip(kinds, outcomes, strict=True):
                result.add(kind, status, elapsed)
                if pk is not None:
                    ok = True
                    with result.lock:
                        result.created.add(pk)
            if ok:
                with result.lock:
                    result.keys_created += 1
    except OSError as exc:  # URLError is an OSError
        with result.lock:
            result.errors.append(f"{spec['username']}: {exc}")
    finally:
        twin.shutdown()


def _reader(base: str, token: str, root: int, stop: threading.Event, result: LoadResult) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        try:
            status, _ = http("GET", f"{base}/api/v1/organizations/{root}/dashboard/", token=token)
        except OSError as exc:
            with result.lock:
                result.errors.append(f"reader: {exc}")
            return
        result.add("dashboard read", status, time.perf_counter() - started)


def run_load(*, base: str, plan: dict[str, Any], writes: int, double: float, seed: int) -> LoadResult:
    """``writes`` meetings in all, shared by the writers; readers poll until the writers finish."""
    result = LoadResult()
    rng = random.Random(seed)  # noqa: S311 - which requests are doubled, not a secret
    per_writer = [writes // len(plan["writers"]) + (1 if i < writes % len(plan["writers"]) else 0)
                  for i in range(len(plan["writers"]))]  # fmt: skip
    stop = threading.Event()
    readers = [
        threading.Thread(target=_reader, args=(base, r["token"], plan["root"], stop, result)) for r in plan["readers"]
    ]
    writers = [
        threading.Thread(target=_writer, args=(base, w, n, double, random.Random(rng.random()), result))  # noqa: S311
        for w, n in zip(plan["writers"], per_writer, strict=True)
    ]
    started = time.perf_counter()
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary_rows(result: LoadResult) -> list[tuple[str, int, float, float, float, float, str]]:
    """(kind, requests, per second, p50, p95, p99 in ms, status counts)."""
    rows = []
    for kind in sorted(result.samples):
        values = result.samples[kind]
        statuses = ", ".join(f"{code}×{n}" for code, n in sorted(result.statuses[kind].items()))
        rows.append(
            (
                kind,
                len(values),
                len(values) / result.seconds if result.seconds else 0.0,
                percentile(values, 0.50) * 1000,
                percentile(values, 0.95) * 1000,
                percentile(values, 0.99) * 1000,
                statuses,
            )
        )
    return rows


# --- verify (inside the scratch database) ---------------------------------------------------------


def _facts() -> dict[tuple, tuple[int, Decimal]]:
    rows = DashboardFact.objects.values_list(
        "organization_id", "cumulative", "family", "period", "metric", "dimension", "value", "amount"
    )
    return {row[:6]: (row[6], row[7]) for row in rows if row[6] or row[7]}


def dashboard_recount_diff() -> int:
    """How many summary figures differ from a full recount (computed in a rolled-back transaction)."""
    stored = _facts()
    with transaction.atomic():
        facts_rebuild()
        recount = _facts()
        transaction.set_rollback(True)
    return sum(1 for key in stored.keys() | recount.keys() if stored.get(key) != recount.get(key))


def concurrency_verify(*, keys_created: int) -> dict[str, Any]:
    broken = audit_verify()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) - count(DISTINCT prev_hash) FROM audit_auditevent")
        forked = cursor.fetchone()[0]
    meetings = Meeting.objects.filter(title__startswith=TITLE).count()
    return {
        "audit_rows": AuditEvent.objects.count(),
        "audit_broken": len(broken),
        "audit_forked": forked,
        "meetings": meetings,
        "duplicates": meetings - keys_created,
        "dashboard_diff": dashboard_recount_diff(),
    }
