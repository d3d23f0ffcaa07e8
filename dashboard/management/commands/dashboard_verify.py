"""``manage.py dashboard_verify [--org ID|CODE] [--all]``: stored figures against a recount (exit 1 on any difference)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from core.numbers import as_id, is_number
from dashboard.builds import facts_state
from dashboard.models import DashboardDirty
from dashboard.verify import verify_facts
from organizations.models import Organization

SHOWN = 50


class Command(BaseCommand):
    help = "按原始数据重新统计组织的每个统计看板数字，与汇总表比较并列出差异（有差异时退出码为 1）"

    def add_arguments(self, parser):
        parser.add_argument("--org", help="组织 ID 或组织代码（默认根组织）")
        parser.add_argument("--all", action="store_true", help="核对全部组织")

    def handle(self, *args, org=None, all=False, verbosity=1, **options):
        if all and org:
            raise CommandError("--org 与 --all 只能选一个")
        target = None if all else self._org(org)
        state = facts_state()
        if not state.ready:
            raise CommandError(f"汇总表尚未完整生成：{state.message}")
        started = time.perf_counter()
        diffs = verify_facts(target)
        elapsed = time.perf_counter() - started
        scope = "全部组织" if target is None else f"{target.name}及其全部下级组织"
        for diff in diffs[:SHOWN]:
            self.stdout.write(str(diff))
        if len(diffs) > SHOWN:
            self.stdout.write(f"……另有 {len(diffs) - SHOWN} 处差异")
        if diffs:
            waiting = DashboardDirty.objects.count()
            if waiting:
                self.stderr.write(f"注意：还有 {waiting} 条待刷新标记（dashboard.drain / dashboard.sweep 尚未处理）")
            self.stderr.write(f"统计核对：{scope}发现 {len(diffs)} 处差异（用时 {elapsed:.1f} 秒）")
            raise SystemExit(1)
        if verbosity >= 1:
            self.stdout.write(self.style.SUCCESS(f"统计核对：{scope}的汇总数字与原始数据一致（用时 {elapsed:.1f} 秒）"))

    def _org(self, ref: str | None) -> Organization:
        if ref is None:
            root = Organization.objects.filter(depth=1).order_by("path").first()
            if root is None:
                raise CommandError("还没有任何党组织")
            return root
        qs = Organization.objects.filter(pk=as_id(ref)) if is_number(ref) else Organization.objects.none()
        org = qs.first() or Organization.objects.filter(code=ref).first()
        if org is None:
            raise CommandError(f"找不到组织：{ref}")
        return org
