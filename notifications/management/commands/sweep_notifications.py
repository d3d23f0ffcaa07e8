"""Re-enqueue what the broker may have lost, now (the beat runs the same sweep every 2 minutes)."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from notifications.services.sweep import notifications_sweep


class Command(BaseCommand):
    help = "立即补发：重新提交超时未完成的提醒扫描批次和待发送的外发消息（beat 每 2 分钟自动执行一次）"

    def add_arguments(self, parser):
        parser.add_argument("--batch-stale-seconds", type=int, default=900, help="扫描批次多久未完成视为丢失")
        parser.add_argument("--pending-stale-seconds", type=int, default=120, help="待发送消息多久未处理视为丢失")
        parser.add_argument(
            "--sending-stale-seconds",
            type=int,
            default=600,
            help="发送中消息多久未完成视为 worker 已退出（应大于任务时限）",
        )

    def handle(self, *args, batch_stale_seconds, pending_stale_seconds, sending_stale_seconds, **options):
        if min(batch_stale_seconds, pending_stale_seconds, sending_stale_seconds) < 0:
            raise CommandError("秒数不能为负数")
        result = notifications_sweep(
            batch_after=timedelta(seconds=batch_stale_seconds),
            pending_after=timedelta(seconds=pending_stale_seconds),
            sending_after=timedelta(seconds=sending_stale_seconds),
        )
        self.stdout.write(
            f"重新提交扫描批次 {result.batches_requeued} 个，待发送消息 {result.outbox_requeued} 条，"
            f"重置发送中消息 {result.outbox_reset} 条"
        )
