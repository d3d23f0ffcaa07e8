"""Member imports in the background (#18.5): the request only uploads, a worker checks and commits.

    upload ─▶ 检查中 (CHECKING: the encrypted upload waits for a worker; rows checked so far shown)
          ─▶ 待确认 (PREVIEWED: the checked rows, or every error by line number)
    确认导入 ─▶ 导入中 (COMMITTING) ─▶ 已导入 (all rows, one transaction) or back to 待确认 with the
          errors found on the re-check (nothing written)

The checks, the all-or-nothing commit and the rollback are those of members.imports; this module
only moves them to Celery (members.tasks). A worker killed mid-step leaves the batch in its state:
the task is acknowledged late, so it is redelivered and the step runs again from the start (the
commit's transaction was rolled back with the worker).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import audit_log
from core.jobs import enqueue
from members import crypto
from members.choices import ImportStatus
from members.imports import FILE_FIELD, check_file, check_rows, import_commit, read_rows, rows_to_bytes
from members.models import ImportBatch
from organizations.models import Organization

PROGRESS_EVERY = 500
RAW_FIELD = "members.import_upload"


def import_upload(*, user: Any, scope: Organization, data: bytes, file_name: str) -> ImportBatch:
    """Keep the upload (encrypted) and queue its check; answers at once."""
    check_file(data)  # not an XLSX, too big, or not the template: refused at once, no batch
    from members.tasks import import_check_task  # import-here: members.tasks imports this module

    batch = ImportBatch.objects.create(
        organization=scope,
        created_by=user,
        file_name=file_name[:200],
        file_cipher=crypto.encrypt_bytes(data, field=RAW_FIELD),
        status=ImportStatus.CHECKING,
    )
    enqueue(import_check_task, batch.pk)
    return batch


def import_check(batch_id: int) -> ImportBatch | None:
    """Worker: check the upload of a 检查中 batch and turn it into a preview."""
    batch = ImportBatch.objects.select_related("organization", "created_by").filter(pk=batch_id).first()
    if batch is None or batch.status != ImportStatus.CHECKING:
        return batch  # already checked (a redelivered message) or discarded
    data = crypto.decrypt_bytes(batch.file_cipher, field=RAW_FIELD)
    try:
        rows = read_rows(data)
    except ValidationError as exc:
        ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.CHECKING).update(
            status=ImportStatus.PREVIEWED,
            file_cipher=b"",
            error_count=1,
            errors=[[0, "文件", message] for message in exc.messages],
        )
        return ImportBatch.objects.get(pk=batch.pk)
    ImportBatch.objects.filter(pk=batch.pk).update(row_count=len(rows), progress_done=0)

    def progress(done: int) -> None:
        ImportBatch.objects.filter(pk=batch.pk).update(progress_done=done)

    result = check_rows(rows=rows, user=batch.created_by, scope=batch.organization, progress=progress)
    ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.CHECKING).update(
        status=ImportStatus.PREVIEWED,
        file_cipher=crypto.encrypt_bytes(rows_to_bytes(rows), field=FILE_FIELD) if result.error_count == 0 else b"",
        row_count=result.row_count,
        progress_done=result.row_count,
        error_count=result.error_count,
        errors=result.errors,
        failure="",
    )
    return ImportBatch.objects.get(pk=batch.pk)


def import_commit_start(*, batch: ImportBatch, user: Any) -> ImportBatch:
    """确认导入: mark the batch 导入中 and queue the commit; answers at once."""
    from members.tasks import import_commit_task  # import-here: members.tasks imports this module

    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != ImportStatus.PREVIEWED or not locked.file_cipher or locked.error_count:
            raise ValidationError({"batch": "该批次不能导入（已导入、已放弃或预览有错误）"})
        locked.status = ImportStatus.COMMITTING
        locked.failure = ""
        locked.save(update_fields=["status", "failure"])
        audit_log(event="member_import_queued", user=user, obj=locked, organization=locked.organization)
        enqueue(import_commit_task, locked.pk, user.pk)
    return locked


def import_commit_run(batch_id: int, user_id: int) -> ImportBatch | None:
    """Worker: the all-or-nothing commit of a 导入中 batch (members.imports.import_commit)."""
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status != ImportStatus.COMMITTING:
        return batch  # done already (a redelivered message)
    user = get_user_model().objects.get(pk=user_id)
    try:
        return import_commit(batch=batch, user=user, from_status=ImportStatus.COMMITTING)
    except ValidationError as exc:
        # Refused on the re-check: nothing was written; the batch shows the errors found.
        ImportBatch.objects.filter(pk=batch.pk).update(failure="；".join(exc.messages)[:200])
        return ImportBatch.objects.get(pk=batch.pk)
