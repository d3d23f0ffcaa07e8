"""The 台账 of every branch in a 党委's (or 党总支's) subtree for a year, as one ZIP, built by Celery
with the progress bar the report batches use.

- ``ledger_batch_request`` (an org_admin over the organization) creates the batch; after commit
  the plan task lists the branches (tree order) and fans out chunks of ``CHUNK`` branches.
- Each chunk writes one file per branch into the batch's folder (temporary name, then
  ``os.replace``) and counts it done or failed (with the reason).
- The chunk that counts the last branch claims the ZIP step with a conditional UPDATE
  (``zip_started_at``), so exactly one worker writes the ZIP (again via a temporary name) and
  removes the folder; then the batch is done (``failed`` if any branch failed: the ZIP holds
  the others).
"""

from __future__ import annotations

import logging
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from assessments.choices import BatchStatus
from assessments.ledger.services import ledger_file_build, year_and_format
from assessments.models import LedgerBatch
from assessments.services.reports import is_subtree_admin
from assessments.tasks import ledger_batch_plan_task
from audit.services import audit_log
from organizations.choices import BRANCH_TYPES
from organizations.models import Organization

logger = logging.getLogger(__name__)

CHUNK = 20
LEDGER_DIR = "ledgers"


def _folder(batch: LedgerBatch) -> Path:
    return Path(settings.MEDIA_ROOT) / LEDGER_DIR / str(batch.pk)


def branches_of(org: Organization) -> list[tuple[int, str]]:
    return list(
        Organization.objects.filter(path__startswith=org.path, org_type__in=list(BRANCH_TYPES))
        .order_by("path")
        .values_list("pk", "name")
    )


@transaction.atomic
def ledger_batch_request(*, organization: Organization, year: Any, fmt: str, user: Any) -> LedgerBatch:
    if not is_subtree_admin(user, organization):
        raise PermissionDenied("只有组织部门（org_admin）可以批量生成台账")
    errors: dict[str, str] = {}
    year = year_and_format(year, fmt, errors=errors, fmt_field="fmt")
    if not errors and not branches_of(organization):
        errors["organization"] = "该组织下没有党支部"
    if errors:
        raise ValidationError(errors)
    running = LedgerBatch.objects.filter(
        organization=organization, year=year, status__in=[BatchStatus.PENDING, BatchStatus.RUNNING]
    )
    if running.exists():
        raise ValidationError({"year": "该年度的台账正在生成，请稍后再试"})
    batch = LedgerBatch.objects.create(organization=organization, year=year, fmt=fmt, requested_by=user)
    audit_log(
        event="ledger_batch_request", user=user, obj=batch, organization=organization, detail={"year": year, "fmt": fmt}
    )
    transaction.on_commit(lambda: ledger_batch_plan_task.delay(batch.pk))
    return batch


def ledger_batch_plan(*, batch_id: int) -> list[list[int]]:
    """System: count the branches and return them in chunks. Trusts its caller (the plan task)."""
    batch = LedgerBatch.objects.select_related("organization").get(pk=batch_id)
    ids = [pk for pk, _name in branches_of(batch.organization)]
    LedgerBatch.objects.filter(pk=batch.pk).update(total=len(ids), status=BatchStatus.RUNNING)
    _folder(batch).mkdir(parents=True, exist_ok=True)
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


def ledger_generate_chunk(*, batch_id: int, org_ids: list[int]) -> dict[str, int]:
    """System: write the chunk's 台账 files and count each; the last one zips the batch. Trusts
    its caller (the chunk task, the benchmark)."""
    batch = LedgerBatch.objects.get(pk=batch_id)
    folder = _folder(batch)
    folder.mkdir(parents=True, exist_ok=True)
    outcomes = {"done": 0, "failed": 0}
    for org in Organization.objects.filter(pk__in=org_ids).order_by("path"):
        target = folder / f"{org.path}-{org.pk}.{batch.fmt}"
        tmp = folder / f".tmp-{org.pk}.{batch.fmt}"
        try:
            if not target.exists():  # a redelivered chunk does not build a branch twice
                ledger_file_build(organization=org, year=batch.year, fmt=batch.fmt, path=str(tmp))
                os.replace(tmp, target)
        except Exception as exc:  # noqa: BLE001 - a failing branch is counted and named, the others go on
            tmp.unlink(missing_ok=True)
            logger.exception("ledger of organization %s failed", org.pk)
            outcomes["failed"] += 1
            _tick(batch.pk, "failed", error=f"{org.name}：{type(exc).__name__}: {exc}"[:300])
            continue
        outcomes["done"] += 1
        _tick(batch.pk, "done")
    return outcomes


def _tick(batch_id: int, field: str, *, error: str = "") -> None:
    LedgerBatch.objects.filter(pk=batch_id).update(**{field: F(field) + 1})
    if error:
        with transaction.atomic():
            batch = LedgerBatch.objects.select_for_update().get(pk=batch_id)
            batch.errors = [*batch.errors, error][-50:]
            batch.save(update_fields=["errors"])
    claimed = LedgerBatch.objects.filter(
        pk=batch_id, zip_started_at__isnull=True, total__lte=F("done") + F("failed"), status=BatchStatus.RUNNING
    ).update(zip_started_at=timezone.now())
    if claimed:
        _zip(LedgerBatch.objects.select_related("organization").get(pk=batch_id))


def _zip(batch: LedgerBatch) -> None:
    folder = _folder(batch)
    names = {pk: name for pk, name in branches_of(batch.organization)}
    relative = f"{LEDGER_DIR}/{batch.pk}-{batch.year}.zip"
    target = Path(settings.MEDIA_ROOT) / relative
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, path in enumerate(sorted(p for p in folder.iterdir() if not p.name.startswith(".")), 1):
            org_id = int(path.stem.rsplit("-", 1)[1])
            archive.write(path, f"{number:04d}-{names.get(org_id, org_id)}-{batch.year}年组织生活台账.{batch.fmt}")
    os.replace(tmp, target)
    shutil.rmtree(folder, ignore_errors=True)
    LedgerBatch.objects.filter(pk=batch.pk).update(
        zip_file=relative,
        zip_size=target.stat().st_size,
        status=BatchStatus.FAILED if batch.failed else BatchStatus.DONE,
        finished_at=timezone.now(),
    )


def ledger_batch_zip_path(batch: LedgerBatch) -> Path:
    return Path(settings.MEDIA_ROOT) / batch.zip_file.name
