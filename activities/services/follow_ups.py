"""Follow-up items (决议落实事项): opened by hand or by a resolution that needs action, then
tracked to done or cancelled."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from activities.choices import FollowUpStatus, MeetingType
from activities.models import FollowUp
from audit.services import audit_log
from core.access import CHANGE, get_scope, user_can
from core.dates import today
from organizations.models import Organization


@transaction.atomic
def follow_up_update(
    *,
    user: Any,
    follow_up: FollowUp,
    status: str | None = None,
    note: str | None = None,
    owner_name: str | None = None,
    due_on: dt.date | None | object = ...,
) -> FollowUp:
    """Change the status, note, owner or deadline of a follow-up item (the user must be allowed to
    change it); closing it stamps the day."""
    if not user_can(user, CHANGE, follow_up):
        raise PermissionDenied("无权修改该落实事项")
    if status is not None:
        if status not in FollowUpStatus.values:
            raise ValidationError({"status": "状态无效"})
        closing = status in (FollowUpStatus.DONE, FollowUpStatus.CANCELLED)
        if closing and not follow_up.closed_on:
            follow_up.closed_on = today()
        if not closing:
            follow_up.closed_on = None
        follow_up.status = status
    if note is not None:
        follow_up.note = note.strip()[:300]
    if owner_name is not None:
        follow_up.owner_name = owner_name.strip()[:50]
    if due_on is not ...:
        if due_on is not None and due_on < follow_up.opened_on:
            raise ValidationError({"due_on": "完成时限不能早于提出日期"})
        follow_up.due_on = due_on
    follow_up.save()
    audit_log(
        event="follow_up_update",
        user=user,
        obj=follow_up,
        organization=follow_up.organization,
        detail={"status": follow_up.status},
    )
    return follow_up


@transaction.atomic
def follow_up_create(
    *,
    user: Any,
    organization: Organization,
    title: str,
    body_type: str,
    opened_on: dt.date,
    owner_name: str = "",
    due_on: dt.date | None = None,
) -> FollowUp:
    """A follow-up item entered by hand (the user must record for ``organization``)."""
    if not get_scope(user).may_record_for(organization):
        raise PermissionDenied("无权为该组织登记落实事项")
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "请填写落实事项"
    if body_type not in MeetingType.values:
        errors["body_type"] = "会议类别无效"
    if due_on is not None and due_on < opened_on:
        errors["due_on"] = "完成时限不能早于提出日期"
    if errors:
        raise ValidationError(errors)
    follow_up = FollowUp.objects.create(
        organization=organization,
        body_type=body_type,
        title=title.strip()[:300],
        owner_name=owner_name.strip()[:50],
        due_on=due_on,
        opened_on=opened_on,
    )
    audit_log(event="follow_up_create", user=user, obj=follow_up, organization=organization, detail={})
    return follow_up
