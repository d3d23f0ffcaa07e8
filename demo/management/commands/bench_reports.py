"""``python manage.py bench_reports --branches 1000``: generate the quarterly inspection reports
(PDF + XLSX) of N branches with W worker processes and print one table: wall time, throughput and
the peak RSS of each worker. Targets (issue #6): 1,000 branches in < 5 minutes with two workers,
each worker < 300 MB. Not a test: nothing here asserts a duration.

Run it on a scratch PostgreSQL database filled with ``seed_demo`` (or ``bench``'s data set, which
adds a year of meetings, attendance and dues)::

    createdb -h 127.0.0.1 -U postgres pb_reports
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/pb_reports
    python manage.py migrate && python manage.py seed_demo --orgs 2300 --members 40000
    python manage.py bench_reports --branches 1000 --workers 2

Each worker is a fresh process (multiprocessing "spawn", like a Celery prefork child) that takes
chunks of report ids from a queue and runs the same service the Celery chunk task runs
(``report_generate_chunk``), so the figures are those of the production code path.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from assessments.choices import BatchStatus, ReportKind, ReportStatus
from assessments.models import InspectionReport, ReportBatch
from assessments.periods import previous_quarter, quarter_period
from assessments.reports.fonts import cjk_font
from assessments.tasks import report_generate_chunk_task
from core.dates import today
from demo.report_worker import report_worker
from organizations.choices import OrgType
from organizations.models import Organization

CHUNK = 20


def _count(value: int) -> str:
    return "—" if value < 0 else str(value)


def _proc_stats(pid: int) -> dict[str, float]:
    """Peak RSS (VmHWM) and CPU seconds of another process, from /proc (Linux)."""
    peak = rss = 0.0
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return {"peak_rss_mb": peak, "rss_mb": rss, "cpu_seconds": (int(fields[11]) + int(fields[12])) / ticks}


def _celery_run(*, batch_id: int, chunks: list[list[int]], workers: int, timeout: int) -> tuple[float, list[dict]]:
    """Start ``workers`` real Celery workers (solo pool: the task runs in the worker process, so its
    memory is the worker's), enqueue the production chunk task on a private queue, and wait until
    the batch counts every report. Needs a broker every process reaches (Redis, or the default
    filesystem broker)."""
    import subprocess  # noqa: S404 - our own interpreter, fixed arguments
    import sys
    import uuid

    from django.conf import settings


    queue = f"bench-reports-{uuid.uuid4().hex[:8]}"
    procs = []
    for n in range(workers):
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--concurrency", "1",
            "-Q", queue, "-n", f"{queue}-{n}@%h", "--without-gossip", "--without-mingle", "-l", "warning",
            "--prefetch-multiplier", "1",
        ]  # fmt: skip
        procs.append(subprocess.Popen(command, cwd=settings.BASE_DIR))  # noqa: S603
    try:
        time.sleep(5)  # let the workers connect before the clock starts
        setup = {proc.pid: _proc_stats(proc.pid)["rss_mb"] for proc in procs}
        started = time.perf_counter()
        for ids in chunks:
            report_generate_chunk_task.apply_async(args=[batch_id, ids], queue=queue)
        total = sum(len(ids) for ids in chunks)
        while True:
            batch = ReportBatch.objects.get(pk=batch_id)
            if batch.done + batch.failed >= total:
                break
            if time.perf_counter() - started > timeout:
                raise CommandError(f"Celery worker 在 {timeout} 秒内未完成")
            if any(proc.poll() is not None for proc in procs):
                raise CommandError("Celery worker 进程意外退出")
            time.sleep(0.5)
        wall = time.perf_counter() - started
        stats = []
        for proc in procs:
            figures = _proc_stats(proc.pid)
            stats.append(
                {
                    "pid": proc.pid,
                    "done": -1,
                    "failed": -1,
                    "seconds": wall,
                    "cpu_seconds": figures["cpu_seconds"],
                    "peak_rss_mb": figures["peak_rss_mb"],
                    "rss_after_setup_mb": setup[proc.pid],
                }
            )
        return wall, stats
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


class Command(BaseCommand):
    help = "基准：用多个工作进程为 N 个党支部生成季度督查报告（PDF+XLSX），输出耗时和每个进程的内存峰值"

    def add_arguments(self, parser):
        parser.add_argument("--branches", type=int, default=1000, help="党支部数量")
        parser.add_argument("--workers", type=int, default=2, help="工作进程数")
        parser.add_argument("--year", type=int, default=0, help="年度（默认上一季度所在年度）")
        parser.add_argument("--quarter", type=int, default=0, help="季度（默认上一季度）")
        parser.add_argument("--rollups", action="store_true", help="同时生成这些支部的上级组织汇总报告")
        parser.add_argument(
            "--celery",
            action="store_true",
            help="用真实的 Celery worker（solo 池）执行生产任务，而不是 multiprocessing 进程",
        )
        parser.add_argument("--timeout", type=int, default=1200, help="--celery 时最长等待秒数")

    @staticmethod
    def _mp_run(*, batch_id: int, chunks: list[list[int]], workers: int) -> tuple[float, list[dict]]:
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        results = ctx.Queue()
        for ids in chunks:
            queue.put(ids)
        for _ in range(workers):
            queue.put(None)
        started = time.perf_counter()
        processes = [ctx.Process(target=report_worker, args=(queue, results, batch_id)) for _ in range(workers)]
        for process in processes:
            process.start()
        stats = [results.get() for _ in processes]
        for process in processes:
            process.join()
        return time.perf_counter() - started, stats

    def handle(self, *args, branches, workers, year, quarter, rollups, celery=False, timeout=1200, **options):

        if branches < 1 or workers < 1:
            raise CommandError("--branches 和 --workers 至少为 1")
        if not year or not quarter:
            year, quarter = previous_quarter(today())
        period = quarter_period(year, quarter)
        if connection.vendor != "postgresql":
            self.stderr.write("注意：当前不是 PostgreSQL 数据库，结果不代表生产环境。")
        targets = list(
            Organization.objects.filter(org_type=OrgType.BRANCH).order_by("path").values_list("pk", "path")[:branches]
        )
        if len(targets) < branches:
            raise CommandError(
                f"数据库中只有 {len(targets)} 个党支部；请先用 seed_demo 生成足够的数据（例如 --orgs {branches * 23 // 10}）"
            )
        org_ids = [pk for pk, _path in targets]
        if rollups:
            parent_paths = {path[: -Organization.steplen] for _pk, path in targets}
            org_ids += list(Organization.objects.filter(path__in=parent_paths).values_list("pk", flat=True))
        root = Organization.objects.filter(depth=1).order_by("path").first()
        batch = ReportBatch.objects.create(organization=root, year=year, quarter=quarter, force=True)
        rows = [
            InspectionReport(
                organization_id=pk,
                year=year,
                quarter=quarter,
                kind=ReportKind.SINGLE if index < branches else ReportKind.ROLLUP,
                period_start=period.start,
                period_end=period.end,
            )
            for index, pk in enumerate(org_ids)
        ]
        InspectionReport.objects.bulk_create(rows, ignore_conflicts=True)
        singles = InspectionReport.objects.filter(
            organization_id__in=org_ids[:branches], year=year, quarter=quarter, kind=ReportKind.SINGLE
        )
        rollup_rows = InspectionReport.objects.filter(
            organization_id__in=org_ids[branches:], year=year, quarter=quarter, kind=ReportKind.ROLLUP
        )
        report_ids = list(singles.values_list("pk", flat=True)) + list(rollup_rows.values_list("pk", flat=True))
        InspectionReport.objects.filter(pk__in=report_ids).update(status=ReportStatus.PENDING, batch=batch, error="")
        ReportBatch.objects.filter(pk=batch.pk).update(total=len(report_ids), status=BatchStatus.RUNNING)
        font = cjk_font()
        self.stdout.write(
            f"{len(report_ids)} 份报告（{branches} 个党支部{'，含汇总' if rollups else ''}），{year}年第{quarter}季度，"
            f"{workers} 个{'Celery worker' if celery else '工作进程'}，PDF 字体 {font}"
        )
        connection.close()  # children open their own connections
        chunks = [report_ids[start : start + CHUNK] for start in range(0, len(report_ids), CHUNK)]
        load_before = os.getloadavg()[0]
        if celery:
            wall, stats = _celery_run(batch_id=batch.pk, chunks=chunks, workers=workers, timeout=timeout)
        else:
            wall, stats = self._mp_run(batch_id=batch.pk, chunks=chunks, workers=workers)
        load_after = os.getloadavg()[0]

        done = InspectionReport.objects.filter(pk__in=report_ids, status=ReportStatus.DONE)
        sizes = list(done.values_list("pdf_size", "xlsx_size"))
        failed = InspectionReport.objects.filter(pk__in=report_ids, status=ReportStatus.FAILED).count()
        batch.refresh_from_db()
        avg_pdf = sum(s[0] for s in sizes) / len(sizes) / 1024 if sizes else 0
        avg_xlsx = sum(s[1] for s in sizes) / len(sizes) / 1024 if sizes else 0
        peak = max(s["peak_rss_mb"] for s in stats)

        self.stdout.write("")
        self.stdout.write(f"{'项目':<22}{'数值':>14}  目标")
        lines = [
            ("报告数（完成/失败）", f"{len(sizes)}/{failed}", ""),
            ("批次进度 done/total", f"{batch.done + batch.failed}/{batch.total}", ""),
            ("总耗时（秒）", f"{wall:.1f}", "< 300"),
            ("吞吐（份/秒）", f"{len(sizes) / wall:.2f}" if wall else "—", ""),
            ("平均 PDF（KB）", f"{avg_pdf:.0f}", ""),
            ("平均 XLSX（KB）", f"{avg_xlsx:.0f}", ""),
            ("最大进程内存峰值（MB）", f"{peak:.0f}", "< 300"),
            ("工作进程 CPU 合计（秒）", f"{sum(s['cpu_seconds'] for s in stats):.1f}", ""),
            ("机器负载（开始/结束）", f"{load_before:.1f}/{load_after:.1f}", f"{os.cpu_count()} 核"),
        ]
        for label, value, target in lines:
            self.stdout.write(f"{label:<20}{value:>14}  {target}")
        self.stdout.write("")
        self.stdout.write(
            f"{'进程':<8}{'报告':>6}{'失败':>6}{'耗时(秒)':>10}{'CPU(秒)':>10}{'启动后内存(MB)':>16}{'内存峰值(MB)':>14}"
        )
        for s in stats:
            self.stdout.write(
                f"{s['pid']:<8}{_count(s['done']):>6}{_count(s['failed']):>6}{s['seconds']:>10.1f}{s['cpu_seconds']:>10.1f}"
                f"{s['rss_after_setup_mb']:>16.0f}{s['peak_rss_mb']:>14.0f}"
            )
        if load_before > (os.cpu_count() or 1):
            self.stdout.write("注意：测量时机器负载高于核数（其他进程占用 CPU），耗时偏大。")
        verdict = "达标" if wall < 300 and peak < 300 and not failed else "未达标"
        self.stdout.write(f"\n结论：{verdict}（{len(sizes)} 份，{wall:.1f} 秒，单进程内存峰值 {peak:.0f} MB）")
