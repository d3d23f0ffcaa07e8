"""The service contract (docs/architecture.md): a write service given the acting user authorizes
it itself, whatever called it; ``None`` is a system call. Each row calls a service directly (no
view in between) as a user outside the object's organization and expects PermissionDenied, with
nothing written."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from members.dues.services.approvals import dues_approval_record
from members.dues.services.fixings import dues_fixing_create
from members.dues.services.payments import dues_branch_payments_record, dues_payment_record
from members.models import Member
from members.services import member_create, member_update
from organizations import services as org_services
from organizations.choices import OrgType
from organizations.models import Organization

pytestmark = pytest.mark.django_db


def _outsiders(cast):
    # secretary_b works in branch B, the auditor only reads, the member only sees their own rows.
    return [cast.users["secretary_b"], cast.users["auditor_p"], cast.users["member_a"], cast.users["outsider"]]


def test_organization_services_refuse_a_user_outside(cast):
    for user in _outsiders(cast):
        with pytest.raises(PermissionDenied):
            org_services.organization_update(org=cast.A, user=user, name="改名")
        with pytest.raises(PermissionDenied):
            org_services.organization_create(
                parent=cast.A, user=user, name="新小组", code="X-1", org_type=OrgType.GROUP
            )
        with pytest.raises(PermissionDenied):
            org_services.committee_term_start(org=cast.A, user=user, elected_on=date(2025, 1, 1))
    with pytest.raises(PermissionDenied):  # a new root: superusers only
        org_services.organization_create(
            parent=None, user=cast.users["org_admin_p"], name="新根", code="R-9", org_type=OrgType.COMMITTEE
        )
    assert Organization.objects.get(pk=cast.A.pk).name == cast.A.name
    assert not Organization.objects.filter(code__in=["X-1", "R-9"]).exists()


def test_organization_services_let_the_responsible_user_write(cast):
    org_services.organization_update(org=cast.A, user=cast.users["org_admin_p"], name="第一党支部（新）")
    org_services.organization_update(org=cast.A, user=cast.users["secretary_a"], name="第一党支部")
    assert Organization.objects.get(pk=cast.A.pk).name == "第一党支部"


def test_member_services_refuse_a_user_outside(cast):
    member = cast.member_a_record
    for user in _outsiders(cast):
        with pytest.raises(PermissionDenied):
            member_update(member=member, recorded_by=user, employer="外单位")
        with pytest.raises(PermissionDenied):
            member_create(organization=cast.A, recorded_by=user, name="冒名", sex="male", birth_date=date(1990, 1, 1))
    assert Member.objects.get(pk=member.pk).employer != "外单位"
    assert not Member.objects.filter(name="冒名").exists()
    member_update(member=member, recorded_by=cast.users["secretary_a"], employer="本单位")
    assert Member.objects.get(pk=member.pk).employer == "本单位"


def test_dues_services_refuse_a_user_outside(cast):
    member = cast.member_a_record
    fixing = dues_fixing_create(
        member=member, year=2026, category="student", fixed_on=date(2026, 1, 5), fixed_by=cast.users["secretary_a"]
    )
    assert fixing.pk
    month = date(2026, 1, 1)
    for user in [cast.users["secretary_b"], cast.users["auditor_p"], cast.users["outsider"]]:
        with pytest.raises(PermissionDenied):
            dues_fixing_create(member=member, year=2027, category="student", fixed_on=date(2027, 1, 5), fixed_by=user)
        with pytest.raises(PermissionDenied):
            dues_payment_record(member=member, months=[month], paid_on=date(2026, 1, 20), recorded_by=user)
        with pytest.raises(PermissionDenied):
            dues_branch_payments_record(
                organization=cast.A,
                month=month,
                entries=[(member.pk, None)],
                paid_on=date(2026, 1, 20),
                recorded_by=user,
            )
        with pytest.raises(PermissionDenied):
            dues_approval_record(
                member=member,
                kind="excused",
                start_month=month,
                reason="出差",
                approver="支委会",
                approved_on=date(2026, 1, 10),
                recorded_by=user,
            )
    assert not member.dues_payments.exists()
    # A member records their own payment (recorded as 本人).
    payment = dues_payment_record(
        member=member,
        months=[month],
        paid_on=date(2026, 1, 20),
        recorded_by=cast.users["member_a"],
        amounts={month: Decimal("0.20")},
    )
    assert payment.recorded_as == "self"
