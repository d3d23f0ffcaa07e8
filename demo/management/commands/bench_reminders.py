"""Benchmark the daily reminder scan (issue: 100,000 members and 10,000 organizations in under
60 s with one worker on PostgreSQL). Prints a table; never a timed test.

Run it on a scratch database:

    createdb pb_bench && export DATABASE_URL=postgres://postgres@127.0.0.1:5432/pb_bench
    python manage.py migrate && python manage.py seed_demo --orgs 10000 --members 100000
    python manage.py bench_reminders                # one process, rolled back afterwards
    python manage.py bench_reminders --worker       # also one real Celery worker (commits)

The in-process runs happen inside a transaction that is rolled back, so the database is left as
it was and nothing is enqueued. ``--worker`` needs committed rows: it clears the reminder tables
(dispatches, notifications, runs) of the scratch database first.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from core.dates import today
from members.choices import MembershipStatus, Stage
from members.models import Member
from notifications.management.commands.run_reminders import parse_date
from notifications.models import Notification, ReminderDispatch, ReminderRun, RunStatus
from notifications.services.runs import reminder_run_create, reminder_run_inline
from organizations.models import Organization


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "提醒扫描基准测试：按批扫描全部组织并打印用时表（建议在临时 PostgreSQL 数据库上运行）"

    def add_arguments(self, parser):
        parser.add_argument("--orgs", type=int, default=10000, help="数据库为空时用 seed_demo 生成的组织数")
        parser.add_argument("--members", type=int, default=100000, help="数据库为空时用 seed_demo 生成的党员数")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--date", dest="on", help="扫描日期 YYYY-MM-DD，默认今天")
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument(
            "--logins-percent", type=int, default=10, help="确保这一比例的党员有登录账号（政治生日、学时提醒才会发送）"
        )
        parser.add_argument("--worker", action="store_true", help="另外用 1 个真实 Celery worker 计时（会提交数据）")
        parser.add_argument("--timeout", type=int, default=600, help="worker 计时的最长等待秒数")

    def handle(self, *args, orgs, members, seed, on, batch_size, logins_percent, worker, timeout, **options):
        day = parse_date(on) if on else today()
        batch_size = batch_size or settings.PB_REMINDER_BATCH_SIZE
        if not 0 <= logins_percent <= 100:
            raise CommandError("--logins-percent 应在 0–100 之间")
        if not Organization.objects.exists():
            from demo.seed import seed_demo

            self.stdout.write(f"数据库为空：生成演示数据 {orgs} 个组织、{members} 名人员 …")
            seed_demo(n_orgs=orgs, n_members=members, seed=seed)
        added = self._ensure_logins(logins_percent)
        n_orgs, n_members = Organization.objects.count(), Member.objects.count()
        vendor = connection.vendor
        self.stdout.write(
            f"数据库 {vendor}（{connection.settings_dict.get('NAME')}）：{n_orgs} 个组织，{n_members} 名人员；"
            f"新增登录账号 {added} 个；扫描日期 {day}；每批 {batch_size} 个组织"
        )
        if vendor != "postgresql":
            self.stdout.write(self.style.WARNING("注意：目标数字针对 PostgreSQL。"))
        rows = self._inline(day, batch_size)
        if worker:
            rows.append(self._with_worker(day, batch_size, timeout))
        self._table(rows, n_orgs, n_members)

    # --- data -----------------------------------------------------------------------------------

    def _ensure_logins(self, percent: int) -> int:
        party = Member.objects.filter(
            stage__in=[Stage.PROBATIONARY, Stage.FULL], membership_status=MembershipStatus.NORMAL
        )
        wanted = party.count() * percent // 100
        have = party.filter(user__isnull=False).count()
        if have >= wanted:
            return 0
        User = get_user_model()
        ids = list(party.filter(user__isnull=True).order_by("pk").values_list("pk", flat=True)[: wanted - have])
        unusable = make_password(None)
        with transaction.atomic():
            User.objects.bulk_create(
                [User(username=f"bench_{pk}", password=unusable) for pk in ids], batch_size=5000, ignore_conflicts=True
            )
            by_name = dict(
                User.objects.filter(username__in=[f"bench_{pk}" for pk in ids]).values_list("username", "pk")
            )
            members = list(Member.objects.filter(pk__in=ids))
            for member in members:
                member.user_id = by_name[f"bench_{member.pk}"]
            Member.objects.bulk_update(members, ["user"], batch_size=5000)
        return len(ids)

    # --- in-process runs (rolled back) ------------------------------------------------------------

    def _inline(self, day: date, batch_size: int) -> list[tuple]:
        rows: list[tuple] = []
        try:
            with transaction.atomic():
                ReminderDispatch.objects.all().delete()
                for label in ("首次扫描（本进程）", "重复扫描（幂等，本进程）"):
                    started = time.perf_counter()
                    run = reminder_run_inline(on=day, trigger="bench", batch_size=batch_size)
                    elapsed = time.perf_counter() - started
                    rows.append(
                        (
                            label,
                            run.batch_count,
                            sum(run.batches.values_list("created_count", flat=True)),
                            Notification.objects.count(),
                            elapsed,
                        )
                    )
                raise _Rollback
        except _Rollback:
            pass
        return rows

    # --- one real worker ------------------------------------------------------------------------

    def _with_worker(self, day: date, batch_size: int, timeout: int) -> tuple:
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        with transaction.atomic():
            ReminderDispatch.objects.all().delete()
            ReminderRun.objects.all().delete()
        env = {**os.environ, "PB_REMINDER_SCAN_ON_START": "false"}
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--concurrency", "1",
            "-Q", queue, "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "-l", "warning",
        ]  # fmt: skip
        worker = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)  # noqa: S603
        try:
            time.sleep(3)  # let the worker connect before the clock starts
            started = time.perf_counter()
            run = reminder_run_create(on=day, trigger="bench", batch_size=batch_size, queue=queue)
            while True:
                run.refresh_from_db()
                if run.status in (RunStatus.DONE, RunStatus.FAILED):
                    break
                if time.perf_counter() - started > timeout:
                    raise CommandError(f"worker 在 {timeout} 秒内未完成扫描")
                if worker.poll() is not None:
                    raise CommandError("worker 进程意外退出")
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        return (
            "首次扫描（1 个 Celery worker）",
            run.batch_count,
            sum(run.batches.values_list("created_count", flat=True)),
            Notification.objects.count(),
            elapsed,
        )

    def _table(self, rows: list[tuple], n_orgs: int, n_members: int) -> None:
        header = ("场景", "组织", "党员", "批次", "新发提醒", "站内消息", "用时(秒)")
        lines = [header] + [(label, n_orgs, n_members, b, r, n, f"{s:.1f}") for label, b, r, n, s in rows]
        widths = [max(len(str(line[i])) for line in lines) + 2 for i in range(len(header))]
        self.stdout.write("")
        for index, line in enumerate(lines):
            self.stdout.write("".join(str(cell).ljust(widths[i]) for i, cell in enumerate(line)))
            if index == 0:
                self.stdout.write("-" * sum(widths))
        worst = max(s for *_, s in rows)
        verdict = "达标" if worst < 60 else "未达标"
        self.stdout.write(
            f"\n目标：10 万党员、1 万组织，单个 worker 扫描 < 60 秒。最慢一项 {worst:.1f} 秒（{verdict}）。"
        )
