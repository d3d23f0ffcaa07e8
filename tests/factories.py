"""factory_boy factories shared by every test module."""

from __future__ import annotations

from datetime import date

import factory
from django.contrib.auth import get_user_model

from members.choices import DuesCategory, MembershipStatus, Sex, Stage
from members.models import Member, OrganizationMembership
from organizations.choices import OrgType
from organizations.models import Organization, RoleAssignment
from organizations.services import organization_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("Passw0rd!x")


_org_seq = iter(range(1, 10**9))


def make_org(name: str, org_type: str = OrgType.BRANCH, parent: Organization | None = None, **extra) -> Organization:
    """Create an organization through the service (so placement rules apply)."""
    n = next(_org_seq)
    return organization_create(
        parent=parent,
        name=name,
        short_name=extra.pop("short_name", name),
        code=extra.pop("code", f"T{n:06d}"),
        org_type=org_type,
        **extra,
    )


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"党员{n}")
    sex = Sex.MALE
    birth_date = date(1985, 3, 15)
    stage = Stage.FULL
    membership_status = MembershipStatus.NORMAL
    joined_on = date(2010, 7, 1)
    full_on = date(2011, 7, 1)
    dues_category = DuesCategory.EMPLOYED

    @factory.post_generation
    def roster(obj, create, extracted, **kwargs):  # noqa: N805
        """Open the member's roster row, as member_create does (``roster=date`` sets its start)."""
        if create:
            start = extracted or obj.joined_on or date(2000, 1, 1)
            OrganizationMembership.objects.create(member=obj, organization=obj.organization, start_on=start)


def assign(user, org: Organization, role: str) -> RoleAssignment:
    return RoleAssignment.objects.create(user=user, organization=org, role=role)
