"""Benchmark the member import: build an N-row XLSX, preview it, commit it, roll it back.

Runs inside one transaction that is rolled back at the end (nothing stays in the database unless
``--keep``), so it is safe on a database holding demo data. Prints one table per run.

    python manage.py bench_import --rows 10000 --rows 100000
"""

from __future__ import annotations

import io
import os
import time
import uuid
import zipfile
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from core.roles import Role
from members.imports import COLUMNS, SHEET_NAME, import_commit, import_preview, import_rollback
from members.validators import id_check_digit
from organizations.choices import OrgType
from organizations.models import RoleAssignment
from organizations.services import organization_create

MEMBERS_PER_BRANCH = 40


def bench_rows(n: int, codes: list[str]) -> io.BytesIO:
    """An XLSX in the import template's layout with ``n`` valid, distinct rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET_NAME)
    ws.append([c.header + ("*" if c.required else "") for c in COLUMNS])
    index = {c.key: i for i, c in enumerate(COLUMNS)}
    start = date(1950, 1, 1)
    for i in range(n):
        born = start + timedelta(days=i // 400)
        male = i % 2 == 0
        seq = (i % 400) * 2 + (1 if male else 0)
        first17 = f"650102{born:%Y%m%d}{seq:03d}"
        joined = born + timedelta(days=365 * 25)
        row: list[object] = [None] * len(COLUMNS)
        row[index["name"]] = f"测试{i}"
        row[index["ethnicity"]] = "汉族"
        row[index["id_number"]] = first17 + id_check_digit(first17)
        row[index["education"]] = "大学本科"
        row[index["stage"]] = "正式党员"
        row[index["organization"]] = codes[i // MEMBERS_PER_BRANCH % len(codes)]
        row[index["joined_on"]] = joined
        row[index["full_on"]] = joined + timedelta(days=365)
        row[index["phone"]] = f"139{i:08d}"
        row[index["job_post"]] = "党政机关工作人员"
        row[index["employer"]] = "基准测试单位"
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return _with_dimension(buffer.getvalue(), f"A1:{get_column_letter(len(COLUMNS))}{n + 1}")


def _with_dimension(data: bytes, ref: str) -> io.BytesIO:
    """Add the ``<dimension>`` element that Excel and WPS write (openpyxl's write-only mode does
    not; without it a reader scans the whole sheet once more just to size it)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                content = content.replace(b"<sheetViews>", f'<dimension ref="{ref}" /><sheetViews>'.encode(), 1)
            target.writestr(info, content)
    out.seek(0)
    return out


class Command(BaseCommand):
    help = "导入性能基准：生成 N 行模板数据，计时预览（检查）、导入、撤销；默认全部回滚不留数据"

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, action="append", help="行数，可重复，如 --rows 10000 --rows 100000")
        parser.add_argument("--keep", action="store_true", help="保留导入的数据（不撤销、不回滚）")

    def handle(self, *args, rows, keep, **options):
        sizes = rows or [10_000]
        if any(n < 1 for n in sizes):
            raise CommandError("--rows 应为正整数")
        self.stdout.write(f"database: {connection.vendor}  ({connection.settings_dict.get('NAME')})")
        table: list[tuple[str, int, float, float]] = []
        for n in sizes:
            table.extend(self._run(n, keep))
        load = " ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
        self.stdout.write(
            f"load average: {load}  (cpu = this Python process; a PostgreSQL server's own work is not in it)"
        )
        self.stdout.write(f"{'scenario':<30}{'rows':>9}{'seconds':>10}{'cpu s':>9}{'rows/s':>9}")
        for scenario, n, seconds, cpu in table:
            rate = n / seconds if seconds else 0
            self.stdout.write(f"{scenario:<30}{n:>9}{seconds:>10.2f}{cpu:>9.2f}{rate:>9.0f}")

    def _run(self, n: int, keep: bool) -> list[tuple[str, int, float, float]]:
        results: list[tuple[str, int, float, float]] = []
        clock: list[float] = []

        def start() -> None:
            clock[:] = [time.perf_counter(), time.process_time()]

        def stop(label: str) -> tuple[float, float]:
            wall, cpu = time.perf_counter() - clock[0], time.process_time() - clock[1]
            results.append((label, n, wall, cpu))
            return wall, cpu

        with transaction.atomic():
            tag = uuid.uuid4().hex[:8]
            root = organization_create(
                parent=None,
                name=f"基准测试党委{tag}",
                short_name="基准测试",
                code=f"BENCH-{tag}",
                org_type=OrgType.COMMITTEE,
            )
            branches = [
                organization_create(
                    parent=root,
                    name=f"基准测试第{i + 1}支部{tag}",
                    code=f"BENCH-{tag}-{i + 1}",
                    org_type=OrgType.BRANCH,
                )
                for i in range(max(1, n // MEMBERS_PER_BRANCH // 10))
            ]
            user = get_user_model().objects.create_user(username=f"bench-{tag}")
            RoleAssignment.objects.create(user=user, organization=root, role=Role.ORG_ADMIN)
            start()
            data = bench_rows(n, [b.code for b in branches]).getvalue()
            stop("build xlsx (not import)")
            start()
            batch = import_preview(user=user, scope=root, data=data, file_name=f"bench-{n}.xlsx")
            preview = stop("preview (read + check)")
            if batch.error_count:
                raise CommandError(f"benchmark file has errors: {batch.errors[:3]}")
            start()
            batch = import_commit(batch=batch, user=user)
            commit = stop("commit (check + insert)")
            results.append(("import total (preview+commit)", n, preview[0] + commit[0], preview[1] + commit[1]))
            if not keep:
                start()
                import_rollback(batch=batch, user=user)
                stop("rollback")
                transaction.set_rollback(True)
        return results
