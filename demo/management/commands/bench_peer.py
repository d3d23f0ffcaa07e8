"""``python manage.py bench_peer``: ours against a peer project on the same data (issue #20.2).

1. ``manage.py bench --members 100000`` builds the bench database (once; pass its name with
   ``--bench-db``).
2. ``--load`` (re)creates the peer's schema with the peer's own code in ``--peer-db`` and copies
   the bench data into it (demo/peer_compare/load.py).
3. Both servers start on loopback ports (ours: gunicorn, 2 workers, production settings; the peer:
   uvicorn, 2 workers), each operation gets ``--runs`` alternating requests per side, then
   ``--clients`` concurrent clients hit the branch member list on each side; one table is printed.
4. ``--profile`` instead runs our side of each operation in this process under cProfile (Django
   test client on the bench database) and prints where the time goes.

docs/benchmarks.md ("Side by side with a peer project") says how to fetch and install the peer.
Not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from django.core.management.base import BaseCommand, CommandError

from demo.management.commands.bench import _server_url, _with_db


class Command(BaseCommand):
    help = "与对照项目（FastAPI + SQLAlchemy）在同一份数据上对比四个列表接口，输出一张表"

    def add_arguments(self, parser):
        parser.add_argument("--bench-db", default="pb_bench_100000", help="bench 命令生成的库")
        parser.add_argument("--peer-db", default="pb_peer", help="对方项目的库（本命令创建）")
        parser.add_argument("--peer-dir", default="/work/peer-app/backend", help="对方项目 backend 目录")
        parser.add_argument("--peer-python", default="/work/peer-venv/bin/python", help="对方虚拟环境的 python")
        parser.add_argument("--load", action="store_true", help="重建对方的表并从 bench 库装载数据")
        parser.add_argument("--load-only", action="store_true", help="只装载，不测量")
        parser.add_argument("--runs", type=int, default=100, help="每个操作每一方的请求次数（交替发送）")
        parser.add_argument("--clients", type=int, default=10, help="并发客户端数")
        parser.add_argument("--per-client", type=int, default=30, help="并发测试中每个客户端的请求数")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--ours-port", type=int, default=18440)
        parser.add_argument("--peer-port", type=int, default=18441)
        parser.add_argument("--log-dir", default="var/bench_peer", help="两个服务器的日志")
        parser.add_argument("--profile", action="store_true", help="只用 cProfile 剖析本系统一方（进程内）")
        parser.add_argument("--profile-runs", type=int, default=50)

    def handle(self, *args: Any, **opts: Any) -> None:
        from demo.peer_compare.load import PeerSetup

        for name in (opts["bench_db"], opts["peer_db"]):
            if not name.replace("_", "").isalnum():
                raise CommandError("库名只能包含字母、数字和下划线")
        server = _server_url()
        bench_url = _with_db(server, opts["bench_db"])
        if opts["profile"]:
            return self._profile(bench_url, opts["profile_runs"])
        setup = PeerSetup(
            peer_dir=opts["peer_dir"],
            peer_python=opts["peer_python"],
            peer_url=_with_db(server, opts["peer_db"]),
            jwt_secret=os.environ.get("PEER_JWT_SECRET_KEY") or "bench-peer-" + "0" * 32,
        )
        if not Path(setup.peer_dir, "src", "main.py").exists() or not Path(setup.peer_python).exists():
            raise CommandError(
                f"找不到对方项目（{setup.peer_dir}）或其 python（{setup.peer_python}），见 docs/benchmarks.md"
            )
        created = self._ensure_db(server, opts["peer_db"])
        if opts["load"] or opts["load_only"] or created:
            self._load(bench_url, setup)
        if not opts["load_only"]:
            self._compare(bench_url, setup, opts)

    # --- databases -----------------------------------------------------------------------------

    def _ensure_db(self, server: str, name: str) -> bool:
        import psycopg2

        admin = psycopg2.connect(_with_db(server, "postgres"))
        admin.autocommit = True
        try:
            with admin.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cursor.fetchone():
                    return False
                cursor.execute(f'CREATE DATABASE "{name}"')
                return True
        finally:
            admin.close()

    def _load(self, bench_url: str, setup: Any) -> None:
        from demo.peer_compare.load import load_peer

        self.stdout.write(f"装载对方数据库 {urlparse(setup.peer_url).path[1:]} …")
        report = load_peer(bench_url=bench_url, setup=setup)
        for table, rows, seconds in report.steps:
            self.stdout.write(f"  {table:<28} {rows:>10,} 行  {seconds:7.1f} 秒")

    # --- the comparison ------------------------------------------------------------------------

    def _compare(self, bench_url: str, setup: Any, opts: dict[str, Any]) -> None:
        from demo.peer_compare import measure
        from demo.peer_compare.load import peer_token
        from demo.peer_compare.servers import running

        targets = measure.pick_targets(bench_url)
        redis_url = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/1"
        self.stdout.write(
            f"支部 {targets['org_name']}（id {targets['org_id']}，{targets['members']} 人），"
            f"{targets['year']} 年会议，{targets['month']:%Y-%m} 党费"
        )
        with running(
            bench_url=bench_url,
            redis_url=redis_url,
            setup=setup,
            ours_port=opts["ours_port"],
            peer_port=opts["peer_port"],
            workers=opts["workers"],
            log_dir=Path(opts["log_dir"]),
        ) as (ours, peer):
            ours_headers = {"Authorization": f"Token {self._our_token(ours.port)}", "X-Forwarded-Proto": "https"}
            peer_headers = {"Authorization": f"Bearer {peer_token(setup)}"}
            rows = []
            for op in measure.operations(targets):
                ours_sample, peer_sample = measure.alternate(
                    op, ours=(ours.port, ours_headers), peer=(peer.port, peer_headers), runs=opts["runs"]
                )
                rows.append((op, ours_sample, peer_sample))
                self.stdout.write(
                    f"  {op.label}: {statistics.median(ours_sample.ms):.1f} / {statistics.median(peer_sample.ms):.1f} ms"
                )
            member_list = measure.operations(targets)[0]
            throughput = []
            for _round in range(2):  # ours, peer, ours, peer: both see the same background load
                for port, headers, path in (
                    (ours.port, ours_headers, member_list.ours),
                    (peer.port, peer_headers, member_list.peer),
                ):
                    throughput.append(
                        measure.concurrent(port, path, headers, clients=opts["clients"], per_client=opts["per_client"])
                    )
        self.stdout.write("")
        self.stdout.write("\n".join(measure.table(rows)))
        ours_rps = statistics.mean(t[0] for t in throughput[0::2])
        peer_rps = statistics.mean(t[0] for t in throughput[1::2])
        ours_p95 = max(t[1] for t in throughput[0::2])
        peer_p95 = max(t[1] for t in throughput[1::2])
        self.stdout.write(
            f"| {opts['clients']} 个并发客户端，支部党员列表 | {ours_rps:.0f} req/s，p95 {ours_p95:.0f} ms "
            f"| {peer_rps:.0f} req/s，p95 {peer_p95:.0f} ms | 吞吐 本系统/对方 **{ours_rps / peer_rps:.2f}** |"
        )
        for op, _o, _p in rows:
            if op.note:
                self.stdout.write(f"注：{op.label}——{op.note}")
        load = os.getloadavg()
        self.stdout.write(
            f"每个操作每方 {opts['runs']} 次交替请求（客户端计时，每次新建连接）；"
            f"机器负载（1/5/15 分钟）：{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}，CPU {os.cpu_count()} 核"
        )

    def _our_token(self, port: int) -> str:
        import http.client

        from demo.bench_data import BENCH_PASSWORD

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        body = json.dumps({"username": "bench_admin", "password": BENCH_PASSWORD})
        conn.request(
            "POST",
            "/api/v1/auth/token/",
            body=body.encode(),
            headers={"Content-Type": "application/json", "X-Forwarded-Proto": "https"},
        )
        response = conn.getresponse()
        data = response.read()
        conn.close()
        if response.status != 200:
            raise CommandError(f"本系统登录失败：HTTP {response.status} {data[:300]!r}")
        return json.loads(data)["token"]

    # --- cProfile of our side --------------------------------------------------------------------

    def _profile(self, bench_url: str, runs: int) -> None:
        """Re-run this command inside the bench database (production-like settings, test client)."""
        env = {
            **os.environ,
            "DATABASE_URL": bench_url,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DEBUG": "false",
            "PB_REQUIRE_2FA": "false",
            "LOG_LEVEL": "WARNING",
            "SECRET_KEY": secrets.token_urlsafe(64),
        }
        code = (
            "import django; django.setup();"
            "from demo.peer_compare.profile import profile_ours;"
            f"profile_ours({bench_url!r}, runs={int(runs)})"
        )
        subprocess.run([sys.executable, "-c", code], env=env, check=True)  # noqa: S603 - our own code
