"""What the 党费 services share: the error collector, change announcements, the collecting branch."""


from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError

from core.signals import rows_changed
from members.choices import MembershipStatus, Stage
from members.dues.models import (
    DuesMonth,
)
from members.models import Member
from organizations.choices import OrgType
from organizations.models import Organization


class Errors:
    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def members_changed(org_ids: Iterable[int]) -> None:
    """A bulk update of members' dues category sends no model signal: announce it."""
    rows_changed.send(sender=Member, organization_ids=set(org_ids))


def dues_changed(org_ids: Iterable[int]) -> None:
    """Bulk writes of ledger rows send no model signal: announce which organizations' dues changed."""
    rows_changed.send(sender=DuesMonth, organization_ids=set(org_ids))


def month_label(month: date) -> str:
    return f"{month.year}年{month.month}月"


def dues_collecting_org(member: Member) -> Organization:
    """The branch that collects the member's dues: the one holding the 正式组织关系 (DF08 §9).

    A record attached to a 党小组 pays to the group's branch (a group is not a level that collects).
    """
    org = member.organization
    if org.org_type == OrgType.GROUP:
        parent = Organization.objects.parent_of(org)
        if parent is not None:
            return parent
    return org


def check_party_member(member: Member, errors: Errors) -> None:
    if member.stage not in (Stage.PROBATIONARY, Stage.FULL) or member.joined_on is None:
        errors.add("member", "尚未成为党员（支部大会通过接收并经上级党委批准之前）不核定党费")
    elif member.membership_status != MembershipStatus.NORMAL:
        errors.add("member", f"党籍状态为“{member.get_membership_status_display()}”，不核定党费")
