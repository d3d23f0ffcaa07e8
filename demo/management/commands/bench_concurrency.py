"""``python manage.py bench_concurrency``: the write path under concurrency (#17), rerunnable on a laptop.

Creates (or reuses) the PostgreSQL database ``pb_bench_concurrency`` next to ``DATABASE_URL``,
migrates it, seeds a small tree with one secretary login per writer and one org_admin login per
reader, starts ``gunicorn -w N`` on ``--port`` and one Celery worker against it (both stopped at
the end, by their own process ids), then: W writers record ``--writes`` meetings through the API
(each with an ``Idempotency-Key``; ``--double`` of them sent twice at once) while R readers poll the
root dashboard. Prints throughput, p50/p95/p99 and status counts per kind, then the verdicts:
``audit_verify`` and forked links, duplicated meetings, and the dashboard against a full recount.
Not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg2
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.concurrency import concurrency_seed, concurrency_verify, http, login, run_load, summary_rows
from demo.management.commands.bench import _server_url, _with_db


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants (Linux /proc; 0 elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    parents: dict[int, int] = {}
    usage: dict[int, float] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        usage[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    wanted, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent and child not in wanted]
        wanted.update(children)
        frontier.extend(children)
    return sum(usage.get(p, 0.0) for p in wanted)


class Command(BaseCommand):
    help = "并发写入基准：N 个书记经 API 录入会议、M 个组织部门轮询看板（gunicorn + Celery，PostgreSQL），输出吞吐、延迟分位与一致性结论"

    def add_arguments(self, parser):
        parser.add_argument("--writers", type=int, default=50)
        parser.add_argument("--readers", type=int, default=10)
        parser.add_argument("--writes", type=int, default=500, help="会议总数（分给各写入者）")
        parser.add_argument("--double", type=float, default=0.1, help="同时重复发送的请求比例（模拟双击）")
        parser.add_argument("--members", type=int, default=3000, help="临时库党员人数")
        parser.add_argument("--web-workers", type=int, default=4, help="gunicorn -w")
        parser.add_argument("--port", type=int, default=8104)
        parser.add_argument("--db", default="pb_bench_concurrency")
        parser.add_argument("--reuse", action="store_true", help="沿用已有临时库（不重建）")
        parser.add_argument("--drop", action="store_true", help="结束后删除临时库")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--inside-seed", default="", help="（内部使用）")
        parser.add_argument("--inside-verify", default="", help="（内部使用）")

    def handle(self, *args, **opts):
        if opts["inside_seed"]:
            plan = concurrency_seed(
                writers=opts["writers"], readers=opts["readers"], members=opts["members"], seed=opts["seed"]
            )
            Path(opts["inside_seed"]).write_text(json.dumps(plan), encoding="utf-8")
            return
        if opts["inside_verify"]:
            path = Path(opts["inside_verify"])
            verdict = concurrency_verify(keys_created=json.loads(path.read_text(encoding="utf-8"))["keys_created"])
            path.write_text(json.dumps(verdict), encoding="utf-8")
            return
        if opts["writers"] < 1 or opts["readers"] < 0 or opts["writes"] < opts["writers"]:
            raise CommandError("--writers 至少为 1，--writes 不少于 --writers")
        self._outside(**opts)

    def _outside(self, **opts: Any) -> None:
        server, name = _server_url(), opts["db"]
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
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "LOG_LEVEL": "WARNING",
        }
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        bin_dir = Path(sys.executable).parent
        processes: list[subprocess.Popen] = []
        try:
            subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)  # noqa: S603
            with tempfile.TemporaryDirectory() as scratch:
                plan_file = Path(scratch) / "plan.json"
                self.stdout.write(f"准备数据（{name}）…")
                subprocess.run(  # noqa: S603 - our own manage.py, validated ints
                    [*manage, "bench_concurrency", f"--inside-seed={plan_file}", f"--writers={opts['writers']}",
                     f"--readers={opts['readers']}", f"--members={opts['members']}", f"--seed={opts['seed']}"],
                    env=env, check=True,
                )  # fmt: skip
                plan = json.loads(plan_file.read_text(encoding="utf-8"))
                base = f"http://127.0.0.1:{opts['port']}"
                processes = self._start(bin_dir, env, opts)
                self._wait_ready(base, processes)
                for spec in plan["writers"] + plan["readers"]:
                    spec["token"] = login(base, spec["username"])
                load_before = os.getloadavg()
                cpu_before = [_cpu_seconds(p.pid) for p in processes]
                self.stdout.write(
                    f"运行：{len(plan['writers'])} 个写入者 × 共 {opts['writes']} 次会议录入（{opts['double']:.0%} 同时重复发送），"
                    f"{len(plan['readers'])} 个看板读取者；gunicorn -w {opts['web_workers']}，Celery worker ×1"
                )
                result = run_load(base=base, plan=plan, writes=opts["writes"], double=opts["double"], seed=opts["seed"])
                load_after = os.getloadavg()
                cpu = [
                    after - before
                    for before, after in zip(cpu_before, [_cpu_seconds(p.pid) for p in processes], strict=True)
                ]
                verdict, waited = self._verify(manage, env, Path(scratch), result.keys_created)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
            if opts["drop"]:
                with admin.cursor() as cursor:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
        self._print(result, verdict, waited, load_before, load_after)
        # CPU seconds the server processes used during the load, whatever else ran on the machine:
        # the figure to compare across runs on a shared machine (#20.3).
        writes = max(1, result.keys_created)
        self.stdout.write(
            f"服务器 CPU（负载期间）：gunicorn {cpu[0]:.1f} 秒（每次录入 {cpu[0] / writes * 1000:.0f} ms，含看板读取），"
            f"Celery worker {cpu[1]:.1f} 秒（每次录入 {cpu[1] / writes * 1000:.0f} ms：汇总刷新）"
        )

    def _start(self, bin_dir: Path, env: dict[str, str], opts: dict[str, Any]) -> list[subprocess.Popen]:
        web = subprocess.Popen(  # noqa: S603 - fixed arguments, validated ints
            [str(bin_dir / "gunicorn"), "config.wsgi", "-w", str(opts["web_workers"]), "-b",
             f"127.0.0.1:{opts['port']}", "--timeout", "120", "--log-level", "warning"],
            env=env, cwd=settings.BASE_DIR,
        )  # fmt: skip
        worker = subprocess.Popen(  # noqa: S603
            [str(bin_dir / "celery"), "-A", "config", "worker", "-c", "2", "-l", "WARNING", "-n", "bench@%h",
             "-Q", ",".join(settings.PB_CELERY_QUEUES)],
            env=env, cwd=settings.BASE_DIR,
        )  # fmt: skip
        return [web, worker]

    def _wait_ready(self, base: str, processes: list[subprocess.Popen]) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in processes):
                raise CommandError("gunicorn 或 Celery worker 启动失败")
            try:
                if http("GET", f"{base}/login/")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise CommandError("gunicorn 未在 90 秒内就绪")

    def _verify(self, manage: list[str], env: dict[str, str], scratch: Path, keys: int) -> tuple[dict, float]:
        """Run the verdicts inside the scratch database; retry while the worker still refreshes."""
        started = time.monotonic()
        path = scratch / "verify.json"
        while True:
            path.write_text(json.dumps({"keys_created": keys}), encoding="utf-8")
            subprocess.run([*manage, "bench_concurrency", f"--inside-verify={path}"], env=env, check=True)  # noqa: S603
            verdict = json.loads(path.read_text(encoding="utf-8"))
            waited = time.monotonic() - started
            if verdict["dashboard_diff"] == 0 or waited > 120:
                return verdict, waited
            time.sleep(5)

    def _print(self, result: Any, verdict: dict, waited: float, before: tuple, after: tuple) -> None:
        out = self.stdout.write
        out(f"\n用时 {result.seconds:.1f} 秒；负载（1/5/15 分钟）开始 {before[0]:.2f}/{before[1]:.2f}/{before[2]:.2f}，"
            f"结束 {after[0]:.2f}/{after[1]:.2f}/{after[2]:.2f}；{os.cpu_count()} 核")  # fmt: skip
        out("\n| 请求 | 次数 | 每秒 | p50 ms | p95 ms | p99 ms | 状态码 |\n|---|---:|---:|---:|---:|---:|---|")
        for kind, count, rate, p50, p95, p99, statuses in summary_rows(result):
            out(f"| {kind} | {count} | {rate:.1f} | {p50:.0f} | {p95:.0f} | {p99:.0f} | {statuses} |")
        for error in result.errors[:10]:
            out(f"连接错误：{error}")
        ok = "通过" if verdict["audit_broken"] == 0 and verdict["audit_forked"] == 0 else "未通过"
        out(
            f"\n审计链：{verdict['audit_rows']} 条，哈希不一致 {verdict['audit_broken']} 条，分叉 {verdict['audit_forked']} 处 → {ok}"
        )
        out(
            f"重复：成功录入 {result.keys_created} 次不同请求，库中会议 {verdict['meetings']} 条，重复 {verdict['duplicates']} 条"
        )
        out(f"看板与全量重算：{verdict['dashboard_diff']} 项不一致（等待后台刷新 {waited:.0f} 秒）")
