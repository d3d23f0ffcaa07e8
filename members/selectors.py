"""Reads over member records."""
from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from members.choices import MembershipStatus, Stage
from members.models import Member, OrganizationMembership
from organizations.models import Organization


def member_roster_on(*, organization: Organization, on: date, include_groups: bool = True) -> QuerySet[Member]:
    """Party members (预备 and 正式) who belonged to ``organization`` on ``on``.

    Membership comes from the dated ``OrganizationMembership`` rows, not the current
    organization, so a meeting recorded late still gets the roster of its own day. With
    ``include_groups`` the branch's 党小组 count as the branch.
    """
    if include_groups:
        org_filter = Q(organization__path=organization.path) | Q(
            organization__path__startswith=organization.path, organization__org_type="group"
        )
    else:
        org_filter = Q(organization=organization)
    member_ids = OrganizationMembership.objects.filter(
        org_filter, Q(end_on__isnull=True) | Q(end_on__gt=on), start_on__lte=on
    ).values("member_id")
    return (
        Member.objects.filter(pk__in=member_ids, joined_on__isnull=False, joined_on__lte=on)
        .exclude(membership_status__in=[MembershipStatus.REMOVED, MembershipStatus.EXPELLED, MembershipStatus.DECEASED])
        .filter(stage__in=[Stage.PROBATIONARY, Stage.FULL])
        .order_by("name", "pk")
    )


def member_is_full_on(member: Member, on: date) -> bool:
    """正式党员 on that date: 转正 recorded on or before it (党龄 counts from 转正, FZ)."""
    return member.full_on is not None and member.full_on <= on


def member_can_vote_on(member: Member, on: date) -> bool:
    """Only 正式党员 in normal standing vote (§2 voting rights). 预备党员 attend without a vote."""
    return member_is_full_on(member, on) and member.membership_status == MembershipStatus.NORMAL
