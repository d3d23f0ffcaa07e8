"""Roster on a date: who belonged to an organization then, and who could vote."""
from datetime import date

import pytest

from members.choices import Stage
from members.selectors import member_can_vote_on, member_roster_on
from members.services import member_move
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_roster_follows_dated_memberships(cast):
    mover = MemberFactory(name="调动者", organization=cast.A, joined_on=date(2015, 1, 1), roster=date(2015, 1, 1))
    member_move(member=mover, organization=cast.B, on=date(2025, 6, 1))
    names_a = lambda on: {m.name for m in member_roster_on(organization=cast.A, on=on)}  # noqa: E731
    names_b = lambda on: {m.name for m in member_roster_on(organization=cast.B, on=on)}  # noqa: E731
    assert "调动者" in names_a(date(2025, 5, 31))
    assert "调动者" not in names_a(date(2025, 6, 1))
    assert "调动者" in names_b(date(2025, 6, 1))
    assert "调动者" not in names_b(date(2025, 5, 31))


def test_roster_includes_groups_and_excludes_non_members(cast):
    MemberFactory(name="小组成员", organization=cast.A1)
    MemberFactory(name="积极分子", organization=cast.A, stage=Stage.ACTIVIST, joined_on=None, full_on=None)
    MemberFactory(name="新党员", organization=cast.A, stage=Stage.PROBATIONARY, joined_on=date(2026, 5, 1), full_on=None)
    names = {m.name for m in member_roster_on(organization=cast.A, on=date(2026, 4, 30))}
    assert names == {"甲党员", "小组成员"}
    names = {m.name for m in member_roster_on(organization=cast.A, on=date(2026, 5, 1))}
    assert names == {"甲党员", "小组成员", "新党员"}


def test_voting_right_from_full_date():
    member = MemberFactory.build(stage=Stage.FULL, joined_on=date(2024, 3, 1), full_on=date(2025, 3, 1))
    assert not member_can_vote_on(member, date(2025, 2, 28))
    assert member_can_vote_on(member, date(2025, 3, 1))


def test_move_refuses_backdating_before_current_start(cast):
    from django.core.exceptions import ValidationError

    mover = MemberFactory(organization=cast.A, roster=date(2024, 1, 1))
    with pytest.raises(ValidationError):
        member_move(member=mover, organization=cast.B, on=date(2023, 12, 31))
