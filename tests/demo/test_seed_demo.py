import pytest
from django.core.management import call_command

from core.roles import Role
from demo.seed import demo_reset
from members.choices import DuesCategory, Stage
from members.models import Member
from organizations.choices import OrgType
from organizations.models import Organization, RoleAssignment

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(Organization.objects.order_by("path").values_list("path", "name", "org_type")),
        list(Member.objects.order_by("pk").values_list("name", "stage", "dues_category", "organization__code")),
    )


def test_seed_is_deterministic_and_covers_every_stage_and_category(capsys):
    call_command("seed_demo", orgs=60, members=600, seed=7)
    first = snapshot()
    out = capsys.readouterr().out
    for username in ("orgadmin", "secretary", "member", "auditor", "sysadmin"):
        assert username in out
    assert Organization.objects.count() == 60
    assert set(Member.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert set(Member.objects.values_list("dues_category", flat=True)) == set(DuesCategory.values)
    assert set(Organization.objects.values_list("org_type", flat=True)) >= {
        OrgType.COMMITTEE,
        OrgType.GENERAL_BRANCH,
        OrgType.BRANCH,
        OrgType.GROUP,
    }
    assert set(RoleAssignment.objects.values_list("role", flat=True)) == set(Role.values)
    # materialized paths are consistent: every non-root's parent exists, numchild is right
    for org in Organization.objects.all():
        assert Organization.objects.children_of(org).count() == org.numchild
    demo_reset()
    call_command("seed_demo", orgs=60, members=600, seed=7)
    second = snapshot()
    assert first == second


def test_seed_refuses_to_overwrite_without_reset():
    call_command("seed_demo", orgs=5, members=10, seed=1)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("seed_demo", orgs=5, members=10, seed=1)
    call_command("seed_demo", orgs=5, members=10, seed=1, if_empty=True)
    assert Organization.objects.count() == 5


def test_13_16_branch_secretary_is_the_demo_secretary_login_on_the_roster():
    from datetime import date

    from activities.selectors import committee_members_on
    from members.selectors import member_roster_on
    from organizations.models import Position

    call_command("seed_demo", orgs=40, members=500, seed=3)
    secretary = RoleAssignment.objects.select_related("user", "organization").get(role=Role.SECRETARY)
    branch = secretary.organization
    seat = Position.objects.get(
        term__organization=branch, term__ended_on__isnull=True, position="secretary", end_on__isnull=True
    )
    assert seat.member is not None and seat.member.user_id == secretary.user_id
    assert seat.person_name == seat.member.name
    assert secretary.user.first_name.endswith(seat.member.name)
    on = date.today()
    assert seat.member in member_roster_on(organization=branch, on=on)
    # Every held seat is held by a member of that organization's subtree, so reports name real people.
    held = Position.objects.filter(member__isnull=False).select_related("member__organization", "term__organization")
    assert held.exists()
    for position in held:
        assert position.member.organization.path.startswith(position.term.organization.path)
    assert committee_members_on(organization=branch, on=on)[0].member == seat.member
