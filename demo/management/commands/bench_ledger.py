"""``python manage.py bench_ledger --branches 1000 --workers 2 [--year 2026]``: build the
组织生活台账 PDF of N branches with W worker processes, as one ZIP (the production batch path:
``ledger_generate_chunk`` per chunk of 20, the last chunk zips), and print wall time, throughput,
the peak RSS of each worker, the ZIP size and the average pages. Targets (issue #15): 1,000
branches in < 10 minutes on two workers, < 300 MB per worker. Not a test: nothing asserts a
duration. Run it on a scratch PostgreSQL database filled with ``seed_demo``/``bench`` data.
"""

from __future__ import annotations

import io
import os
import zipfile

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from pypdf import PdfReader

from assessments.choices import BatchStatus
from assessments.ledger.batch import CHUNK, ledger_batch_zip_path
from assessments.models import LedgerBatch
from core.dates import today
from demo.chunk_worker import run_chunks
from organizations.choices import BRANCH_TYPES
from organizations.models import Organization


class Command(BaseCommand):
    help = "台账批量生成基准：N 个党支部、W 个工作进程的耗时和内存峰值"

    def add_arguments(self, parser):
        parser.add_argument("--branches", type=int, default=100)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--year", type=int, default=0)

    def handle(self, *args, branches, workers, year, **options):
        if branches < 1 or workers < 1:
            raise CommandError("--branches 和 --workers 至少为 1")
        year = year or today().year
        if connection.vendor != "postgresql":
            self.stderr.write("注意：当前不是 PostgreSQL 数据库，结果不代表生产环境。")
        ids = list(
            Organization.objects.filter(org_type__in=list(BRANCH_TYPES))
            .order_by("path")
            .values_list("pk", flat=True)[:branches]
        )
        if len(ids) < branches:
            raise CommandError(f"数据库中只有 {len(ids)} 个党支部；请先用 seed_demo 生成足够的数据")
        root = Organization.objects.filter(depth=1).order_by("path").first()
        batch = LedgerBatch.objects.create(
            organization=root, year=year, fmt="pdf", status=BatchStatus.RUNNING, total=len(ids)
        )
        self.stdout.write(f"{len(ids)} 个党支部的 {year} 年台账（PDF，ZIP），{workers} 个工作进程")
        connection.close()  # children open their own connections
        chunks = [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]
        wall, stats = run_chunks(
            target="assessments.ledger.batch:ledger_generate_chunk",
            ids_kw="org_ids",
            batch_id=batch.pk,
            chunks=chunks,
            workers=workers,
        )
        batch.refresh_from_db()
        pages: list[int] = []
        if batch.zip_file:
            with zipfile.ZipFile(ledger_batch_zip_path(batch)) as archive:
                pages = [len(PdfReader(io.BytesIO(archive.read(n))).pages) for n in archive.namelist()[:20]]
        self.stdout.write("")
        rows = [
            ("台账数（完成/失败）", f"{batch.done}/{batch.failed}", ""),
            ("总耗时（秒）", f"{wall:.1f}", "1,000 个 < 600"),
            ("吞吐（个/秒）", f"{batch.done / wall:.2f}" if wall else "—", ""),
            ("ZIP 大小（MB）", f"{batch.zip_size / 1024 / 1024:.1f}", ""),
            ("平均页数（前 20 个）", f"{sum(pages) / len(pages):.1f}" if pages else "—", ""),
        ]
        rows += [(f"工作进程 {i + 1} 内存峰值（MB）", f"{s['peak_rss_mb']:.0f}", "< 300") for i, s in enumerate(stats)]
        rows += [(f"工作进程 {i + 1} CPU（秒）", f"{s['cpu_seconds']:.1f}", "") for i, s in enumerate(stats)]
        rows.append(("系统负载（1 分钟）", f"{os.getloadavg()[0]:.2f}", ""))
        for label, value, target in rows:
            self.stdout.write(f"{label:<24}{value:>12}  {target}")
