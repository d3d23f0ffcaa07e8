"""Alternating requests against both servers, timed at the client (connect → last byte).

Each request opens its own connection on both sides (gunicorn's sync workers close it anyway), so
the comparison counts the same work at the socket. Not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from demo.peer_compare.servers import HOST

SEARCH_TEXT = "浩"


@dataclass(frozen=True)
class Operation:
    label: str
    ours: str  # path + query on our server
    peer: str  # path + query on the peer
    note: str = ""


@dataclass
class Sample:
    ms: list[float]
    status: int
    items: int | None
    total: int | None
    size: int


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def get(port: int, path: str, headers: dict[str, str]) -> tuple[float, int, bytes]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    return (time.perf_counter() - started) * 1000, response.status, body


def _shape(body: bytes) -> tuple[int | None, int | None]:
    """(rows on the page, total) of a list answer, ours or the peer's."""
    try:
        data = json.loads(body)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    summary = data.get("summary")
    if isinstance(summary, dict):  # our dues collection: every member of the branch, no paging
        return len(data.get("members", [])), summary.get("members")
    for key in ("results", "members", "records", "fees"):
        if isinstance(data.get(key), list):
            return len(data[key]), data.get("count", data.get("total"))
    return None, None


def pick_targets(bench_url: str) -> dict[str, Any]:
    """The branch both sides list (its name unique, so the peer's exact-name filter finds the same
    people), the year of meetings and the month of dues."""
    import psycopg2

    with psycopg2.connect(bench_url) as conn, conn.cursor() as cursor:
        cursor.execute(
            """
            SELECT o.id, o.name, count(m.id) FROM organizations_organization o
            JOIN members_member m ON m.organization_id = o.id
            WHERE o.org_type = 'branch'
              AND (SELECT count(*) FROM organizations_organization x WHERE x.name = o.name) = 1
            GROUP BY o.id HAVING count(m.id) BETWEEN 40 AND 80
            ORDER BY o.path LIMIT 1
            """
        )
        org_id, org_name, members = cursor.fetchone()
        cursor.execute("SELECT max(month) FROM members_duesmonth WHERE organization_id = %s", [org_id])
        last_month = cursor.fetchone()[0]
    conn.close()
    month = date(last_month.year, last_month.month - 1, 1) if last_month.month > 1 else last_month
    return {"org_id": org_id, "org_name": org_name, "members": members, "year": last_month.year, "month": month}


def operations(targets: dict[str, Any]) -> list[Operation]:
    org, name, month = targets["org_id"], targets["org_name"], f"{targets['month']:%Y-%m}"
    return [
        Operation(
            "一个支部的党员，第 1 页（每页 20）",
            f"/api/v1/members/?{urlencode({'organization': org, 'page_size': 20})}",
            f"/api/v1/party/members?{urlencode({'party_branch': name, 'page_size': 20})}",
        ),
        Operation(
            f"姓名包含“{SEARCH_TEXT}”，第 1 页（每页 20）",
            f"/api/v1/members/?search={quote(SEARCH_TEXT)}&page_size=20",
            f"/api/v1/party/members?name={quote(SEARCH_TEXT)}&page_size=20",
        ),
        Operation(
            f"一个支部 {targets['year']} 年的会议",
            f"/api/v1/meetings/?{urlencode({'organization': org, 'year': targets['year'], 'page_size': 20})}",
            "/api/v1/party/organization-lives?page_size=20",
            "对方无支部、年份筛选：其全部组织生活记录第 1 页",
        ),
        Operation(
            f"一个支部 {month} 的党费（收缴情况，含欠缴月数）",
            f"/api/v1/dues/collection/?{urlencode({'organization': org, 'month': month})}",
            f"/api/v1/party/fees?{urlencode({'fee_month': month, 'page_size': 20})}",
            "对方无支部筛选：该月全部党费记录第 1 页",
        ),
        Operation(
            f"一个支部 {month} 的党费台账（列表）",
            f"/api/v1/dues/ledger/?{urlencode({'organization': org, 'month': month, 'page_size': 20})}",
            f"/api/v1/party/fees?{urlencode({'fee_month': month, 'page_size': 20})}",
            "同上",
        ),
    ]


def alternate(
    op: Operation, *, ours: tuple[int, dict], peer: tuple[int, dict], runs: int, warm: int = 5
) -> tuple[Sample, Sample]:
    """``runs`` requests to each side, alternating (which side goes first swaps every round)."""
    sides = {"ours": (ours, op.ours), "peer": (peer, op.peer)}
    results: dict[str, Sample] = {}
    for key, ((port, headers), path) in sides.items():
        for _ in range(warm):
            get(port, path, headers)
        _, status, body = get(port, path, headers)
        items, total = _shape(body)
        results[key] = Sample(ms=[], status=status, items=items, total=total, size=len(body))
    for i in range(runs):
        order = ("ours", "peer") if i % 2 == 0 else ("peer", "ours")
        for key in order:
            (port, headers), path = sides[key]
            ms, status, _ = get(port, path, headers)
            if status != 200:
                raise RuntimeError(f"{key} {path}: HTTP {status}")
            results[key].ms.append(ms)
    return results["ours"], results["peer"]


def concurrent(port: int, path: str, headers: dict[str, str], *, clients: int, per_client: int) -> tuple[float, float]:
    """``clients`` threads each sending ``per_client`` requests back to back: (req/s, p95 ms)."""
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        mine = []
        for _ in range(per_client):
            ms, status, _ = get(port, path, headers)
            mine.append(ms)
            if status != 200:
                errors.append(status)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{path}: {len(errors)} 个请求失败（{sorted(set(errors))}）")
    return len(latencies) / wall, pct(latencies, 0.95)


def table(rows: list[tuple[Operation, Sample, Sample]]) -> list[str]:
    lines = [
        "| 操作 | 本系统 p50 | 对方 p50 | 本系统 p95 | 对方 p95 | 本系统/对方 | 本系统行数/总数 | 对方行数/总数 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for op, ours, peer in rows:
        o50, p50 = statistics.median(ours.ms), statistics.median(peer.ms)
        lines.append(
            f"| {op.label} | {o50:.1f} ms | {p50:.1f} ms | {pct(ours.ms, 0.95):.1f} ms | {pct(peer.ms, 0.95):.1f} ms "
            f"| **{o50 / p50:.2f}** | {ours.items}/{ours.total} | {peer.items}/{peer.total} |"
        )
    return lines
