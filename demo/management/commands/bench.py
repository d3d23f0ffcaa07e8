"""``python manage.py bench``: build a data set at a given scale on PostgreSQL in a scratch
database, time the dashboards and the pages around them, and print one table.

The command creates (or reuses, with ``--reuse``) the database ``pb_bench_<members>`` on the
PostgreSQL server of ``BENCH_DATABASE_URL`` / ``DATABASE_URL`` (default
postgres://postgres@127.0.0.1:5432/), migrates it, then runs itself again inside it (``--inside``)
so every measurement uses an ordinary Django connection. Timings are server time through Django's
test client (no network), after warm-up runs. Not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from activities.selectors import meeting_roster
from activities.services.inputs import AttendanceInput, MeetingInput
from activities.services.meetings import meeting_save
from core.dates import today
from dashboard.facts import FAMILIES, facts_rebuild, facts_refresh
from organizations.models import Organization

EXTRAS = {
    "import": "bench_import",
    "reminders": "bench_reminders",
    "reports": "bench_reports",
}


def _server_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    return url


def _with_db(url: str, name: str) -> str:
    parsed = urlparse(url)
    return parsed._replace(path=f"/{name}").geturl()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


class Command(BaseCommand):
    help = "性能基准：在 PostgreSQL 临时库中按规模生成数据，测量统计看板等页面，输出一张表"

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=100_000, help="党员（含申请人等）人数")
        parser.add_argument("--orgs", type=int, default=0, help="党组织数（默认 人数 ÷ 20）")
        parser.add_argument("--runs", type=int, default=30, help="每个场景测量次数")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--attendance-days", type=int, default=30, help="生成最近多少天会议的出席记录")
        parser.add_argument("--reuse", action="store_true", help="库已存在且有数据时直接测量，不重建")
        parser.add_argument("--drop", action="store_true", help="结束后删除临时库")
        parser.add_argument("--rebuild-facts", action="store_true", help="（与 --reuse 一起）测量前重建汇总表")
        parser.add_argument("--db", default="", help="临时库名（默认 pb_bench_<人数>）")
        parser.add_argument(
            "--extra", default="", help="逗号分隔：seed,import,reminders,reports（存在对应命令时一并测量）"
        )
        parser.add_argument("--inside", action="store_true", help="（内部使用）已在临时库中运行")

    def handle(self, *args, **opts):
        if opts["members"] < 1 or opts["runs"] < 1:
            raise CommandError("--members 和 --runs 至少为 1")
        opts["orgs"] = opts["orgs"] or max(50, opts["members"] // 20)
        if opts["inside"]:
            return self._inside(**opts)
        return self._outside(**opts)

    # --- outer process: the scratch database ---------------------------------------------------

    def _outside(self, **opts: Any) -> None:
        import psycopg2

        server = _server_url()
        name = opts["db"] or f"pb_bench_{opts['members']}"
        if not name.replace("_", "").isalnum():
            raise CommandError("--db 只能包含字母、数字和下划线")
        admin = psycopg2.connect(_with_db(server, "postgres"))
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cursor.fetchone() is not None
            if exists and not opts["reuse"]:
                cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                exists = False
            if not exists:
                cursor.execute(f'CREATE DATABASE "{name}"')
        env = {
            **os.environ,
            "DATABASE_URL": _with_db(server, name),
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DEBUG": "false",
            "PB_REQUIRE_2FA": "false",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "LOG_LEVEL": "WARNING",
        }
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)  # noqa: S603
        argv = [
            *manage,
            "bench",
            "--inside",
            f"--members={opts['members']}",
            f"--orgs={opts['orgs']}",
            f"--runs={opts['runs']}",
            f"--seed={opts['seed']}",
            f"--attendance-days={opts['attendance_days']}",
            f"--extra={opts['extra']}",
        ] + (["--rebuild-facts"] if opts["rebuild_facts"] else [])
        try:
            subprocess.run(argv, env=env, check=True)  # noqa: S603 - our own manage.py, validated ints
        finally:
            if opts["drop"]:
                with admin.cursor() as cursor:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.close()

    # --- inner process: build and measure -------------------------------------------------------

    def _inside(self, **opts: Any) -> None:
        from django.db import connection

        from demo.bench_data import bench_build

        if connection.vendor != "postgresql":
            raise CommandError("基准测试需要 PostgreSQL")
        scale = f"{opts['members']:,} 人 / {opts['orgs']:,} 组织"
        extras = [e.strip() for e in opts["extra"].split(",") if e.strip()]
        build = None
        if not Organization.objects.exists():
            self.stdout.write(f"生成数据：{scale} …")
            build = bench_build(
                n_orgs=opts["orgs"],
                n_members=opts["members"],
                seed=opts["seed"],
                attendance_days=opts["attendance_days"],
            )
            for step, seconds, rows in build.timings:
                self.stdout.write(f"  {step:<16} {rows:>12,} 行  {seconds:8.1f} 秒")
        elif opts["rebuild_facts"]:

            started = time.perf_counter()
            count = facts_rebuild(reason="bench")
            self.stdout.write(f"重建汇总表：{count:,} 行，{time.perf_counter() - started:.1f} 秒")
        rows = self._measure(opts["runs"], scale)
        if build is not None:
            for step, seconds, _rows in build.timings:
                if step == "汇总表全量重建":
                    rows.append(("汇总表全量重建（Celery 任务）", scale, seconds * 1000, seconds * 1000, None, None))
            if "seed" in extras:
                total = sum(seconds for _, seconds, _ in build.timings)
                rows.append(("生成全部数据（seed）", scale, total * 1000, total * 1000, None, None))
        self._print(rows)
        for extra in extras:
            command = EXTRAS.get(extra)
            if command is None:
                continue
            if command in get_commands():
                self.stdout.write(f"\n== {command} ==")
                call_command(command, stdout=self.stdout)
            else:
                self.stdout.write(f"\n（未找到 {command} 命令，跳过 {extra}）")

    def _time(self, func: Callable[[], Any], runs: int, warm: int = 3) -> tuple[list[float], int]:
        from django.db import connection, reset_queries
        from django.test.utils import CaptureQueriesContext

        for _ in range(warm):
            func()
        with CaptureQueriesContext(connection) as captured:
            func()
        query_count = len(captured.captured_queries)
        reset_queries()
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            func()
            samples.append((time.perf_counter() - started) * 1000)
        return samples, query_count

    def _raw(self, sql: str, params: list[Any], runs: int) -> float:
        from django.db import connection

        samples = []
        with connection.cursor() as cursor:
            for i in range(runs + 2):
                started = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                if i >= 2:
                    samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)

    def _measure(self, runs: int, scale: str) -> list[tuple]:
        from django.contrib.auth import get_user_model
        from django.db import transaction
        from django.test import Client


        User = get_user_model()
        admin = User.objects.get(username="bench_admin")
        secretary = User.objects.get(username="bench_secretary")
        root = Organization.objects.get(depth=1)
        city = Organization.objects.filter(depth=2).order_by("path").first()
        branch = secretary.roles.get().organization
        client = Client()
        client.force_login(admin)
        members_sql = (
            "SELECT m.stage, count(*) FROM members_member m JOIN organizations_organization o "
            "ON o.id = m.organization_id WHERE o.path LIKE %s AND m.membership_status = 'normal' GROUP BY m.stage"
        )
        list_sql = (
            "SELECT m.id, m.name, o.name FROM members_member m JOIN organizations_organization o "
            "ON o.id = m.organization_id WHERE o.path LIKE %s ORDER BY o.path, m.name, m.id LIMIT 50"
        )
        children_sql = (
            "SELECT o.id, count(m.id) FROM organizations_organization o LEFT JOIN members_member m "
            "ON m.organization_id = o.id AND m.membership_status = 'normal' "
            "WHERE o.path LIKE %s AND o.depth = %s GROUP BY o.id"
        )
        rows: list[tuple] = []

        def page(label: str, url: str, raw: tuple[str, list[Any]] | None, **params: Any) -> None:
            def call() -> None:
                response = client.get(url, params)
                if response.status_code != 200:
                    raise CommandError(f"{label}: HTTP {response.status_code}")

            samples, queries = self._time(call, runs)
            raw_ms = self._raw(raw[0], raw[1], runs) if raw else None
            rows.append((label, scale, statistics.median(samples), _pct(samples, 0.95), queries, raw_ms))

        year, quarter = today().year, (today().month - 1) // 3 + 1
        period = {"year": year, "quarter": quarter}
        page("统计看板（根组织）", f"/organizations/{root.pk}/dashboard/", (members_sql, [f"{root.path}%"]), **period)
        page("统计看板（地市工委）", f"/organizations/{city.pk}/dashboard/", (members_sql, [f"{city.path}%"]), **period)
        page(
            "统计看板 API（根组织）",
            f"/api/v1/organizations/{root.pk}/dashboard/",
            (members_sql, [f"{root.path}%"]),
            **period,
        )
        page(
            "下钻名单：根组织正式党员",
            f"/organizations/{root.pk}/dashboard/members/",
            (list_sql, [f"{root.path}%"]),
            metric="stage",
            value="full",
            **period,
        )
        page("党员列表（按地市子树筛选）", "/members/", (list_sql, [f"{city.path}%"]), org=city.pk)
        page("组织页（根组织）", f"/organizations/{root.pk}/", (children_sql, [f"{root.path}%", root.depth + 1]))
        page("组织页（地市工委）", f"/organizations/{city.pk}/", (children_sql, [f"{city.path}%", city.depth + 1]))
        page("组织页（支部）", f"/organizations/{branch.pk}/", (children_sql, [f"{branch.path}%", branch.depth + 1]))

        # Recording a meeting: the service the meeting form posts to, with the summary refresh that
        # runs after the commit (what the user waits for).

        held_on = today() - timedelta(days=1)
        roster = meeting_roster(organization=branch, on=held_on, meeting_type="theme_day")
        attendance = [
            AttendanceInput(member_id=p.member_id, position_id=p.position.pk if p.position else None, status="present")
            for p in roster.expected
        ]

        def record() -> None:
            with transaction.atomic():
                meeting_save(
                    user=secretary,
                    organization=branch,
                    finish=True,
                    attendance=attendance,
                    resolutions=[],
                    data=MeetingInput(meeting_type="theme_day", title="基准测试主题党日", held_on=held_on),
                )

        samples, queries = self._time(record, runs)
        rows.append(
            ("记录会议（保存 + 汇总刷新）", scale, statistics.median(samples), _pct(samples, 0.95), queries, None)
        )
        samples, queries = self._time(lambda: facts_refresh(org_ids=[branch.pk], families=["life"]), runs)
        rows.append(
            ("汇总刷新：一个支部组织生活", scale, statistics.median(samples), _pct(samples, 0.95), queries, None)
        )
        samples, queries = self._time(lambda: facts_refresh(org_ids=[branch.pk], families=list(FAMILIES)), runs)
        rows.append(
            ("汇总刷新：一个支部全部指标", scale, statistics.median(samples), _pct(samples, 0.95), queries, None)
        )
        return rows

    def _print(self, rows: list[tuple]) -> None:
        header = ("场景", "规模", "p50 ms", "p95 ms", "SQL 次数", "原始SQL ms", "比值")
        table = [header]
        for label, scale, p50, p95, queries, raw in rows:
            ratio = f"{p50 / raw:.1f}" if raw else "—"
            table.append(
                (
                    label,
                    scale,
                    f"{p50:.1f}",
                    f"{p95:.1f}",
                    "—" if queries is None else str(queries),
                    "—" if raw is None else f"{raw:.1f}",
                    ratio,
                )
            )

        def width(text: str) -> int:
            return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

        widths = [max(width(row[i]) for row in table) for i in range(len(header))]
        lines = []
        for n, row in enumerate(table):
            cells = [cell + " " * (widths[i] - width(cell)) for i, cell in enumerate(row)]
            lines.append("| " + " | ".join(cells) + " |")
            if n == 0:
                lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        self.stdout.write("\n".join(lines))
        self.stdout.write(
            "比值 = 页面 p50 ÷ 同一数据上主聚合原始 SQL 的中位时间（看板读汇总表，原始 SQL 扫描明细行）。"
        )
        load = os.getloadavg()
        self.stdout.write(
            f"测量时机器负载（1/5/15 分钟平均）：{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}，CPU {os.cpu_count()} 核"
        )
