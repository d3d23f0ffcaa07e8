"""Dues-base imports in the background (#18.5), as members.import_jobs does for member imports.

    upload ─▶ 检查中 (the file's rows read and its header checked in the request; every row checked
          by a worker) ─▶ 待确认 ─▶ 确认导入 ─▶ 导入中 ─▶ 已导入, or back to 待确认 with the reasons
          (nothing written)

A file that is not the template (not XLSX, wrong header, no rows) is refused in the request as
before. The checks and the all-or-nothing commit are members.dues.imports'.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import audit_log
from core import dates
from core.jobs import enqueue
from members.dues import imports
from members.dues.models import DuesImportBatch, ImportStatus
from organizations.models import Organization


def dues_import_upload(
    *, organization: Organization, year: int, data: bytes, filename: str, user: Any
) -> DuesImportBatch:
    """Read the file and check its header now; queue the row checks. Answers at once."""
    if len(data) > imports.MAX_BYTES:
        raise ValidationError({"file": f"文件过大（上限 {imports.MAX_BYTES // (1024 * 1024)} MB）"})
    if not 2000 <= year <= dates.today().year + 1:
        raise ValidationError({"year": f"年度应在 2000 至 {dates.today().year + 1} 之间"})
    raw_rows, header = imports._read_rows(data)
    if imports._check_header(header) or not raw_rows:
        # Not the template, or empty: the synchronous preview records why, as before.
        return imports.dues_import_preview(
            organization=organization, year=year, data=data, filename=filename, user=user
        )
    from members.tasks import dues_import_check_task  # import-here: members.tasks imports this module

    batch = DuesImportBatch(
        organization=organization,
        year=year,
        filename=filename[:200],
        status=ImportStatus.CHECKING,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    # The raw rows wait (encrypted, like the checked rows) for the worker.
    batch.set_rows([{"line": line, "values": values} for line, values in json.loads(json.dumps(raw_rows, default=str))])
    batch.save()
    enqueue(dues_import_check_task, batch.pk)
    return batch


def dues_import_check(batch_id: int) -> DuesImportBatch | None:
    """Worker: check every row of a 检查中 batch (→ 待确认 with the clean rows or every error)."""
    batch = DuesImportBatch.objects.select_related("organization", "created_by").filter(pk=batch_id).first()
    if batch is None or batch.status != ImportStatus.CHECKING:
        return batch  # a redelivered message, or discarded meanwhile
    raw_rows = [(row["line"], row["values"]) for row in batch.rows]
    clean, errors = imports._check_rows(
        organization=batch.organization, year=batch.year, user=batch.created_by, raw_rows=raw_rows
    )
    batch.errors = errors[:1000]
    batch.set_rows(clean if not errors else [])
    batch.row_count = len(raw_rows)
    batch.status = ImportStatus.PREVIEW
    batch.save(update_fields=["errors", "rows_cipher", "row_count", "status"])
    audit_log(
        event="dues_import_preview",
        user=batch.created_by,
        obj=batch,
        organization=batch.organization,
        detail={"year": batch.year, "rows": len(raw_rows), "errors": len(errors)},
    )
    return batch


def dues_import_commit_start(*, batch: DuesImportBatch, user: Any) -> DuesImportBatch:
    """确认导入: mark the batch 导入中 and queue the commit."""
    from members.tasks import dues_import_commit_task  # import-here: members.tasks imports this module

    with transaction.atomic():
        locked = DuesImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != ImportStatus.PREVIEW:
            raise ValidationError({"batch": "该批次已处理"})
        if locked.errors:
            raise ValidationError({"batch": "该批次有错误，不能导入；请修改表格后重新上传"})
        locked.status = ImportStatus.COMMITTING
        locked.failure = ""
        locked.save(update_fields=["status", "failure"])
        enqueue(dues_import_commit_task, locked.pk, user.pk)
    return locked


def dues_import_commit_run(batch_id: int, user_id: int) -> DuesImportBatch | None:
    """Worker: the all-or-nothing commit; refused → back to 待确认 with the reasons, nothing written."""
    batch = DuesImportBatch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status != ImportStatus.COMMITTING:
        return batch
    user = get_user_model().objects.get(pk=user_id)
    try:
        imports.dues_import_commit(batch=batch, user=user, from_status=ImportStatus.COMMITTING)
    except ValidationError as exc:
        DuesImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.COMMITTING).update(
            status=ImportStatus.PREVIEW, failure="；".join(exc.messages)[:200]
        )
    return DuesImportBatch.objects.get(pk=batch.pk)
