"""Reads over sanctions, suspended rights and status changes. Each function is a fixed number of
queries, whatever the number of members asked about."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from core.access import CHANGE, user_can
from members.discipline.models import (
    MemberSanction,
    MembershipStatusChange,
    RightsSuspension,
    SanctionKind,
)
from members.models import Member


def may_see_discipline(user: Any, member: Member) -> bool:
    """Sanctions, suspended rights and status history are shown only to those who may change the
    member's record (core.access): the branch secretary and the organization department above."""
    return user_can(user, CHANGE, member)


def probation_in_force_q(on: date, prefix: str = "") -> Q:
    """留党察看 decided on or before ``on`` whose period (last day ``until``) covers ``on``."""
    return Q(
        **{f"{prefix}kind": SanctionKind.PROBATION, f"{prefix}decided_on__lte": on},
    ) & (Q(**{f"{prefix}until__isnull": True}) | Q(**{f"{prefix}until__gte": on}))


def rights_suspended_q(on: date, prefix: str = "") -> Q:
    """留置/逮捕 started on or before ``on`` and not yet ended (``end_on`` is the first day back)."""
    return Q(**{f"{prefix}start_on__lte": on}) & (
        Q(**{f"{prefix}end_on__isnull": True}) | Q(**{f"{prefix}end_on__gt": on})
    )


def member_under_probation_on(member: Member, on: date) -> bool:
    """留党察看 in force on ``on``: no vote (§2), cannot be an 入党介绍人 (FZ). One query."""
    return MemberSanction.objects.filter(probation_in_force_q(on), member=member).exists()


def _probation_in_force(on: date) -> QuerySet[MemberSanction]:
    # No ordering: the model's default one joins the member for nothing.
    return MemberSanction.objects.filter(probation_in_force_q(on)).order_by()


def _rights_suspended(on: date) -> QuerySet[RightsSuspension]:
    return RightsSuspension.objects.filter(rights_suspended_q(on)).order_by()


def members_without_vote_on(member_ids: Iterable[int], on: date) -> set[int]:
    """Of ``member_ids``, those who have no vote on ``on`` although they are 正式党员: under
    留党察看, or with rights suspended (留置/逮捕, XJ §5). Two queries, none when the list is empty."""
    ids = list(member_ids)
    if not ids:
        return set()
    probation = _probation_in_force(on).filter(member_id__in=ids).values_list("member_id", flat=True)
    suspended = _rights_suspended(on).filter(member_id__in=ids).values_list("member_id", flat=True)
    return set(probation) | set(suspended)


def with_vote_withheld_on(members: QuerySet[Member], on: date) -> QuerySet[Member]:
    """``members`` annotated with ``vote_withheld`` (True: under 留党察看 or with rights suspended on
    ``on``): the rule of ``members_without_vote_on`` read in the members' own query (#20.3)."""
    return members.annotate(
        vote_withheld=Exists(_probation_in_force(on).filter(member=OuterRef("pk")))
        | Exists(_rights_suspended(on).filter(member=OuterRef("pk")))
    )


def member_has_vote_on(member: Member, on: date) -> bool:
    return not members_without_vote_on([member.pk], on)


def member_sanctions(*, member: Member) -> QuerySet[MemberSanction]:
    return MemberSanction.objects.filter(member=member).select_related("deciding_organization").order_by(
        "-decided_on", "-pk"
    )


def member_rights_suspensions(*, member: Member) -> QuerySet[RightsSuspension]:
    return RightsSuspension.objects.filter(member=member).order_by("-start_on", "-pk")


def member_status_changes(*, member: Member) -> QuerySet[MembershipStatusChange]:
    return MembershipStatusChange.objects.filter(member=member).order_by("-on", "-pk")


def sanctions_ending_between(*, start: date, end: date) -> QuerySet[MemberSanction]:
    """留党察看 and 限期改正 whose period ends between ``start`` and ``end`` (reminders), for members
    still in the party."""
    return (
        MemberSanction.objects.filter(
            kind__in=[SanctionKind.PROBATION, SanctionKind.CORRECTION], until__range=(start, end)
        )
        .filter(member__membership_status__in=["normal", "suspended"])
        .select_related("member__organization")
        .order_by("until", "pk")
    )
