"""Study: training and self-study hours (学时), 学习强国 points, and the per-organization
settings for both. Hours earned at meetings are written by ``meetings.meeting_save``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from activities.choices import StudySource
from activities.models import ActivitySettings, StudyPoints, StudyRecord
from audit.services import audit_log
from core.access import CHANGE, VIEW, get_scope, user_can
from core.dates import today
from members.models import Member
from organizations.models import Organization


def _may_record_study(user: Any, member: Member, source: str) -> bool:
    """The secretary (or above) records for the branch's members; a member records their own
    self-study."""
    if user_can(user, CHANGE, member):
        return True
    return source == StudySource.SELF_STUDY and get_scope(user).member_id == member.pk


@transaction.atomic
def study_record_create(
    *, user: Any, member: Member, source: str, studied_on: dt.date, hours: Decimal, title: str, organizer: str = ""
) -> StudyRecord:
    """Training or self-study hours for one member: the secretary (or above) for the branch's
    members, a member for their own self-study (refused with a ``member`` field error)."""
    errors: dict[str, str] = {}
    if source not in (StudySource.TRAINING, StudySource.SELF_STUDY):
        errors["source"] = "只能登记培训班或自学，会议学时由会议记录自动计入"
    if studied_on > today():
        errors["studied_on"] = "学习日期不能晚于今天"
    if not (Decimal("0.5") <= hours <= Decimal("200")):
        errors["hours"] = "学时应在 0.5 至 200 之间"
    if not title.strip():
        errors["title"] = "请填写学习内容"
    if errors:
        raise ValidationError(errors)
    if not _may_record_study(user, member, source):
        raise ValidationError({"member": "只能为本人登记自学，或由书记为本支部党员登记"})
    record = StudyRecord.objects.create(
        member=member,
        organization_id=member.organization_id,
        source=source,
        studied_on=studied_on,
        hours=hours,
        title=title.strip()[:200],
        organizer=organizer.strip()[:100],
        entered_by=user,
    )
    audit_log(event="study_record_create", user=user, obj=record, organization=record.organization, detail={})
    return record


def study_record_may_delete(user: Any, record: StudyRecord) -> bool:
    """The secretary (or above) for the branch's records; a member for their own self-study."""
    return _may_record_study(user, record.member, record.source)


@transaction.atomic
def study_record_delete(*, user: Any, record: StudyRecord) -> None:
    """Delete a training or self-study record (``study_record_may_delete`` says who may; refused
    with a ``member`` field error). Meeting hours go with the meeting's attendance."""
    if record.source == StudySource.MEETING:
        raise ValidationError({"source": "会议学时随会议记录自动计入，请修改会议的出席情况"})
    if not study_record_may_delete(user, record):
        raise ValidationError({"member": "无权删除该学习记录"})
    audit_log(event="study_record_delete", user=user, obj=record, organization=record.organization, detail={})
    record.delete()


def activity_settings_for(organization: Organization) -> ActivitySettings:
    settings_row = ActivitySettings.objects.filter(organization=organization).first()
    return settings_row or ActivitySettings(organization=organization)


@transaction.atomic
def activity_settings_update(
    *, user: Any, organization: Organization, study_points_enabled: bool, advisory_summary_enabled: bool
) -> ActivitySettings:
    """Switch 学习强国 points and the advisory summary on or off for ``organization`` (the user
    must record for it)."""
    if not get_scope(user).may_record_for(organization):
        raise PermissionDenied("无权修改该组织的设置")
    row, _ = ActivitySettings.objects.get_or_create(organization=organization)
    row.study_points_enabled = study_points_enabled
    row.advisory_summary_enabled = advisory_summary_enabled
    row.save()
    audit_log(
        event="activity_settings_update",
        user=user,
        obj=row,
        organization=organization,
        detail={"study_points": study_points_enabled, "advisory_summary": advisory_summary_enabled},
    )
    return row


@transaction.atomic
def study_points_record(*, user: Any, member: Member, recorded_on: dt.date, points: int) -> StudyPoints:
    """学习强国 points as a dated number (one per member per date; re-entering replaces it): the
    member themself, or the secretary (or above) for the branch's members (refused with a
    ``member`` field error)."""
    if not activity_settings_for(member.organization).study_points_enabled:
        raise ValidationError({"points": "本组织未启用学习强国积分记录"})
    if recorded_on > today():
        raise ValidationError({"recorded_on": "日期不能晚于今天"})
    if points < 0 or points > 1_000_000:
        raise ValidationError({"points": "积分应为 0 至 1000000 之间的整数"})
    if not (user_can(user, CHANGE, member) or get_scope(user).member_id == member.pk):
        raise ValidationError({"member": "只能为本人或本支部党员登记"})
    row, created = StudyPoints.objects.update_or_create(
        member=member,
        recorded_on=recorded_on,
        defaults={"points": points, "organization_id": member.organization_id, "entered_by": user},
    )
    audit_log(
        event="study_points_record",
        user=user,
        obj=row,
        organization=member.organization,
        detail={"member_id": member.pk, "recorded_on": f"{recorded_on:%Y-%m-%d}", "points": points, "new": created},
    )
    return row


def member_visible(user: Any, member_id: Any) -> Member | None:
    """A member record through the gate (None when not visible)."""
    try:
        return Member.objects.visible_to(user, VIEW).select_related("organization").get(pk=member_id)
    except (Member.DoesNotExist, ValueError, TypeError):
        return None
