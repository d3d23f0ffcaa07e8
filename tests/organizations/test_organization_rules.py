"""Placement rules, committee terms and the computed flags (../shared/domain-rules.md §§1–2)."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from members.choices import Stage
from organizations import services
from organizations.choices import OrgType, PositionCode, TermKind
from organizations.models import CommitteeTerm, Organization, Position
from organizations.selectors import organization_flags, organization_with_flag_data
from tests.factories import MemberFactory, make_org

pytestmark = pytest.mark.django_db


def flags_of(org, on=None):
    annotated = organization_with_flag_data(Organization.objects.filter(pk=org.pk)).get()
    return {flag.code for flag in organization_flags(annotated, on=on)}


@pytest.mark.parametrize(
    "child_type,parent_type",
    [
        (OrgType.GROUP, OrgType.COMMITTEE),
        (OrgType.GROUP, OrgType.GENERAL_BRANCH),
        (OrgType.GROUP, None),
        (OrgType.BRANCH, OrgType.BRANCH),
        (OrgType.BRANCH, OrgType.GROUP),
        (OrgType.GENERAL_BRANCH, OrgType.GENERAL_BRANCH),
        (OrgType.COMMITTEE, OrgType.BRANCH),
    ],
)
def test_invalid_parent_types_are_refused_and_nothing_saved(child_type, parent_type):
    parent = None
    if parent_type == OrgType.GROUP:
        parent = make_org("小组", OrgType.GROUP, parent=make_org("支部", OrgType.BRANCH))
    elif parent_type:
        parent = make_org("上级", parent_type)
    before = Organization.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.organization_create(parent=parent, name="新组织", code="NEW1", org_type=child_type)
    assert "parent" in exc.value.message_dict
    assert "不能" in exc.value.message_dict["parent"][0]
    assert Organization.objects.count() == before


def test_valid_placements():
    committee = make_org("党委", OrgType.COMMITTEE)
    general = make_org("总支", OrgType.GENERAL_BRANCH, parent=committee)
    branch = make_org("支部", OrgType.BRANCH, parent=general)
    group = make_org("小组", OrgType.GROUP, parent=branch)
    standalone = make_org("独立支部", OrgType.BRANCH)
    assert Organization.objects.parent_of(group) == branch
    assert standalone.is_root()


def test_move_into_own_subtree_is_a_cycle(cast):
    committee = make_org("上级党委", OrgType.COMMITTEE)
    sub = make_org("下级党委", OrgType.COMMITTEE, parent=committee)
    with pytest.raises(ValidationError) as exc:
        services.organization_update(org=committee, parent=sub)
    assert "循环" in exc.value.message_dict["parent"][0]
    committee.refresh_from_db()
    assert committee.is_root()


def test_move_branch_to_another_committee_moves_its_groups(cast):
    services.organization_update(org=cast.A, parent=cast.Q)
    cast.A.refresh_from_db()
    cast.A1.refresh_from_db()
    assert Organization.objects.parent_of(cast.A) == cast.Q
    assert cast.A1.path.startswith(cast.Q.path)


def test_type_change_must_fit_existing_children(cast):
    with pytest.raises(ValidationError) as exc:
        services.organization_update(org=cast.A, org_type=OrgType.GENERAL_BRANCH)
    assert "党小组" in exc.value.message_dict["org_type"][0]


def test_duplicate_code_refused(cast):
    with pytest.raises(ValidationError) as exc:
        services.organization_create(parent=cast.P, name="重复", code=cast.A.code, org_type=OrgType.BRANCH)
    assert "code" in exc.value.message_dict


def test_temporary_branch_cannot_hold_elections_or_collect_dues(cast):
    temp = make_org("临时支部", OrgType.TEMPORARY_BRANCH, parent=cast.P)
    assert not temp.can_collect_dues
    with pytest.raises(ValidationError):
        services.committee_term_start(org=temp, elected_on=date(2025, 1, 1))
    term = services.committee_term_start(org=temp, elected_on=date(2025, 1, 1), kind=TermKind.APPOINTED)
    assert term.kind == TermKind.APPOINTED


@pytest.mark.parametrize(
    "org_type,village,years",
    [
        (OrgType.COMMITTEE, False, 5),
        (OrgType.GENERAL_BRANCH, False, 3),
        (OrgType.BRANCH, False, 3),
        (OrgType.BRANCH, True, 5),
    ],
)
def test_term_length_by_type(org_type, village, years):
    org = make_org("组织", org_type, is_village_or_community=village)
    term = services.committee_term_start(org=org, elected_on=date(2024, 2, 29))
    assert term.term_years == years
    assert term.expires_on == date(2024 + years, 2, 28)


def test_new_term_keeps_history(cast):
    first = services.committee_term_start(org=cast.A, elected_on=date(2020, 3, 1))
    services.position_assign(term=first, position=PositionCode.SECRETARY, person_name="张三", start_on=date(2020, 3, 1))
    second = services.committee_term_start(org=cast.A, elected_on=date(2023, 3, 1))
    first.refresh_from_db()
    assert (first.number, second.number) == (1, 2)
    assert first.ended_on == date(2023, 3, 1)
    old = Position.objects.get(term=first)
    assert old.end_on == date(2023, 3, 1) and old.person_name == "张三"
    assert CommitteeTerm.objects.filter(organization=cast.A).count() == 2


def test_replacing_secretary_closes_old_holder(cast):
    term = services.committee_term_start(org=cast.A, elected_on=date(2024, 1, 1))
    services.position_assign(term=term, position=PositionCode.SECRETARY, person_name="甲", start_on=date(2024, 1, 1))
    services.position_assign(term=term, position=PositionCode.SECRETARY, person_name="乙", start_on=date(2025, 6, 1))
    rows = list(Position.objects.filter(term=term).order_by("start_on").values_list("person_name", "end_on"))
    assert rows == [("甲", date(2025, 6, 1)), ("乙", None)]


def test_extension_is_limited_to_one_year(cast):
    term = services.committee_term_start(org=cast.A, elected_on=date(2022, 1, 1))
    with pytest.raises(ValidationError):
        services.committee_term_extend(term=term, until=date(2026, 1, 2))
    services.committee_term_extend(term=term, until=date(2025, 12, 31))
    assert term.extended_until == date(2025, 12, 31)


def test_term_flags_at_their_boundaries(cast):
    services.committee_term_start(org=cast.A, elected_on=date(2023, 6, 30))  # expires 2026-06-30
    assert flags_of(cast.A, on=date(2025, 12, 29)) == set()
    assert flags_of(cast.A, on=date(2025, 12, 30)) == {"term_ending"}  # exactly 6 months before
    assert flags_of(cast.A, on=date(2026, 6, 30)) == {"term_ending"}  # the last day is still in term
    assert flags_of(cast.A, on=date(2026, 7, 1)) == {"term_overdue"}


def test_approved_extension_clears_overdue(cast):
    term = services.committee_term_start(org=cast.A, elected_on=date(2023, 6, 30))
    services.committee_term_extend(term=term, until=date(2026, 12, 31))
    assert flags_of(cast.A, on=date(2026, 7, 1)) == {"term_ending"}
    assert flags_of(cast.A, on=date(2027, 1, 1)) == {"term_overdue"}


def test_committee_required_at_seven_full_members(cast):
    MemberFactory.create_batch(5, organization=cast.A)  # 甲党员 + 5 = 6 full members
    MemberFactory.create_batch(3, organization=cast.A, stage=Stage.PROBATIONARY)  # do not count
    assert "committee_missing" not in flags_of(cast.A)
    MemberFactory(organization=cast.A)
    assert "committee_missing" in flags_of(cast.A)
    term = services.committee_term_start(org=cast.A, elected_on=date.today() - timedelta(days=10))
    for code in (PositionCode.SECRETARY, PositionCode.ORGANIZATION, PositionCode.PROPAGANDA):
        services.position_assign(term=term, position=code, person_name=code, start_on=term.elected_on)
    assert "committee_missing" not in flags_of(cast.A)


@override_settings(PB_BRANCH_SIZE_LIMIT=5)
def test_branch_over_size_limit(cast):
    MemberFactory.create_batch(4, organization=cast.A)
    assert "too_many_members" not in flags_of(cast.A)  # 5 members: at the limit
    MemberFactory(organization=cast.A, stage=Stage.PROBATIONARY)
    assert "too_many_members" in flags_of(cast.A)


def test_delete_refuses_non_empty(cast):
    with pytest.raises(ValidationError):
        services.organization_delete(org=cast.A)  # has a group
    with pytest.raises(ValidationError):
        services.organization_delete(org=cast.B)  # has a member
    empty = make_org("空支部", OrgType.BRANCH, parent=cast.P)
    services.organization_delete(org=empty)
    assert not Organization.objects.filter(pk=empty.pk).exists()


def test_subtree_and_ancestors_take_constant_queries(cast, django_assert_num_queries):
    for i in range(10):
        make_org(f"支部{i}", OrgType.BRANCH, parent=cast.P)
    with django_assert_num_queries(1):
        assert Organization.objects.subtree_of(cast.P).count() == 14
    with django_assert_num_queries(1):
        assert list(Organization.objects.ancestors_of(cast.A1)) == [cast.P, cast.A]
