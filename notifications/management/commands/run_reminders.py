"""Run the daily reminder scan for a date (operators and tests). Idempotent: running it twice
sends nothing twice."""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from core.dates import today
from notifications.services.runs import reminder_run_create, reminder_run_inline


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期格式应为 YYYY-MM-DD（例如 2026-03-01），收到：{value!r}") from exc


class Command(BaseCommand):
    help = "按指定日期运行每日提醒扫描（重复运行不会重复发送）"

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="on", help="扫描日期 YYYY-MM-DD，默认今天（北京时间）")
        parser.add_argument("--batch-size", type=int, default=None, help="每批组织数（默认 PB_REMINDER_BATCH_SIZE）")
        parser.add_argument(
            "--enqueue", action="store_true", help="交给 Celery worker 执行（默认在本进程内执行并等待完成）"
        )
        parser.add_argument("--queue", default=None, help="与 --enqueue 一起使用：投递到指定队列")

    def handle(self, *args, on=None, batch_size=None, enqueue=False, queue=None, **options):
        day = parse_date(on) if on else today()
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size 至少为 1")
        started = time.perf_counter()
        if enqueue:
            run = reminder_run_create(on=day, trigger="command", batch_size=batch_size, queue=queue)
            self.stdout.write(f"已提交提醒扫描 #{run.pk}（{day}）：{run.batch_count} 批，由 worker 执行。")
            return
        run = reminder_run_inline(on=day, trigger="command", batch_size=batch_size)
        created = sum(run.batches.values_list("created_count", flat=True))
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"提醒扫描 #{run.pk}（{day}）完成：{run.batch_count} 批，新发出提醒 {created} 条，用时 {elapsed:.1f} 秒"
            )
        )
