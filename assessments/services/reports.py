"""Quarterly inspection reports: requesting a batch for a subtree, planning it, generating each
report idempotently, and marking failures.

- One ``InspectionReport`` row per (organization, year, quarter, kind); a batch re-uses the rows.
  A report that is already done is skipped unless the batch was requested with ``force``.
- A report is claimed with a conditional UPDATE (pending/failed, or running but stale after a
  worker died), so two workers never generate the same report at once.
- Files are written to a temporary name in the target folder and moved into place with
  ``os.replace`` (atomic on one filesystem); the row becomes ``done`` only after that. A failure
  removes the temporary files and marks the row ``failed`` with the reason; retrying is allowed.

The tasks that run a batch are imported here at module level (this module enqueues them); the
tasks import this module only inside their bodies, so the import goes one way and never circles.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from assessments.choices import BatchStatus, ReportKind, ReportStatus
from assessments.models import InspectionReport, ReportBatch
from assessments.periods import previous_quarter, quarter_period
from assessments.tasks import report_batch_plan_task, report_generate_task  # no circle: see the docstring
from audit.services import audit_log
from core.access import get_scope
from core.dates import today
from organizations.choices import OrgType
from organizations.models import Organization

logger = logging.getLogger(__name__)

PLAN_CHUNK = 500
TASK_CHUNK = 20
REPORT_DIR = "inspection_reports"


def is_subtree_admin(user: Any, org: Organization) -> bool:
    """An org_admin over ``org`` (a read-write subtree role), who may request reports."""
    return get_scope(user).manages(org)


def _check_quarter(year: int, quarter: int) -> None:
    if quarter not in (1, 2, 3, 4):
        raise ValidationError({"quarter": "季度应为 1–4"})
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": "年度应在 2000 至 2100 之间"})
    if quarter_period(year, quarter).end >= today():
        raise ValidationError({"quarter": "只能生成已结束季度的报告"})


@transaction.atomic
def report_batch_request(
    *,
    organization: Organization,
    year: int,
    quarter: int,
    user: Any,
    force: bool = False,
    development_list: bool = False,
) -> ReportBatch:
    """Ask for every report of ``organization``'s subtree for a past quarter (an org_admin over
    it). The plan and the generation run in Celery after the transaction commits."""
    if not is_subtree_admin(user, organization):
        raise PermissionDenied("只有组织部门（org_admin）可以生成督查报告")
    _check_quarter(year, quarter)
    running = ReportBatch.objects.filter(
        organization__path__startswith=organization.path,
        year=year,
        quarter=quarter,
        status__in=[BatchStatus.PENDING, BatchStatus.RUNNING],
    )
    if running.exists():
        raise ValidationError({"quarter": "该季度的报告正在生成，请稍后再试"})
    batch = ReportBatch.objects.create(
        organization=organization,
        year=year,
        quarter=quarter,
        force=force,
        development_list=development_list,
        requested_by=user,
    )
    audit_log(
        event="inspection_report_request",
        user=user,
        obj=batch,
        organization=organization,
        detail={"year": year, "quarter": quarter, "force": force, "development_list": development_list},
    )
    transaction.on_commit(lambda: report_batch_plan_task.delay(batch.pk))
    return batch


def _report_orgs(root: Organization) -> Iterator[tuple[int, str]]:
    return (
        Organization.objects.filter(path__startswith=root.path)
        .exclude(org_type=OrgType.GROUP)
        .order_by("path")
        .values_list("pk", "path")
        .iterator(chunk_size=PLAN_CHUNK)
    )


def _chunks(iterable: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def report_batch_plan(*, batch_id: int) -> list[list[int]]:
    """System: create the batch's report rows (idempotently) and return the ids to generate, in
    chunks. Reports of the quarter that are already done are kept unless the batch is forced.
    Trusts its caller (the plan task; the batch was authorized when it was requested)."""
    batch = ReportBatch.objects.select_related("organization").get(pk=batch_id)
    root = batch.organization
    period = quarter_period(batch.year, batch.quarter)
    parents = {path[: -Organization.steplen] for _pk, path in _report_orgs(root) if len(path) > len(root.path)}
    queued: list[list[int]] = []
    total = 0
    for chunk in _chunks(_report_orgs(root), PLAN_CHUNK):
        rows = []
        for pk, path in chunk:
            for kind in (ReportKind.SINGLE, ReportKind.ROLLUP):
                if kind == ReportKind.ROLLUP and path not in parents:
                    continue
                rows.append(
                    InspectionReport(
                        organization_id=pk,
                        year=batch.year,
                        quarter=batch.quarter,
                        kind=kind,
                        period_start=period.start,
                        period_end=period.end,
                    )
                )
        InspectionReport.objects.bulk_create(rows, ignore_conflicts=True)
        ids = [pk for pk, _path in chunk]
        mine = InspectionReport.objects.filter(organization_id__in=ids, year=batch.year, quarter=batch.quarter)
        if not batch.force:
            mine = mine.exclude(status=ReportStatus.DONE)
        mine = mine.exclude(status=ReportStatus.RUNNING, started_at__gte=timezone.now() - _stale_after())
        mine.update(status=ReportStatus.PENDING, batch=batch, error="")
        todo = list(
            InspectionReport.objects.filter(batch=batch, organization_id__in=ids, status=ReportStatus.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        total += len(todo)
        queued.extend(todo[i : i + TASK_CHUNK] for i in range(0, len(todo), TASK_CHUNK))
    ReportBatch.objects.filter(pk=batch.pk).update(
        total=total,
        status=BatchStatus.RUNNING if total else BatchStatus.DONE,
        finished_at=None if total else timezone.now(),
    )
    return queued


def _stale_after() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 1800)))


def _claim(report_id: int, *, force: bool) -> bool:
    now = timezone.now()
    if force:
        InspectionReport.objects.filter(pk=report_id, status=ReportStatus.DONE).update(status=ReportStatus.PENDING)
    claimable = Q(status__in=[ReportStatus.PENDING, ReportStatus.FAILED]) | Q(
        status=ReportStatus.RUNNING, started_at__lt=now - _stale_after()
    )
    return bool(
        InspectionReport.objects.filter(claimable, pk=report_id).update(
            status=ReportStatus.RUNNING, started_at=now, attempts=F("attempts") + 1
        )
    )


def _folder(report: InspectionReport) -> tuple[Path, str]:
    relative = f"{REPORT_DIR}/{report.year}Q{report.quarter}"
    folder = Path(settings.MEDIA_ROOT) / relative
    folder.mkdir(parents=True, exist_ok=True)
    return folder, relative


def inspection_report_generate(*, report_id: int, force: bool = False) -> str:
    """System: generate one report's PDF and XLSX. Returns "done", "skipped" (already done or
    claimed by another worker) or "failed" (the row says why). Trusts its caller (the tasks)."""
    # Same app, imported here on purpose: the PDF and XLSX renderers (reportlab, openpyxl) load
    # only where reports are generated, and each call uses the renderer its module holds now.
    from assessments.reports.data import build_report, secretary_name
    from assessments.reports.official import build_official
    from assessments.reports.pdf import render_pdf
    from assessments.reports.xlsx import render_xlsx
    from assessments.services.official import report_issuer, report_number_assign

    if not _claim(report_id, force=force):
        return "skipped"
    report = InspectionReport.objects.select_related("organization", "batch").get(pk=report_id)
    folder, relative = _folder(report)
    token = uuid.uuid4().hex
    tmp_pdf = folder / f".tmp-{token}.pdf"
    tmp_xlsx = folder / f".tmp-{token}.xlsx"
    stem = f"{report.organization_id}-{report.kind}"
    try:
        generated = timezone.localtime()
        period = quarter_period(report.year, report.quarter)
        development_list = bool(report.batch_id and report.batch.development_list)
        doc = build_report(
            report.organization,
            period,
            report.kind,
            generated=f"{generated:%Y-%m-%d %H:%M}",
            development_list=development_list,
        )
        issuer = report_issuer(report)
        doc.official = build_official(
            doc,
            report.organization,
            period,
            kind=report.kind,
            issuer_mark=issuer.issuer_mark,
            doc_number=report_number_assign(report=report),
            recipients=issuer.recipients,
            signatory=issuer.signatory,
            issued_on=generated.date(),
            secretary=secretary_name(report.organization),
        )
        render_pdf(doc, str(tmp_pdf), wide=report.kind == ReportKind.ROLLUP)
        render_xlsx(doc, str(tmp_xlsx))
        pdf_size, xlsx_size = tmp_pdf.stat().st_size, tmp_xlsx.stat().st_size
        os.replace(tmp_pdf, folder / f"{stem}.pdf")
        os.replace(tmp_xlsx, folder / f"{stem}.xlsx")
    except Exception as exc:  # noqa: BLE001 - any failure marks the report failed, with the reason
        for leftover in (tmp_pdf, tmp_xlsx):
            leftover.unlink(missing_ok=True)
        reason = f"{type(exc).__name__}: {exc}"[:1000]
        logger.exception("inspection report %s failed", report_id)
        InspectionReport.objects.filter(pk=report_id).update(status=ReportStatus.FAILED, error=reason)
        return "failed"
    InspectionReport.objects.filter(pk=report_id, status=ReportStatus.RUNNING).update(
        status=ReportStatus.DONE,
        pdf_file=f"{relative}/{stem}.pdf",
        xlsx_file=f"{relative}/{stem}.xlsx",
        pdf_size=pdf_size,
        xlsx_size=xlsx_size,
        generated_at=generated,
        error="",
        summary=doc.summary,
    )
    return "done"


def batch_tick(*, batch_id: int, outcome: str) -> None:
    """System: count one report of the batch and close the batch when every report is counted.
    Trusts its caller (``report_generate_chunk``)."""
    field = "failed" if outcome == "failed" else "done"
    ReportBatch.objects.filter(pk=batch_id).update(**{field: F(field) + 1})
    finished = ReportBatch.objects.filter(
        pk=batch_id, status__in=[BatchStatus.PENDING, BatchStatus.RUNNING], total__lte=F("done") + F("failed")
    )
    now = timezone.now()
    finished.filter(failed=0).update(status=BatchStatus.DONE, finished_at=now)
    finished.filter(failed__gt=0).update(status=BatchStatus.FAILED, finished_at=now)


def report_generate_chunk(*, batch_id: int | None, report_ids: list[int], force: bool = False) -> dict[str, int]:
    """System: generate a chunk of a batch's reports and count each outcome. Trusts its caller
    (the chunk task, the benchmark)."""
    outcomes = {"done": 0, "skipped": 0, "failed": 0}
    for report_id in report_ids:
        outcome = inspection_report_generate(report_id=report_id, force=force)
        outcomes[outcome] += 1
        if batch_id is not None:
            batch_tick(batch_id=batch_id, outcome=outcome)
    return outcomes


@transaction.atomic
def inspection_report_retry(*, report: InspectionReport, user: Any) -> InspectionReport:
    if not is_subtree_admin(user, report.organization):
        raise PermissionDenied("只有组织部门（org_admin）可以重新生成督查报告")
    if report.status != ReportStatus.FAILED:
        raise ValidationError({"status": "只有生成失败的报告可以重试"})
    InspectionReport.objects.filter(pk=report.pk, status=ReportStatus.FAILED).update(
        status=ReportStatus.PENDING, batch=None
    )
    audit_log(event="inspection_report_retry", user=user, obj=report, organization=report.organization)
    transaction.on_commit(lambda: report_generate_task.delay(report.pk))
    report.refresh_from_db()
    return report


def quarterly_reports_start(*, on: Any = None) -> list[int]:
    """System: the beat job: at the start of a quarter, one batch per top-level organization for
    the quarter just ended. Idempotent: reports already done are kept (no force). Trusts its
    caller (the beat task)."""
    on = on or today()
    year, quarter = previous_quarter(on)
    batch_ids = []
    for root in Organization.objects.filter(depth=1).order_by("path"):
        if ReportBatch.objects.filter(
            organization=root, year=year, quarter=quarter, status__in=[BatchStatus.PENDING, BatchStatus.RUNNING]
        ).exists():
            continue
        batch = ReportBatch.objects.create(organization=root, year=year, quarter=quarter)
        batch_ids.append(batch.pk)
    return batch_ids


def report_file_path(report: InspectionReport, fmt: str) -> Path:
    name = report.pdf_file.name if fmt == "pdf" else report.xlsx_file.name
    return Path(settings.MEDIA_ROOT) / name
