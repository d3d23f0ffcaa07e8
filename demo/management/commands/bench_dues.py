"""Benchmark 党费: the yearly-base import, one-submit recording for a branch, the branch month, the
arrears list and the subtree roll-up. Prints one table; asserts nothing.

Everything runs inside one transaction that is rolled back at the end, so it is safe on a
database that holds demo data.

    python manage.py bench_dues --branches 20 --per-branch 40
"""

from __future__ import annotations

import io
import statistics
import time
from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from core.roles import Role
from members.choices import MembershipStatus, Sex, Stage
from members.dues.imports import HEADERS, dues_import_commit, dues_import_preview
from members.dues.selectors import dues_arrears, dues_collection, dues_rollup
from members.dues.services.payments import dues_branch_payments_record
from members.models import Member, OrganizationMembership
from organizations.choices import OrgType
from organizations.models import RoleAssignment
from organizations.services import organization_create


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "党费性能基准：导入年度基数、整支部一次登记、本月收缴、欠交、子树汇总（事务内执行后回滚）"

    def add_arguments(self, parser):
        parser.add_argument("--branches", type=int, default=20)
        parser.add_argument("--per-branch", type=int, default=40)
        parser.add_argument("--runs", type=int, default=20)
        parser.add_argument("--year", type=int, default=2025)

    def handle(self, *args, **opts):
        if opts["branches"] < 1 or opts["per_branch"] < 1 or opts["runs"] < 1:
            raise CommandError("参数至少为 1")
        rows: list[tuple[str, str, str, str]] = []
        try:
            with transaction.atomic():
                self._run(rows, **opts)
                raise _Rollback
        except _Rollback:
            pass
        vendor = connection.vendor
        self.stdout.write(
            f"\n党费基准（{vendor}，{opts['branches']} 个支部 × {opts['per_branch']} 人，"
            f"共 {opts['branches'] * opts['per_branch']} 人）"
        )
        width = max(len(r[0]) for r in rows) + 2
        self.stdout.write(f"{'场景':<{width}}{'中位数':>12}{'最大':>12}{'SQL 条数':>10}")
        for name, median, worst, queries in rows:
            self.stdout.write(f"{name:<{width}}{median:>12}{worst:>12}{queries:>10}")

    def _run(self, rows, *, branches, per_branch, runs, year, **_):
        user = get_user_model().objects.create(username="bench-dues-user")
        root = organization_create(
            parent=None, name="基准党委", short_name="基准党委", code="BENCH-DUES", org_type=OrgType.COMMITTEE
        )
        RoleAssignment.objects.create(user=user, organization=root, role=Role.ORG_ADMIN)
        orgs = [
            organization_create(parent=root, name=f"基准第{i}支部", code=f"BENCH-DUES-{i}", org_type=OrgType.BRANCH)
            for i in range(branches)
        ]
        members = [
            Member(
                organization=org,
                name=f"党员{org.pk}-{j}",
                sex=Sex.MALE,
                birth_date=date(1980, 1, 1),
                stage=Stage.FULL,
                membership_status=MembershipStatus.NORMAL,
                joined_on=date(2005, 7, 1),
                full_on=date(2006, 7, 1),
            )
            for org in orgs
            for j in range(per_branch)
        ]
        Member.objects.bulk_create(members, batch_size=1000)
        members = list(Member.objects.filter(organization__in=orgs).order_by("pk"))
        OrganizationMembership.objects.bulk_create(
            [
                OrganizationMembership(member=m, organization_id=m.organization_id, start_on=m.joined_on)
                for m in members
            ],
            batch_size=1000,
        )

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("bases")
        ws.append(HEADERS)
        for i, m in enumerate(members):
            ws.append([m.pk, m.name, "在职", 2800 + (i % 90) * 100, None, None, None])
        buffer = io.BytesIO()
        wb.save(buffer)
        data = buffer.getvalue()

        start = time.perf_counter()
        batch = dues_import_preview(organization=root, year=year, data=data, filename="bench.xlsx", user=user)
        preview = time.perf_counter() - start
        if batch.errors:
            raise CommandError(f"基准数据有误：{batch.errors[:3]}")
        start = time.perf_counter()
        dues_import_commit(batch=batch, user=user)
        commit = time.perf_counter() - start
        rows.append((f"导入预览 {len(members)} 行", f"{preview:.2f} s", "", ""))
        rows.append((f"导入确认 {len(members)} 行（含 {len(members) * 12} 条台账）", f"{commit:.2f} s", "", ""))

        # one submit for a whole branch, for successive months
        branch = orgs[0]
        ids = [m.pk for m in members if m.organization_id == branch.pk]
        timings, queries = [], 0
        for month in range(1, min(runs, 12) + 1):
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                dues_branch_payments_record(
                    organization=branch,
                    month=date(year, month, 1),
                    entries=[(mid, None) for mid in ids],
                    paid_on=date(year, month, 28),
                    recorded_by=user,
                )
                timings.append(time.perf_counter() - start)
            queries = len(ctx)
        rows.append(
            (f"整支部一次登记（{len(ids)} 人）", _ms(statistics.median(timings)), _ms(max(timings)), str(queries))
        )

        def measure(name, fn):
            fn()
            times, count = [], 0
            for _ in range(runs):
                connection.queries_log.clear()
                with CaptureQueriesContext(connection) as ctx:
                    start = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - start)
                count = len(ctx)
            rows.append((name, _ms(statistics.median(times)), _ms(max(times)), str(count)))

        on = date(year, 12, 15)
        measure(
            f"本月收缴（{len(ids)} 人）", lambda: dues_collection(organization=branch, month=date(year, 6, 1), on=on)
        )
        measure(f"欠交名单（{per_branch} 人）", lambda: dues_arrears(organization=orgs[1], on=on))
        measure(
            f"子树收缴率汇总（{branches} 个支部，{len(members) * 12} 条台账）",
            lambda: dues_rollup(user=user, root=root, month=date(year, 6, 1)),
        )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
