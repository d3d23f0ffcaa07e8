"""Meeting and evidence attachments: checked by content (``core.uploads``: the one upload check
of the app), stored under random names, served only through an access-checked view (security.md
UP-1..3, DATA-6).
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from activities.choices import AttachmentKind
from activities.models import Attachment, Meeting
from audit.services import audit_log
from core.access import CHANGE, user_can
from core.uploads import EXTENSIONS, CheckedFile, check_upload

SUBDIR = "attachments"


def attachment_check(*, name: str, content: bytes) -> CheckedFile:
    """Validate one meeting or evidence upload (``core.uploads.check_upload``)."""
    return check_upload(name=name, content=content, max_bytes=settings.PB_ATTACHMENT_MAX_BYTES)


def storage_root() -> Path:
    return Path(settings.MEDIA_ROOT) / SUBDIR


def attachment_path(attachment: Attachment) -> Path:
    return storage_root() / attachment.stored_name[:2] / attachment.stored_name


@transaction.atomic
def attachment_add(
    *, user: Any, meeting: Meeting, name: str, content: bytes, kind: str = AttachmentKind.OTHER
) -> Attachment:
    """Check, store and record a file of ``meeting`` (the user must be allowed to change it)."""
    if not user_can(user, CHANGE, meeting):
        raise PermissionDenied("无权为该会议上传附件")
    if kind not in AttachmentKind.values:
        raise ValidationError({"kind": "附件类别无效"})
    checked = attachment_check(name=name, content=content)
    stored_name = f"{secrets.token_hex(16)}.{EXTENSIONS[checked.content_type]}"
    attachment = Attachment(
        organization_id=meeting.organization_id,
        meeting=meeting,
        kind=kind,
        original_name=checked.original_name,
        stored_name=stored_name,
        content_type=checked.content_type,
        size=len(checked.content),
        sha256=hashlib.sha256(checked.content).hexdigest(),
        uploaded_by=user,
    )
    path = attachment_path(attachment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(checked.content)
    path.chmod(0o640)
    try:
        attachment.save()
        audit_log(
            event="attachment_add",
            user=user,
            obj=attachment,
            organization=meeting.organization,
            detail={"meeting": meeting.pk, "type": checked.content_type, "size": attachment.size},
        )
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return attachment


def attachment_files_delete_on_commit(attachments: list[Attachment]) -> None:
    """Deleting a row does not delete its file in Django; do it once the deletion commits."""
    paths = [attachment_path(a) for a in attachments]

    def _delete() -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    transaction.on_commit(_delete)


@transaction.atomic
def attachment_delete(*, user: Any, attachment: Attachment) -> None:
    """Delete an attachment; its file goes once the deletion commits (the user must be allowed to
    change it)."""
    if not user_can(user, CHANGE, attachment):
        raise PermissionDenied("无权删除该附件")
    attachment_files_delete_on_commit([attachment])
    audit_log(
        event="attachment_delete",
        user=user,
        obj=attachment,
        organization=attachment.organization,
        detail={"meeting": attachment.meeting_id},
    )
    attachment.delete()
