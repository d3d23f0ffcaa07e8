"""谈心谈话: talks recorded by the pair who talked (committee member and member)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from activities.choices import MeetingType
from activities.models import Talk
from activities.selectors import meeting_roster
from activities.services._common import fmt_day
from audit.services import audit_log
from core.access import CHANGE, get_scope, user_can
from core.dates import today
from members.models import Member
from organizations.models import Organization


@transaction.atomic
def talk_create(
    *,
    user: Any,
    organization: Organization,
    held_on: dt.date,
    initiator: Member,
    counterpart: Member,
    topic: str,
    place: str = "",
    note: str = "",
) -> Talk:
    """Record a talk between two people of ``organization`` (members or committee members on the
    day). The user must record for ``organization``."""
    if not get_scope(user).may_record_for(organization):
        raise PermissionDenied("无权为该组织登记谈话")
    return _create(
        user=user,
        organization=organization,
        held_on=held_on,
        initiator=initiator,
        counterpart=counterpart,
        topic=topic,
        place=place,
        note=note,
    )


@transaction.atomic
def talk_create_system(
    *,
    organization: Organization,
    held_on: dt.date,
    initiator: Member,
    counterpart: Member,
    topic: str,
    place: str = "",
    note: str = "",
) -> Talk:
    """System: ``talk_create`` with no acting user (the demo seed). Trusts its caller: nothing is
    authorized here, and the talk and its audit event name no user."""
    return _create(
        user=None,
        organization=organization,
        held_on=held_on,
        initiator=initiator,
        counterpart=counterpart,
        topic=topic,
        place=place,
        note=note,
    )


def _create(
    *,
    user: Any,
    organization: Organization,
    held_on: dt.date,
    initiator: Member,
    counterpart: Member,
    topic: str,
    place: str,
    note: str,
) -> Talk:
    errors: dict[str, str] = {}
    if held_on > today():
        errors["held_on"] = "谈话日期不能晚于今天"
    if initiator.pk == counterpart.pk:
        errors["counterpart"] = "谈话双方不能是同一人"
    if not topic.strip():
        errors["topic"] = "请填写谈话主题"
    if not errors:
        roster = meeting_roster(organization=organization, on=held_on, meeting_type=MeetingType.OTHER)
        committee = meeting_roster(organization=organization, on=held_on, meeting_type=MeetingType.COMMITTEE)
        allowed = {p.member_id for p in (*roster.expected, *committee.expected) if p.member_id}
        for field, person in (("initiator", initiator), ("counterpart", counterpart)):
            if person.pk not in allowed:
                errors[field] = f"所选人员在 {fmt_day(held_on)} 不是本组织党员或委员"
    if errors:
        raise ValidationError(errors)
    talk = Talk.objects.create(
        organization=organization,
        held_on=held_on,
        initiator=initiator,
        counterpart=counterpart,
        topic=topic.strip()[:200],
        place=place.strip()[:100],
        note=note.strip(),
        created_by=user,
    )
    audit_log(event="talk_create", user=user, obj=talk, organization=organization, detail={"held_on": fmt_day(held_on)})
    return talk


@transaction.atomic
def talk_delete(*, user: Any, talk: Talk) -> None:
    """Delete a talk record (the user must be allowed to change it)."""
    if not user_can(user, CHANGE, talk):
        raise PermissionDenied("无权删除该谈话记录")
    audit_log(event="talk_delete", user=user, obj=talk, organization=talk.organization, detail={})
    talk.delete()
