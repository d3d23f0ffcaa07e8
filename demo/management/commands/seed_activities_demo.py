import time

from django.core.management.base import BaseCommand

from activities.models import Meeting
from dashboard.facts import facts_rebuild
from demo.activities import activities_demo_reset, seed_activities_demo


class Command(BaseCommand):
    help = "为演示党组织载入今年的组织生活记录（会议、出席、决议、谈心谈话），使合规日历有数据可看"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="随机种子")
        parser.add_argument("--branches", type=int, default=12, help="最多为多少个党支部生成记录")
        parser.add_argument("--reset", action="store_true", help="先删除全部组织生活记录")
        parser.add_argument("--if-empty", action="store_true", help="已有会议记录时什么也不做")
        parser.add_argument("--skip-facts", action="store_true", help="不重建统计汇总表（由调用者随后重建）")

    def handle(self, *args, seed, branches, reset, if_empty, skip_facts=False, **options):
        if if_empty and Meeting.objects.exists():
            self.stdout.write("已有会议记录，跳过。")
            return
        if reset:
            activities_demo_reset()
        started = time.perf_counter()
        result = seed_activities_demo(seed=seed, max_branches=branches)
        self.stdout.write(
            self.style.SUCCESS(
                f"已为 {result.branches} 个党支部生成 {result.meetings} 次会议、{result.talks} 次谈心谈话，"
                f"用时 {time.perf_counter() - started:.1f} 秒"
            )
        )
        if not skip_facts:  # the demo writes some rows in bulk (no signals): rebuild the dashboards' facts
            facts_rebuild(reason="seed")
