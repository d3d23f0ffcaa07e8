"""#13.5/#13.6: who is expected and who votes, by 党籍状态, 留党察看 and suspended rights, at the
boundaries of their dates (domain rules §2–3, XJ §5, ZB §11)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from activities.choices import ResolutionOutcome
from activities.selectors import meeting_roster
from activities.services.inputs import ResolutionInput
from activities.services.meetings import meeting_save
from members.discipline.services import member_sanction_record, member_status_change, rights_suspension_record
from members.dues.selectors import dues_collection
from members.dues.services.fixings import dues_fixing_create
from tests.activities.conftest import MEETING_DAY, add_members, attendance, header

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def _roster(cast, on):
    return {p.member_id: p for p in meeting_roster(organization=cast.A, on=on, meeting_type="general_assembly").expected}


def test_13_5_suspended_member_is_not_expected_from_the_day_of_suspension(cast):
    member = cast.member_a_record
    member_status_change(
        member=member, status="suspended", on=MEETING_DAY, reason="失联满六个月", recorded_by=cast.users["secretary_a"]
    )
    assert member.pk in _roster(cast, MEETING_DAY - DAY)
    assert member.pk not in _roster(cast, MEETING_DAY)
    assert member.pk not in _roster(cast, MEETING_DAY + 30 * DAY)
    lecture = meeting_roster(organization=cast.A, on=MEETING_DAY, meeting_type="lecture").expected
    assert member.pk not in {p.member_id for p in lecture}


def test_13_5_restored_member_is_expected_again(cast):
    member = cast.member_a_record
    user = cast.users["secretary_a"]
    member_status_change(member=member, status="suspended", on=date(2025, 1, 10), reason="出国定居", recorded_by=user)
    member_status_change(member=member, status="normal", on=MEETING_DAY, recorded_by=user)
    assert _roster(cast, MEETING_DAY)[member.pk].is_voter


def test_13_5_suspended_member_is_not_on_the_dues_list(cast):
    member = cast.member_a_record
    user = cast.users["secretary_a"]
    dues_fixing_create(member=member, year=2026, category="student", fixed_on=date(2026, 1, 5), fixed_by=user)
    member_status_change(member=member, status="suspended", on=MEETING_DAY, reason="失联满六个月", recorded_by=user)
    march = {line.member.pk for line in dues_collection(organization=cast.A, month=date(2026, 3, 1))["lines"]}
    april = {line.member.pk for line in dues_collection(organization=cast.A, month=date(2026, 4, 1))["lines"]}
    assert member.pk in march  # the month of suspension is still owed
    assert member.pk not in april


def test_13_6_probation_takes_the_vote_for_its_duration(cast):
    member = cast.member_a_record
    until = MEETING_DAY + 200 * DAY
    member_sanction_record(
        member=member,
        kind="probation",
        decided_on=MEETING_DAY,
        until=until,
        basis="测纪〔2026〕1号",
        deciding_organization=cast.P,
        recorded_by=cast.users["org_admin_p"],
    )
    assert _roster(cast, MEETING_DAY - DAY)[member.pk].is_voter
    assert not _roster(cast, MEETING_DAY)[member.pk].is_voter
    assert _roster(cast, MEETING_DAY)[member.pk].is_expected  # attends, without a vote
    assert not _roster(cast, until)[member.pk].is_voter
    assert _roster(cast, until + DAY)[member.pk].is_voter


def test_13_6_rights_suspended_under_detention(cast):
    member = cast.member_a_record
    rights_suspension_record(
        member=member,
        reason="detention",
        start_on=MEETING_DAY,
        end_on=MEETING_DAY + 60 * DAY,
        recorded_by=cast.users["secretary_a"],
    )
    assert _roster(cast, MEETING_DAY - DAY)[member.pk].is_voter
    assert not _roster(cast, MEETING_DAY)[member.pk].is_voter
    assert not _roster(cast, MEETING_DAY + 59 * DAY)[member.pk].is_voter
    assert _roster(cast, MEETING_DAY + 60 * DAY)[member.pk].is_voter


def test_13_6_resolution_is_judged_against_the_members_who_may_vote(cast, today_is):
    full = add_members(cast.A, full=11)  # with member_a: 12 正式党员
    member_sanction_record(
        member=full[0],
        kind="probation",
        decided_on=date(2026, 1, 5),
        until=date(2027, 1, 4),
        basis="测纪〔2026〕2号",
        deciding_organization=cast.P,
        recorded_by=cast.users["org_admin_p"],
    )
    voters = [cast.member_a_record, *full]
    resolution = ResolutionInput(title="同意表彰", voting_method="show_of_hands", votes_for=6, votes_against=3)
    meeting = meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=header(),
        attendance=attendance(voters, present=10),
        resolutions=[resolution],
        finish=True,
    )
    assert meeting.expected_count == 12
    assert meeting.voters_expected == 11  # the member under 留党察看 attends without a vote
    assert meeting.resolutions.get().outcome == ResolutionOutcome.PASSED  # 6 of 11 (not of 12)
