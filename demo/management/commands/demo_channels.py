"""The #19 demo: the reminders of a day sent by SMS, 企业微信 and 钉钉 to the fake vendor servers
(notifications/channels/fakes.py on loopback), then the delivery report.

    python manage.py demo_channels --date 2026-03-02

It writes what the daily scan would write (reminders are deduplicated: a second run adds nothing)
and (unless ``--no-assign-addresses``) demo work-app ids (``demo-<user id>``) for members with a
login and no address yet, so the work apps have someone to reach. Run it on a demo database, never on production data.

The fakes answer the first SMS with the gateway's "号码无效" (a 200 with an error body: a
permanent failure with its reason) and the first 企业微信 send with 45009 (rate limited: the row
waits for its retry), so the report shows both outcomes."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test import override_settings
from django.utils import timezone

from core.dates import today
from members.models import Member
from notifications.channels.fakes import FakeVendors
from notifications.models import PERSONAL_CHANNELS, ChannelAddress, OutboxMessage, OutboxStatus
from notifications.selectors import delivery_report
from notifications.services.outbox import outbox_deliver
from notifications.services.runs import reminder_run_inline
from organizations.models import Organization


class Command(BaseCommand):
    help = "演示：把某天的提醒通过短信、企业微信、钉钉发到本机模拟服务，并打印发送报告"

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="on", help="扫描日期 YYYY-MM-DD，默认今天（北京时间）")
        parser.add_argument("--port", type=int, default=0, help="模拟服务端口（默认随机空闲端口）")
        parser.add_argument("--addresses", type=int, default=300, help="最多为多少名党员分配演示用企业微信/钉钉账号")
        parser.add_argument("--no-assign-addresses", dest="assign", action="store_false", help="不分配演示账号")

    def handle(self, *args, on=None, port=0, addresses=300, assign=True, **options):
        try:
            day = date.fromisoformat(on) if on else today()
        except ValueError as exc:
            raise CommandError(f"日期格式应为 YYYY-MM-DD（例如 2026-03-01），收到：{on!r}") from exc
        fake = FakeVendors.start(port=port)
        try:
            with override_settings(
                PB_CHANNEL_ALLOWED_HOSTS=[*getattr(settings, "PB_CHANNEL_ALLOWED_HOSTS", []), "127.0.0.1"],
                PB_SMS={"url": f"{fake.base_url}/sms/send", "secret": "demo-gateway-secret"},
                PB_WECOM={"base_url": fake.base_url, "corp_id": "ww-demo", "secret": "demo-secret", "agent_id": 1},
                PB_DINGTALK={"base_url": fake.base_url, "app_key": "ding-demo", "app_secret": "demo", "agent_id": 1},
                PB_CHANNEL_RATE_LIMITS={"sms": (0, 0), "wecom": (0, 0), "dingtalk": (0, 0)},
            ):
                self._run(fake, day, addresses if assign else 0)
        finally:
            fake.stop()

    def _run(self, fake: FakeVendors, day: date, addresses: int) -> None:
        out = self.stdout.write
        started = timezone.now()
        out(f"模拟服务：{fake.base_url}（短信网关 /sms/send，企业微信 /cgi-bin/*，钉钉 /gettoken、/topapi/*）")
        assigned = self._assign(addresses)
        if assigned:
            out(f"已为 {len(assigned)} 名有登录账号的党员分配演示用企业微信/钉钉账号（demo-<用户ID>）")
        fake.fail("sms", 2001)  # the first SMS: the gateway answers 200 with "号码无效" — a failure
        fake.fail("wecom_send", 45009)  # the first 企业微信 send: rate limited — retried with backoff
        clock = time.perf_counter()
        run = reminder_run_inline(on=day, trigger="demo")
        created = sum(run.batches.values_list("created_count", flat=True))
        out(f"提醒扫描 #{run.pk}（{day}）：新提醒 {created} 条，用时 {time.perf_counter() - clock:.1f} 秒")
        due = list(
            OutboxMessage.objects.filter(
                channel__in=PERSONAL_CHANNELS, status=OutboxStatus.PENDING, created_at__gte=started
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        clock = time.perf_counter()
        outcomes = Counter(outbox_deliver(message_id=pk).status for pk in due)
        note = "；skipped = 与同一消息的其他钉钉行合并为一次调用" if outcomes.get("skipped") else ""
        summary = "，".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        out(f"外发 {len(due)} 条：{summary}（用时 {time.perf_counter() - clock:.1f} 秒{note}）")
        calls = Counter(
            {
                "/sms/send": "短信",
                "/cgi-bin/message/send": "企业微信",
                "/topapi/message/corpconversation/asyncsend_v2": "钉钉",
            }.get(r["path"], "令牌")
            for r in fake.requests
        )
        received = {k: len(v) for k, v in fake.delivered.items()}
        out(f"模拟服务收到请求：{dict(calls)}；送达人次：{received}")
        for root in Organization.objects.filter(depth=1).order_by("path"):
            report = delivery_report(organization=root, since=started)
            rows = [r for r in report.rows if r["channel"] in PERSONAL_CHANNELS]
            if not rows:
                continue
            out(f"\n发送报告 · {root.name}（本次运行）")
            out(f"{'渠道':<6}{'提醒规则':<18}{'已发送':>6}{'失败':>6}{'待发送':>6}")
            for r in rows:
                out(f"{r['channel_label']:<6}{r['rule_label']:<18}{r['sent']:>6}{r['failed']:>6}{r['pending']:>6}")
            failures = [f for f in report.failures if f.channel in PERSONAL_CHANNELS][:5]
            for failure in failures:
                out(f"  失败 #{failure.pk} {failure.get_channel_display()}：{failure.last_error}")

    def _assign(self, limit: int) -> list[str]:
        """Demo work-app ids for members with a login and no address yet."""
        if limit <= 0:
            return []
        have = ChannelAddress.objects.values_list("user_id", flat=True)
        users = list(
            Member.objects.filter(user__isnull=False, user__is_active=True)
            .exclude(user_id__in=have)
            .order_by("pk")
            .values_list("user_id", flat=True)[:limit]
        )
        ChannelAddress.objects.bulk_create(
            [ChannelAddress(user_id=u, wecom_userid=f"demo-{u}", dingtalk_userid=f"demo-{u}") for u in users]
        )
        return [f"demo-{u}" for u in users]
