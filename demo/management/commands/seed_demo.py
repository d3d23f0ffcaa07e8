import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from core.dates import today
from dashboard.facts import facts_rebuild
from demo.seed import DEMO_PASSWORD, demo_reset, seed_demo
from organizations.models import Organization


class Command(BaseCommand):
    help = "载入确定性的演示数据（党组织树、党员、届次、各角色演示账号）"

    def add_arguments(self, parser):
        parser.add_argument("--orgs", type=int, default=120, help="党组织数量")
        parser.add_argument("--members", type=int, default=2000, help="党员（含发展对象等）数量")
        parser.add_argument("--seed", type=int, default=1, help="随机种子，相同种子生成相同数据")
        parser.add_argument("--reset", action="store_true", help="先删除现有组织、党员和非超级用户账号")
        parser.add_argument("--if-empty", action="store_true", help="已有数据时什么也不做（供启动脚本使用）")

    def handle(self, *args, orgs, members, seed, reset, if_empty, **options):
        if orgs < 1 or members < 0:
            raise CommandError("--orgs 至少为 1，--members 不能为负数")

        if if_empty and Organization.objects.exists():
            self.stdout.write("已有数据，跳过演示数据载入。")
            return
        if reset:
            demo_reset()
        started = time.perf_counter()
        try:
            result = seed_demo(n_orgs=orgs, n_members=members, seed=seed)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"已载入 {result.organizations} 个党组织、{result.members} 名人员，用时 {elapsed:.1f} 秒"
            )
        )
        # Example star-rating schemes (assessments) for last year and this year, editable copies.

        for year in (today().year - 1, today().year):
            call_command("seed_assessment_schemes", year=year, stdout=self.stdout)
        # Meetings, attendance and study for some branches; this year's dues and development steps.
        call_command("seed_activities_demo", seed=seed, skip_facts=True, stdout=self.stdout)
        call_command("seed_dues_demo", seed=seed, skip_facts=True, stdout=self.stdout)
        # Organizations and members are written in bulk (no signals): build the dashboards' facts
        # now, so the first dashboard shown is complete.
        started = time.perf_counter()
        rows = facts_rebuild(reason="seed")
        self.stdout.write(f"统计汇总表已生成：{rows} 行，用时 {time.perf_counter() - started:.1f} 秒")
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}，仅用于演示）：")
        for label, username, where in result.logins:
            self.stdout.write(f"  {label:<10} {username:<10} {where}")
