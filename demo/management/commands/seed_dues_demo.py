"""``python manage.py seed_dues_demo``: this year's 党费 fixings, ledger and payments, and dated
发展党员 steps, on top of the demo data of ``seed_demo`` (see ``members/demo_dues.py``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from core.dates import today
from dashboard.facts import facts_rebuild
from demo.dues import seed_dues_demo


class Command(BaseCommand):
    help = "演示数据：本年度党费核定、台账和缴纳记录，以及发展党员步骤（在 seed_demo 之后运行）"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--skip-facts", action="store_true", help="不重建统计汇总表（由调用者随后重建）")

    def handle(self, *args, **opts):
        counts = seed_dues_demo(on=today(), seed=opts["seed"])
        self.stdout.write(
            f"党费核定 {counts['fixings']} 人，台账 {counts['months']} 条，缴纳记录 {counts['payments']} 条；"
            f"发展党员步骤 {counts['steps']} 条"
        )
        if not opts.get("skip_facts"):  # ledger rows are written in bulk (no signals): rebuild the facts
            facts_rebuild(reason="seed")
