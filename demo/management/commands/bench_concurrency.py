"""``python manage.py bench_concurrency``: the write path under concurrency (#17), rerunnable on a laptop.

Creates (or reuses) the PostgreSQL database ``pb_bench_concurrency`` next to ``DATABASE_URL``,
migrates it, seeds a small tree with one secretary login per writer and one org_admin login per
reader, starts ``gunicorn -w N`` on ``--port`` and one Celery worker against it (both stopped at
the end, by their own process ids), then: W writers record ``--writes`` meetings through the API
(each with an ``Idempotency-Key``; ``--double`` of them sent twice at once) while R readers poll the
root dashboard, and ``--probe-pairs`` pairs of clients load the same meeting and both save it with
their ``If-Match`` (the lost-update probe). Faults during the run:

- ``--restart-db-at S``: S seconds into the load, run ``--restart-db-cmd`` (default
  ``pg_ctlcluster --skip-systemctl-redirect <version> main restart``). On a machine others share,
  pass a command that only cuts this bench's connections instead, e.g.
  ``--restart-db-cmd "psql -h 127.0.0.1 -U postgres -c \"SELECT pg_terminate_backend(pid) FROM
  pg_stat_activity WHERE datname='pb_bench_concurrency' AND pid<>pg_backend_pid()\""``;
- ``--kill-worker-at S``: ``kill -9`` the Celery worker this command started (its whole process
  group) and start a new one.

Prints throughput, p50/p95/p99 and status counts per kind, then the verdicts after the faults:
``audit_verify`` and forked links, duplicated and missing meetings, silent losses of the probe (a
2xx whose change is not in the final row), and the dashboard against a full recount.
Not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import psycopg2
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.concurrency import RETRIES, concurrency_seed, concurrency_verify, http, login, run_load, summary_rows
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
        parser.add_argument("--probe-pairs", type=int, default=20, help="丢失更新探测：两客户端同时保存同一会议的次数")
        parser.add_argument(
            "--restart-db-at", type=float, default=None, help="运行到第几秒时重启数据库（执行 --restart-db-cmd）"
        )
        parser.add_argument(
            "--restart-db-cmd",
            default="",
            help="重启数据库的命令（默认 pg_ctlcluster --skip-systemctl-redirect <版本> main restart）；"
            "共用的机器上请改为只断开本基准库连接的命令",
        )
        parser.add_argument(
            "--kill-worker-at", type=float, default=None, help="运行到第几秒时 kill -9 Celery worker 并另起一个"
        )
        parser.add_argument("--sweep-seconds", type=int, default=30, help="本次运行中看板清扫（beat）的间隔")
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
            verdict = concurrency_verify(**json.loads(path.read_text(encoding="utf-8")))
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
            "PB_DASHBOARD_SWEEP_SECONDS": str(opts["sweep_seconds"]),
        }
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        bin_dir = Path(sys.executable).parent
        processes: list[subprocess.Popen] = []
        faults: list[str] = []
        scratch_dir = tempfile.mkdtemp(prefix="pb-bench-concurrency-")
        restart_cmd = self._restart_command(opts) if opts["restart_db_at"] is not None else []
        try:
            subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)  # noqa: S603
            with nullcontext(scratch_dir) as scratch:  # removed after the processes stop (the beat writes there)
                plan_file = Path(scratch) / "plan.json"
                self.stdout.write(f"准备数据（{name}）…")
                subprocess.run(  # noqa: S603 - our own manage.py, validated ints
                    [*manage, "bench_concurrency", f"--inside-seed={plan_file}", f"--writers={opts['writers']}",
                     f"--readers={opts['readers']}", f"--members={opts['members']}", f"--seed={opts['seed']}"],
                    env=env, check=True,
                )  # fmt: skip
                plan = json.loads(plan_file.read_text(encoding="utf-8"))
                base = f"http://127.0.0.1:{opts['port']}"
                processes = self._start(bin_dir, env, opts, Path(scratch))
                self._wait_ready(base, processes)
                for spec in plan["writers"] + plan["readers"]:
                    spec["token"] = login(base, spec["username"])
                load_before = os.getloadavg()
                cpu_before = [_cpu_seconds(p.pid) for p in processes]
                pids_before = [p.pid for p in processes]
                self.stdout.write(
                    f"运行：{len(plan['writers'])} 个写入者 × 共 {opts['writes']} 次会议录入（{opts['double']:.0%} 同时重复发送），"
                    f"{len(plan['readers'])} 个看板读取者；gunicorn -w {opts['web_workers']}，Celery worker ×1"
                )
                timers = self._faults(opts, restart_cmd, bin_dir, env, Path(scratch), processes, faults)
                for timer in timers:
                    timer.start()
                result = run_load(
                    base=base, plan=plan, writes=opts["writes"], double=opts["double"], seed=opts["seed"],
                    probe_pairs=opts["probe_pairs"],
                )  # fmt: skip
                for timer in timers:
                    timer.cancel()
                    if timer.is_alive():
                        timer.join()
                load_after = os.getloadavg()
                cpu = [
                    after - before if pid == p.pid else None  # a killed and restarted worker: not comparable
                    for before, after, pid, p in zip(
                        cpu_before, [_cpu_seconds(p.pid) for p in processes], pids_before, processes, strict=True
                    )
                ]
                verdict, waited = self._verify(
                    manage, env, Path(scratch), result, wait=max(120, 4 * opts["sweep_seconds"])
                )
        finally:
            for process in processes:
                self._stop(process)
            shutil.rmtree(scratch_dir, ignore_errors=True)
            if opts["drop"]:
                admin = self._reconnect(admin, server)  # a real restart closed it
                with admin.cursor() as cursor:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
        self._print(result, verdict, waited, load_before, load_after, faults)
        # CPU seconds the server processes used during the load, whatever else ran on the machine:
        # the figure to compare across runs on a shared machine (#20.3).
        writes = max(1, result.keys_created)
        parts = []
        for label, seconds, what in (("gunicorn", cpu[0], "含看板读取"), ("Celery worker", cpu[1], "汇总刷新")):
            if seconds is None:
                parts.append(f"{label}：中途被杀并重启，不可比")
            else:
                parts.append(f"{label} {seconds:.1f} 秒（每次录入 {seconds / writes * 1000:.0f} ms，{what}）")
        self.stdout.write("服务器 CPU（负载期间）：" + "，".join(parts))

    @staticmethod
    def _reconnect(admin: Any, server: str) -> Any:
        try:
            with admin.cursor() as cursor:
                cursor.execute("SELECT 1")
            return admin
        except psycopg2.Error:
            fresh = psycopg2.connect(_with_db(server, "postgres"))
            fresh.autocommit = True
            return fresh

    @staticmethod
    def _restart_command(opts: dict[str, Any]) -> list[str]:
        if opts["restart_db_cmd"]:
            return shlex.split(opts["restart_db_cmd"])
        versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
        if not versions:
            raise CommandError("找不到 /etc/postgresql/<版本>：请用 --restart-db-cmd 指定重启数据库的命令")
        return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"]

    def _faults(
        self,
        opts: dict[str, Any],
        restart_cmd: list[str],
        bin_dir: Path,
        env: dict[str, str],
        scratch: Path,
        processes: list[subprocess.Popen],
        log: list[str],
    ) -> list[threading.Timer]:
        """Timers for the faults, started with the load; each appends what it did to ``log``."""
        started = time.monotonic()
        timers = []

        def restart_db() -> None:
            done = subprocess.run(restart_cmd, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603 - the operator's command
            log.append(
                f"第 {time.monotonic() - started:.1f} 秒：重启数据库 `{shlex.join(restart_cmd)}` → 退出码 {done.returncode}"
                + (f"（{done.stderr.strip()[:200]}）" if done.returncode else "")
            )

        def kill_worker() -> None:
            old = processes[1]
            os.killpg(old.pid, signal.SIGKILL)  # kill -9 the worker we started and its pool children
            old.wait(timeout=30)
            processes[1] = self._worker(bin_dir, env, scratch)
            log.append(
                f"第 {time.monotonic() - started:.1f} 秒：kill -9 Celery worker（进程组 {old.pid}），新 worker 进程 {processes[1].pid}"
            )

        if opts["restart_db_at"] is not None:
            timers.append(threading.Timer(opts["restart_db_at"], restart_db))
        if opts["kill_worker_at"] is not None:
            timers.append(threading.Timer(opts["kill_worker_at"], kill_worker))
        return timers

    def _start(self, bin_dir: Path, env: dict[str, str], opts: dict[str, Any], scratch: Path) -> list[subprocess.Popen]:
        web = subprocess.Popen(  # noqa: S603 - fixed arguments, validated ints
            [str(bin_dir / "gunicorn"), "config.wsgi", "-w", str(opts["web_workers"]), "-b",
             f"127.0.0.1:{opts['port']}", "--timeout", "120", "--log-level", "warning"],
            env=env, cwd=settings.BASE_DIR, start_new_session=True,
        )  # fmt: skip
        return [web, self._worker(bin_dir, env, scratch)]

    @staticmethod
    def _worker(bin_dir: Path, env: dict[str, str], scratch: Path) -> subprocess.Popen:
        """One Celery worker with its beat (the dashboard sweep), in its own process group so that
        a kill reaches its pool children and nothing else."""
        return subprocess.Popen(  # noqa: S603
            [str(bin_dir / "celery"), "-A", "config", "worker", "-B", "-s", str(scratch / "beat-schedule"),
             "-Q", ",".join(settings.PB_CELERY_QUEUES), "-c", "2", "-l", "WARNING", "-n", f"bench-{time.time_ns()}@%h"],
            env=env, cwd=settings.BASE_DIR, start_new_session=True,
        )  # fmt: skip

    @staticmethod
    def _stop(process: subprocess.Popen) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)

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

    def _verify(
        self, manage: list[str], env: dict[str, str], scratch: Path, result: Any, *, wait: float
    ) -> tuple[dict, float]:
        """Run the verdicts inside the scratch database; retry while the worker still refreshes."""
        started = time.monotonic()
        path = scratch / "verify.json"
        while True:
            path.write_text(
                json.dumps({"titles_created": result.titles_created, "probe": result.probe}), encoding="utf-8"
            )
            subprocess.run([*manage, "bench_concurrency", f"--inside-verify={path}"], env=env, check=True)  # noqa: S603
            verdict = json.loads(path.read_text(encoding="utf-8"))
            waited = time.monotonic() - started
            if verdict["dashboard_diff"] == 0 or waited > wait:
                return verdict, waited
            time.sleep(5)

    def _print(self, result: Any, verdict: dict, waited: float, before: tuple, after: tuple, faults: list[str]) -> None:
        out = self.stdout.write
        out(f"\n用时 {result.seconds:.1f} 秒；负载（1/5/15 分钟）开始 {before[0]:.2f}/{before[1]:.2f}/{before[2]:.2f}，"
            f"结束 {after[0]:.2f}/{after[1]:.2f}/{after[2]:.2f}；{os.cpu_count()} 核")  # fmt: skip
        for line in faults or ["（本次运行未注入故障）"]:
            out(f"故障：{line}")
        out("\n| 请求 | 次数 | 每秒 | p50 ms | p95 ms | p99 ms | 状态码 |\n|---|---:|---:|---:|---:|---:|---|")
        for kind, count, rate, p50, p95, p99, statuses in summary_rows(result):
            out(f"| {kind} | {count} | {rate:.1f} | {p50:.0f} | {p95:.0f} | {p99:.0f} | {statuses} |")
        for error in result.errors[:10]:
            out(f"连接错误：{error}")
        out(
            f"\n录入：{result.keys_created} 次不同请求成功（库中 {verdict['meetings']} 条），"
            f"重试 {RETRIES} 次后仍失败 {result.gave_up} 次；冲突探测 {result.probe_pairs} 对，"
            f"412 共 {verdict['probe_refused']} 次，两次保存都成功 {verdict['probe_both_saved']} 对"
        )
        checks = [
            ("审计链分叉", verdict["audit_forked"]),
            (f"审计链哈希不一致（共 {verdict['audit_rows']} 条）", verdict["audit_broken"]),
            ("重复会议（同一请求存了两条）", verdict["duplicates"]),
            ("答复 201 而库中没有的会议", verdict["missing"]),
            ("丢失的修改（答复 2xx 而最终记录中没有）", verdict["probe_lost"]),
            (f"看板与全量重算不一致（等待后台刷新 {waited:.0f} 秒）", verdict["dashboard_diff"]),
        ]
        out("\n| 故障后检查 | 数量 | 结论 |\n|---|---:|---|")
        for label, count in checks:
            out(f"| {label} | {count} | {'通过' if count == 0 else '未通过'} |")
