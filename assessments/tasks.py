"""Celery tasks of assessments: thin wrappers that take ids and call services.

The plan task creates the batch's report rows and fans out chunk tasks of ``TASK_CHUNK`` reports,
so work spreads over every worker and each task stays short; reports are claimed with a
conditional UPDATE, so a redelivered task never generates a report twice.

A task is an interface: it takes ids, imports its service inside the body and calls it. Services
that enqueue import these tasks at module level (``assessments.services.reports``); importing the
services here only inside the bodies keeps that one direction free of an import circle.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="assessments.report_batch_plan", acks_late=True, time_limit=900, soft_time_limit=840)
def report_batch_plan_task(batch_id: int) -> int:
    from assessments.models import ReportBatch
    from assessments.services.reports import report_batch_plan

    if not ReportBatch.objects.filter(pk=batch_id).exists():
        return 0
    chunks = report_batch_plan(batch_id=batch_id)
    for ids in chunks:
        report_generate_chunk_task.delay(batch_id, ids)
    return len(chunks)


@shared_task(name="assessments.report_generate_chunk", acks_late=True, time_limit=1500, soft_time_limit=1440)
def report_generate_chunk_task(batch_id: int, report_ids: list[int]) -> dict[str, int]:
    from assessments.services.reports import report_generate_chunk

    return report_generate_chunk(batch_id=batch_id, report_ids=report_ids)


@shared_task(name="assessments.report_generate", acks_late=True, time_limit=600, soft_time_limit=540)
def report_generate_task(report_id: int) -> str:
    from assessments.services.reports import inspection_report_generate

    return inspection_report_generate(report_id=report_id)


@shared_task(name="assessments.quarterly_reports", acks_late=True, time_limit=600, soft_time_limit=540)
def quarterly_reports_task() -> list[int]:
    """Beat: at the start of each quarter, the reports of the quarter just ended."""
    from assessments.services.reports import quarterly_reports_start

    batch_ids = quarterly_reports_start()
    for batch_id in batch_ids:
        report_batch_plan_task.delay(batch_id)
    return batch_ids


@shared_task(name="assessments.ledger_batch_plan", acks_late=True, time_limit=600, soft_time_limit=540)
def ledger_batch_plan_task(batch_id: int) -> int:
    from assessments.ledger.batch import ledger_batch_plan
    from assessments.models import LedgerBatch

    if not LedgerBatch.objects.filter(pk=batch_id).exists():
        return 0
    chunks = ledger_batch_plan(batch_id=batch_id)
    for ids in chunks:
        ledger_generate_chunk_task.delay(batch_id, ids)
    return len(chunks)


@shared_task(name="assessments.ledger_generate_chunk", acks_late=True, time_limit=1500, soft_time_limit=1440)
def ledger_generate_chunk_task(batch_id: int, org_ids: list[int]) -> dict[str, int]:
    from assessments.ledger.batch import ledger_generate_chunk

    return ledger_generate_chunk(batch_id=batch_id, org_ids=org_ids)
