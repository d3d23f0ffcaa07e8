"""The concurrent write-path load scenario of ``manage.py bench_concurrency`` (#17).

Three parts, each run where it belongs:

- ``concurrency_seed`` (inside the scratch database): a small tree from ``bench_build``, one
  secretary login per writer on its own branch, one org_admin login per reader on the root, and the
  summary tables rebuilt so the run starts from a recount;
- ``run_load`` (plain HTTP against a running gunicorn): writers record meetings through the API,
  each with an ``Idempotency-Key`` (a share of them sent twice at once, as a double tap; a request
  that fails with 5xx or a dropped connection is retried with the same key, as a phone would),
  while readers poll the root dashboard and the lost-update probe runs: pairs of clients load the
  same meeting and both save it (``PUT`` with their ``If-Match``), one changing the title, the
  other the place;
- ``concurrency_verify`` (inside the scratch database, after the worker drained): the audit chain
  (``audit_verify``, forked links), duplicated meetings, created meetings missing, silent losses of
  the probe (a 2xx whose change is not in the final row), and the dashboard against a recount.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count

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
PROBE_TITLE = "冲突探测会议"
RETRIES = 6  # attempts of one write when the server answers 5xx or drops the connection (a restart)
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
    titles_created: list[str] = field(default_factory=list)
    gave_up: int = 0  # writes still failing after RETRIES attempts
    errors: list[str] = field(default_factory=list)
    probe: list[dict[str, Any]] = field(default_factory=list)  # one row per probe save
    probe_pairs: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.samples.setdefault(kind, []).append(seconds)
            self.statuses.setdefault(kind, Counter())[status] += 1


def http_full(
    method: str, url: str, *, token: str = "", body: Any = None, key: str = "", if_match: str = ""
) -> tuple[int, Any, dict[str, str]]:
    """One request with the standard library (no client dependency): (status, parsed JSON or
    None, response headers)."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    if key:
        headers["Idempotency-Key"] = key
    if if_match:
        headers["If-Match"] = if_match
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode("utf-8"), "application/json"
    request = Request(url, data=data, headers=headers, method=method)  # noqa: S310 - http://127.0.0.1 only
    try:
        with urlopen(request, timeout=120) as response:  # noqa: S310
            status, raw, got = response.status, response.read(), dict(response.headers)
    except HTTPError as exc:
        status, raw, got = exc.code, exc.read(), dict(exc.headers or {})
    try:
        return status, json.loads(raw) if raw else None, got
    except ValueError:
        return status, None, got


def http(method: str, url: str, *, token: str = "", body: Any = None, key: str = "") -> tuple[int, Any]:
    """``http_full`` without the headers: (status, parsed JSON or None)."""
    status, data, _headers = http_full(method, url, token=token, body=body, key=key)
    return status, data


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


def _transient(status: int) -> bool:
    """A failure a client retries with the same Idempotency-Key: 5xx (503 while the database
    restarts), 409 (the same key still in flight), or 0 for a dropped connection."""
    return status == 0 or status == 409 or status >= 500


def _send(result: LoadResult, kind: str, method: str, url: str, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
    """One attempt, timed and counted under ``kind``; a dropped connection is status 0."""
    started = time.perf_counter()
    try:
        status, data, headers = http_full(method, url, **kwargs)
    except OSError as exc:  # URLError, a reset connection: the server went away mid-request
        status, data, headers = 0, None, {}
        with result.lock:
            if len(result.errors) < 50:
                result.errors.append(f"{kind}: {exc}")
    result.add(kind, status, time.perf_counter() - started)
    return status, data, headers


def _post(result: LoadResult, kind: str, token: str, base: str, body: dict[str, Any], key: str) -> int | None:
    """Record a meeting, retrying a transient failure with the same key; the new id or None."""
    for attempt in range(RETRIES):
        status, data, _ = _send(
            result, kind if attempt == 0 else "write (retry)", "POST", f"{base}/api/v1/meetings/",
            token=token, body=body, key=key,
        )  # fmt: skip
        if status == 201:
            return (data or {}).get("id")
        if not _transient(status):
            return None
        time.sleep(min(2.0, 0.25 * 2**attempt))
    with result.lock:
        result.gave_up += 1
    return None


def _writer(base: str, spec: dict[str, Any], count: int, double: float, rng: random.Random, result: LoadResult) -> None:
    token = spec["token"]
    twin = ThreadPoolExecutor(max_workers=2)
    try:
        for n in range(count):
            body, key = _meeting_body(spec, n), str(uuid.uuid4())
            if rng.random() < double:  # a double tap: the same request twice at once
                futures = [
                    twin.submit(_post, result, "write", token, base, body, key),
                    twin.submit(_post, result, "write (double tap)", token, base, body, key),
                ]
                ids = [f.result() for f in futures]
            else:
                ids = [_post(result, "write", token, base, body, key)]
            created = {pk for pk in ids if pk is not None}
            if created:
                with result.lock:
                    result.created |= created
                    result.keys_created += 1
                    result.titles_created.append(body["title"])
    finally:
        twin.shutdown()


def _probe(base: str, spec: dict[str, Any], pairs: int, writing: threading.Event, result: LoadResult) -> None:
    """The lost-update probe: ``pairs`` times, create a draft meeting, let two clients load it
    (each keeps its ETag), then both save at once — one a new title, the other a new place, each
    sending the whole record as loaded. With versions exactly one save wins and the other gets
    412; a 2xx whose change is missing from the final row is a silent loss (counted at verify).
    Pairs are spread over the load so the faults hit some of them."""
    token, twin = spec["token"], ThreadPoolExecutor(max_workers=2)
    try:
        for k in range(pairs):
            body = {**_meeting_body(spec, 100_000 + k), "finish": False, "title": f"{PROBE_TITLE} {k}"}
            pk = _post(result, "probe create", token, base, body, str(uuid.uuid4()))
            if pk is None:
                continue
            url = f"{base}/api/v1/meetings/{pk}/"
            tags = [_send(result, "probe load", "GET", url, token=token)[2].get("ETag", "") for _ in range(2)]
            saves = [
                ("title", {**body, "title": f"{PROBE_TITLE} {k} 甲改"}),
                ("place", {**body, "place": f"乙改的地点 {k}"}),
            ]
            futures = [
                twin.submit(_send, result, "probe save", "PUT", url, token=token, body=changed, if_match=tag)
                for (_field, changed), tag in zip(saves, tags, strict=True)
            ]
            rows = [
                {"meeting": pk, "field": name, "value": changed[name], "status": future.result()[0]}
                for (name, changed), future in zip(saves, futures, strict=True)
            ]
            with result.lock:
                result.probe.extend(rows)
                result.probe_pairs += 1
            if writing.is_set():
                time.sleep(0.5)
    finally:
        twin.shutdown()


def _reader(base: str, token: str, root: int, stop: threading.Event, result: LoadResult) -> None:
    while not stop.is_set():
        status, _, _ = _send(
            result, "dashboard read", "GET", f"{base}/api/v1/organizations/{root}/dashboard/", token=token
        )
        if status == 0:
            time.sleep(0.5)  # the server dropped the connection: try again shortly


def run_load(
    *, base: str, plan: dict[str, Any], writes: int, double: float, seed: int, probe_pairs: int = 0
) -> LoadResult:
    """``writes`` meetings in all, shared by the writers; readers poll until the writers finish;
    the lost-update probe runs its ``probe_pairs`` alongside."""
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
    writing = threading.Event()
    writing.set()
    probe = threading.Thread(target=_probe, args=(base, plan["writers"][0], probe_pairs, writing, result))
    started = time.perf_counter()
    for thread in [*readers, *writers, probe]:
        thread.start()
    for thread in writers:
        thread.join()
    writing.clear()
    probe.join()
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


def probe_losses(rows: list[dict[str, Any]]) -> dict[str, int]:
    """The probe's verdict from the final rows: saves answered 2xx whose value is not there (silent
    losses), saves answered 412, and pairs where both saves were answered 2xx."""
    final = {m.pk: m for m in Meeting.objects.filter(pk__in={row["meeting"] for row in rows})}
    ok_per_pair: dict[int, int] = defaultdict(int)
    lost = refused = 0
    for row in rows:
        if 200 <= row["status"] < 300:
            ok_per_pair[row["meeting"]] += 1
            meeting = final.get(row["meeting"])
            lost += meeting is None or getattr(meeting, row["field"]) != row["value"]
        refused += row["status"] == 412
    return {"lost": lost, "refused": refused, "both_saved": sum(1 for n in ok_per_pair.values() if n == 2)}


def concurrency_verify(*, titles_created: list[str], probe: list[dict[str, Any]]) -> dict[str, Any]:
    broken = audit_verify()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) - count(DISTINCT prev_hash) FROM audit_auditevent")
        forked = cursor.fetchone()[0]
    meetings = Meeting.objects.filter(title__startswith=TITLE)
    counts = dict(meetings.values_list("title").annotate(n=Count("id")).values_list("title", "n"))
    return {
        "audit_rows": AuditEvent.objects.count(),
        "audit_broken": len(broken),
        "audit_forked": forked,
        "meetings": sum(counts.values()),
        # the same request stored twice (a double tap, or a retry after a lost answer)
        "duplicates": sum(n - 1 for n in counts.values()),
        # answered 201, not in the database
        "missing": sum(1 for title in set(titles_created) if title not in counts),
        **{f"probe_{name}": value for name, value in probe_losses(probe).items()},
        "dashboard_diff": dashboard_recount_diff(),
    }
