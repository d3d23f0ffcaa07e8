"""Writes for member records."""
from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from members.models import Member, OrganizationMembership
from organizations.models import Organization


@transaction.atomic
def member_create(*, organization: Organization, start_on: date | None = None, **fields: Any) -> Member:
    """Create a member and open their first roster row (from ``start_on``, default the join date)."""
    member = Member(organization=organization, **fields)
    member.full_clean()
    member.save()
    OrganizationMembership.objects.create(
        member=member, organization=organization, start_on=start_on or member.joined_on or member.created_at.date()
    )
    return member


@transaction.atomic
def member_move(*, member: Member, organization: Organization, on: date) -> Member:
    """Close the member's open roster row on ``on`` and open one in ``organization``."""
    if organization.pk == member.organization_id:
        raise ValidationError({"organization": "党员已在该组织"})
    current = OrganizationMembership.objects.select_for_update().filter(member=member, end_on__isnull=True).first()
    if current is not None:
        if on < current.start_on:
            raise ValidationError({"on": "转接日期不能早于转入当前组织的日期"})
        current.end_on = on
        current.save(update_fields=["end_on"])
    OrganizationMembership.objects.create(member=member, organization=organization, start_on=on)
    member.organization = organization
    member.save(update_fields=["organization", "updated_at"])
    return member
