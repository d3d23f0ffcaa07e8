"""Optional evidence (佐证材料) for rating entries, 述职报告 and rectification items: an uploaded
file (checked by content with the activities attachment rules), a link to a meeting record, or
both. Evidence is never required (减负: no compulsory photos)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from activities.attachments import attachment_check
from activities.models import Meeting
from assessments.choices import DutyReportStatus, RatingStatus, RectificationStatus
from assessments.models import DutyReport, Evidence, RatingEntry, RectificationItem
from assessments.services.ratings import is_org_editor
from audit.services import audit_log
from core.access import CHANGE, VIEW, user_can

SUBDIR = "assessments/evidence"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


def _target_org(target: Any) -> Any:
    if isinstance(target, RatingEntry):
        return target.rating.organization
    return target.organization


def _check_target(user: Any, target: Any) -> None:
    org = _target_org(target)
    if isinstance(target, RatingEntry):
        if not is_org_editor(user, org):
            raise PermissionDenied("只有本组织书记可以上传自评佐证")
        if target.rating.status != RatingStatus.DRAFT:
            raise ValidationError({"file": "自评已提交，不能再添加佐证"})
    elif isinstance(target, DutyReport):
        if not is_org_editor(user, org):
            raise PermissionDenied("只有本组织书记可以上传述职材料")
        if target.status == DutyReportStatus.APPRAISED:
            raise ValidationError({"file": "述职报告已评议，不能再添加材料"})
    elif isinstance(target, RectificationItem):
        if not user_can(user, CHANGE, org):
            raise PermissionDenied("无权为该整改事项添加材料")
        if target.status == RectificationStatus.CLOSED:
            raise ValidationError({"file": "整改事项已销号"})
    else:  # pragma: no cover - programming error
        raise TypeError(target)


@transaction.atomic
def evidence_add(
    *,
    user: Any,
    target: RatingEntry | DutyReport | RectificationItem,
    title: str = "",
    name: str = "",
    content: bytes | None = None,
    meeting_id: int | None = None,
) -> Evidence:
    _check_target(user, target)
    org = _target_org(target)
    if not content and not meeting_id:
        raise ValidationError({"file": "请选择文件或关联一次会议记录"})
    evidence = Evidence(organization=org, uploaded_by=user, title=(title or "").strip()[:120])
    if isinstance(target, RatingEntry):
        evidence.entry = target
    elif isinstance(target, DutyReport):
        evidence.duty_report = target
    else:
        evidence.rectification = target
    if meeting_id:
        meeting = (
            Meeting.objects.visible_to(user, VIEW)
            .filter(pk=meeting_id, organization__path__startswith=org.path)
            .first()
        )
        if meeting is None:
            raise ValidationError({"meeting_id": "会议记录不存在"})
        evidence.meeting_id = meeting.pk
        evidence.title = evidence.title or f"{meeting.held_on:%Y-%m-%d} {meeting.get_meeting_type_display()}"
    if content:
        checked = attachment_check(name=name, content=content)
        relative = f"{SUBDIR}/{secrets.token_hex(16)}.{EXTENSIONS[checked.content_type]}"
        path = Path(settings.MEDIA_ROOT) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(checked.content)
        evidence.file.name = relative
        evidence.original_name = checked.original_name[:200]
        evidence.content_type = checked.content_type
        evidence.size = len(checked.content)
        evidence.title = evidence.title or checked.original_name[:120]
    evidence.save()
    audit_log(
        event="assessment_evidence_add",
        user=user,
        obj=evidence,
        organization=org,
        detail={"file": bool(content), "meeting_id": meeting_id},
    )
    return evidence


@transaction.atomic
def evidence_delete(*, user: Any, evidence: Evidence) -> None:
    target = evidence.entry or evidence.duty_report or evidence.rectification
    _check_target(user, target)
    path = Path(settings.MEDIA_ROOT) / evidence.file.name if evidence.file else None
    audit_log(event="assessment_evidence_delete", user=user, obj=evidence, organization=evidence.organization)
    evidence.delete()
    if path is not None:
        transaction.on_commit(lambda: path.unlink(missing_ok=True))


def evidence_path(evidence: Evidence) -> Path:
    return Path(settings.MEDIA_ROOT) / evidence.file.name
