"""Run the web server, one Celery worker and the single beat process together (development)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

from demo.seed import DEMO_PASSWORD


class Command(BaseCommand):
    help = "同时启动 Web 服务、Celery worker 和 beat（开发与演示用）"

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, port: int, host: str, **options):
        from django.conf import settings

        python = sys.executable
        beat_file = settings.CELERY_BEAT_SCHEDULE_FILENAME
        commands = {
            "web": [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                ",".join(settings.PB_CELERY_QUEUES),
                "-l",
                "info",
                "--concurrency",
                "2",
                "-n",
                "worker@%h",
            ],
            "beat": [python, "-m", "celery", "-A", "config", "beat", "-l", "info", "-s", beat_file],
        }
        procs = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}  # noqa: S603
        self.stdout.write(self.style.SUCCESS(f"\n党建工作管理系统已启动：http://{host}:{port}/"))
        self.stdout.write(
            f"演示账号：orgadmin / committee / secretary / member / auditor / sysadmin / secadmin，密码 {DEMO_PASSWORD}"
        )
        self.stdout.write("按 Ctrl+C 停止全部进程。\n")

        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} 进程已退出（代码 {proc.returncode}），停止其余进程。")
                        stopping = True
                time.sleep(0.5)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs.values():
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
