"""Meetings recorded once: roster on the date, 应到/实到, quorum and votes at their boundaries (ZB §11–12, FZ)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from activities.choices import FollowUpStatus, QuorumState, ResolutionOutcome
from activities.models import FollowUp, Meeting, MeetingCredit, StudyRecord
from activities.selectors import follow_ups_for_meeting, meeting_roster
from activities.services.follow_ups import follow_up_update
from activities.services.inputs import AttendanceInput, ResolutionInput
from activities.services.meetings import meeting_delete, meeting_save
from audit.models import AuditEvent
from members.services import member_move
from tests.activities.conftest import MEETING_DAY, add_committee, add_members, attendance, header
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def save(cast, data, people_rows, resolutions=(), finish=True, org=None, meeting=None):
    return meeting_save(
        user=cast.users["secretary_a"],
        organization=org or cast.A,
        data=data,
        attendance=people_rows,
        resolutions=list(resolutions),
        finish=finish,
        meeting=meeting,
    )


def vote(title="同意接收张三为预备党员", **counts):
    return ResolutionInput(**{"title": title, "voting_method": "show_of_hands", **counts})


@pytest.fixture
def branch(cast, today_is):
    """Branch A: 10 正式党员 (plus member_a's record = 11 voters) and 2 预备党员."""
    full = add_members(cast.A, full=10)
    prob = add_members(cast.A, probationary=2)
    voters = [cast.member_a_record, *full]
    return voters, prob


# --- roster on the date --------------------------------------------------------------------------


def test_roster_is_taken_on_the_meeting_date(cast, today_is):
    early = MemberFactory(name="早入党", organization=cast.A, roster=date(2020, 1, 1))
    late = MemberFactory(name="晚转入", organization=cast.A, roster=date(2026, 4, 1))
    moved = MemberFactory(name="已转出", organization=cast.A, roster=date(2020, 1, 1))
    member_move(member=moved, organization=cast.B, on=date(2026, 2, 1))
    in_group = MemberFactory(name="小组成员", organization=cast.A1, roster=date(2020, 1, 1))
    names = {
        p.name for p in meeting_roster(organization=cast.A, on=MEETING_DAY, meeting_type="general_assembly").expected
    }
    assert {"早入党", "小组成员", "甲党员"} <= names
    assert "晚转入" not in names and "已转出" not in names
    # Before the transfer the moved member was expected; after it, the late one is.
    names_jan = {
        p.name for p in meeting_roster(organization=cast.A, on=date(2026, 1, 15), meeting_type="lecture").expected
    }
    assert "已转出" in names_jan
    names_may = {
        p.name for p in meeting_roster(organization=cast.A, on=date(2026, 5, 1), meeting_type="lecture").expected
    }
    assert "晚转入" in names_may
    assert early and late and in_group


def test_probationary_members_are_expected_but_do_not_vote(cast, branch):
    voters, prob = branch
    roster = meeting_roster(organization=cast.A, on=MEETING_DAY, meeting_type="general_assembly")
    by_id = {p.member_id: p for p in roster.expected}
    assert all(by_id[m.pk].is_voter for m in voters)
    assert not any(by_id[m.pk].is_voter for m in prob)


def test_attendance_for_someone_not_in_the_organization_that_day_is_refused(cast, branch):
    voters, prob = branch
    newcomer = MemberFactory(name="新转入", organization=cast.A, roster=date(2026, 4, 1))
    rows = attendance([*voters, *prob], present=12) + [AttendanceInput(member_id=newcomer.pk, status="present")]
    with pytest.raises(ValidationError) as exc:
        save(cast, header(), rows)
    assert "新转入 在 2026-03-10 不是本组织党员" in str(exc.value)
    rows[-1] = AttendanceInput(member_id=cast.member_b_record.pk, status="present")
    with pytest.raises(ValidationError) as exc:
        save(cast, header(), rows)
    # Someone outside the secretary's scope is not named (#21.2): the same answer as for an unknown id.
    assert "乙党员" not in str(exc.value)
    assert f"编号 {cast.member_b_record.pk} 的人员 在 2026-03-10 不是本组织党员" in str(exc.value)
    assert not Meeting.objects.exists()


def test_counts_are_computed_not_typed(cast, branch):
    voters, prob = branch
    rows = attendance(voters, present=8, status="leave") + attendance(prob, present=1)
    rows.append(AttendanceInput(name="上级党委组织员", status="present"))
    meeting = save(cast, header(), rows)
    assert (meeting.expected_count, meeting.present_count, meeting.leave_count, meeting.absent_count) == (13, 9, 3, 1)
    assert (meeting.voters_expected, meeting.voters_present, meeting.nonvoting_count) == (11, 8, 1)
    guest = meeting.attendance.get(is_guest=True)
    assert guest.status == "attending_nonvoting" and guest.member_id is None


# --- 党员大会 quorum and votes -------------------------------------------------------------------


@pytest.mark.parametrize("voters_present,expected", [(5, QuorumState.NOT_MET), (6, QuorumState.MET)])
def test_general_assembly_quorum_boundary_on_voters(cast, branch, voters_present, expected):
    voters, prob = branch  # 11 voters: quorum needs > 5.5, i.e. 6
    rows = attendance(voters, present=voters_present) + attendance(prob, present=2)
    meeting = save(cast, header(), rows, [vote(votes_for=voters_present)])
    assert meeting.quorum == expected
    outcome = meeting.resolutions.get().outcome
    if expected == QuorumState.NOT_MET:
        assert outcome == ResolutionOutcome.INVALID  # saved, marked, and no vote counts
        assert meeting.quorum_not_met
    else:
        assert outcome == ResolutionOutcome.PASSED


def test_even_voter_count_needs_strictly_more_than_half(cast, today_is):
    add_members(cast.A, full=9)  # with member_a: 10 voters
    voters = list(meeting_roster(organization=cast.A, on=MEETING_DAY, meeting_type="general_assembly").expected)
    rows = [
        AttendanceInput(member_id=p.member_id, status="present" if i < 5 else "absent") for i, p in enumerate(voters)
    ]
    assert save(cast, header(), rows).quorum == QuorumState.NOT_MET  # 5 of 10 is not more than half
    rows[5] = replace(rows[5], status="present")
    assert save(cast, header(), rows).quorum == QuorumState.MET


@pytest.mark.parametrize("votes_for,outcome", [(5, ResolutionOutcome.REJECTED), (6, ResolutionOutcome.PASSED)])
def test_resolution_needs_more_than_half_of_voters_expected_not_present(cast, branch, votes_for, outcome):
    voters, prob = branch  # 11 expected voters, 9 present: 5 in favour is a majority of those present
    rows = attendance(voters, present=9) + attendance(prob, present=2)
    meeting = save(cast, header(), rows, [vote(votes_for=votes_for, votes_against=9 - votes_for)])
    assert meeting.resolutions.get().outcome == outcome


def test_written_opinions_of_absent_voters_count_for_admission(cast, branch):
    voters, prob = branch
    rows = attendance(voters, present=7) + attendance(prob, present=2)  # 4 voters absent
    subject = MemberFactory(name="发展对象张三", organization=cast.A, stage="candidate", full_on=None)
    base = {"kind": "admission", "subject_member_id": subject.pk, "voting_method": "secret_ballot"}
    meeting = save(cast, header(), rows, [vote(votes_for=5, votes_against=2, **base)])
    assert meeting.resolutions.get().outcome == ResolutionOutcome.REJECTED  # 5 of 11
    meeting = save(cast, header(), rows, [vote(votes_for=5, votes_against=2, written_for=1, **base)])
    resolution = meeting.resolutions.get()
    assert resolution.outcome == ResolutionOutcome.PASSED  # 5 + 1 written = 6 of 11
    assert resolution.subject_member == subject


def test_written_opinions_refused_for_other_kinds_and_beyond_absent_voters(cast, branch):
    voters, prob = branch
    rows = attendance(voters, present=7) + attendance(prob, present=2)
    with pytest.raises(ValidationError) as exc:
        save(cast, header(), rows, [vote(votes_for=6, written_for=1)])
    assert "才计入书面意见" in str(exc.value)
    subject = MemberFactory(name="预备李四", organization=cast.A, stage="probationary", full_on=None)
    with pytest.raises(ValidationError) as exc:
        save(
            cast,
            header(),
            rows,
            [vote(kind="confirmation", subject_member_id=subject.pk, votes_for=6, written_for=5)],
        )
    assert "书面意见（5）超过未到会的有表决权党员人数（4）" in str(exc.value)


def test_more_votes_than_voters_present_is_refused(cast, branch):
    voters, prob = branch
    rows = attendance(voters, present=7) + attendance(prob, present=2)  # 7 voters + 2 non-voters present
    assert save(cast, header(), rows, [vote(votes_for=6, votes_against=1)]).resolutions.get().total_votes == 7
    with pytest.raises(ValidationError) as exc:
        save(cast, header(), rows, [vote(votes_for=6, votes_against=1, votes_abstain=1)])
    assert "表决票数（8）超过实到有表决权的党员人数（7）" in str(exc.value)
    assert Meeting.objects.count() == 1


def test_admission_vote_needs_a_subject_and_a_general_assembly(cast, branch, today_is):
    voters, prob = branch
    rows = attendance(voters, present=9) + attendance(prob, present=2)
    with pytest.raises(ValidationError) as exc:
        save(cast, header(), rows, [vote(kind="admission", votes_for=9)])
    assert "请选择涉及的党员" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        save(cast, header("lecture"), rows, [vote(votes_for=9)])
    assert "党课不进行表决" in str(exc.value)


# --- 支委会 ----------------------------------------------------------------------------------------


def test_committee_meeting_without_a_committee_is_refused(cast, today_is):
    people = add_members(cast.A, full=5)
    add_committee(cast.A, people[:2])
    with pytest.raises(ValidationError) as exc:
        save(cast, header("committee"), attendance(people[:2], present=2))
    assert "未设委员会（在任委员 2 名，不足 3 名），不能召开委员会会议" in str(exc.value)


@pytest.mark.parametrize("size,present,expected", [(3, 1, "not_met"), (3, 2, "met"), (5, 2, "not_met"), (5, 3, "met")])
def test_committee_quorum_is_more_than_half_of_members(cast, today_is, size, present, expected):
    people = add_members(cast.A, full=8)
    add_committee(cast.A, people[:size])
    rows = attendance(people[:size], present=present, status="leave")
    rows.append(AttendanceInput(member_id=people[-1].pk, status="present"))  # a non-member of the committee: 列席
    meeting = save(cast, header("committee"), rows, [vote(title="研究确定入党积极分子", votes_for=present)])
    assert meeting.expected_count == size and meeting.present_count == present and meeting.nonvoting_count == 1
    assert meeting.quorum == expected
    outcome = meeting.resolutions.get().outcome
    assert outcome == (ResolutionOutcome.PASSED if expected == "met" else ResolutionOutcome.INVALID)


def test_committee_resolution_counts_committee_members_and_refuses_extra_votes(cast, today_is):
    people = add_members(cast.A, full=8)
    add_committee(cast.A, people[:5])
    rows = attendance(people[:5], present=4)
    meeting = save(cast, header("committee"), rows, [vote(votes_for=2, votes_against=2)])
    assert meeting.resolutions.get().outcome == ResolutionOutcome.REJECTED  # 2 of 5
    meeting = save(cast, header("committee"), rows, [vote(votes_for=3, votes_against=1)])
    assert meeting.resolutions.get().outcome == ResolutionOutcome.PASSED  # 3 of 5
    with pytest.raises(ValidationError) as exc:
        save(cast, header("committee"), rows, [vote(votes_for=5)])
    assert "表决票数（5）超过实到委员人数（4）" in str(exc.value)


def test_committee_is_taken_on_the_meeting_date(cast, today_is):
    people = add_members(cast.A, full=6)
    add_committee(cast.A, people[:3], elected_on=date(2026, 4, 1))
    with pytest.raises(ValidationError):
        save(cast, header("committee"), attendance(people[:3], present=3))  # March: no committee yet
    meeting = save(cast, header("committee", held_on=date(2026, 4, 2)), attendance(people[:3], present=3))
    assert meeting.quorum == QuorumState.MET


# --- header rules, drafts -------------------------------------------------------------------------


@pytest.mark.parametrize("end", [time(14, 0), time(14, 30)])
def test_end_time_must_be_after_start(cast, branch, end):
    voters, prob = branch
    with pytest.raises(ValidationError) as exc:
        save(cast, header(end_time=end), attendance([*voters, *prob], present=13))
    assert exc.value.message_dict["end_time"] == ["结束时间应晚于开始时间"]


def test_draft_can_be_saved_half_done_and_finished_later(cast, branch):
    voters, prob = branch
    draft = save(cast, header(title=""), attendance(voters[:3], present=3), finish=False)
    assert draft.status == "draft" and not MeetingCredit.objects.exists()
    with pytest.raises(ValidationError) as exc:
        save(cast, header(title=""), attendance(voters[:3], present=3), meeting=draft, finish=True)
    assert "请填写会议主题" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        save(cast, header(), attendance(voters[:3], present=3), meeting=draft, finish=True)
    assert "尚未登记出席情况" in str(exc.value)
    rows = attendance(voters, present=10, status="leave") + attendance(prob, present=2)
    rows[-3] = replace(rows[-3], reason="")
    with pytest.raises(ValidationError) as exc:
        save(cast, header(), rows, meeting=draft, finish=True)
    assert "请假，请填写请假原因" in str(exc.value)
    rows[-3] = replace(rows[-3], reason="病假")
    done = save(cast, header(), rows, meeting=draft, finish=True)
    assert done.pk == draft.pk and done.status == "final" and done.finalized_at is not None
    assert MeetingCredit.objects.filter(meeting=done, kind="general_assembly").exists()


def test_future_meeting_can_only_be_a_draft(cast, branch, today_is):
    voters, prob = branch
    rows = attendance([*voters, *prob], present=13)
    with pytest.raises(ValidationError) as exc:
        save(cast, header(held_on=date(2026, 6, 20)), rows)
    assert "不能完成录入" in str(exc.value)
    assert save(cast, header(held_on=date(2026, 6, 20)), rows, finish=False).status == "draft"


def test_theme_day_also_counts_as_general_assembly_and_lecture(cast, branch):
    voters, prob = branch
    rows = attendance(voters, present=5) + attendance(prob, present=2)
    data = header("theme_day", also_counts_as=["general_assembly", "lecture"])
    meeting = save(cast, data, rows, [vote(votes_for=5)])
    assert meeting.quorum == QuorumState.NOT_MET  # the 党员大会 quorum applies to it
    assert set(MeetingCredit.objects.filter(meeting=meeting).values_list("kind", flat=True)) == {
        "theme_day",
        "general_assembly",
        "lecture",
    }
    # It counts as a 党课, so attendees earn study hours (14:30–16:00 = 1.5).
    assert StudyRecord.objects.filter(meeting=meeting).count() == 7
    assert set(StudyRecord.objects.filter(meeting=meeting).values_list("hours", flat=True)) == {Decimal("1.5")}
    with pytest.raises(ValidationError) as exc:
        save(cast, header("lecture", also_counts_as=["committee"]), rows)
    assert "党课不能同时计为：支部委员会" in str(exc.value)


# --- follow-ups, updates, audit -------------------------------------------------------------------


def test_action_items_follow_the_body_until_closed(cast, branch, today_is):
    voters, prob = branch
    rows = attendance(voters, present=9) + attendance(prob, present=2)
    first = save(
        cast,
        header(held_on=date(2026, 1, 20)),
        rows,
        [
            vote(
                title="整理党员档案",
                votes_for=9,
                action_required=True,
                follow_up_owner_id=voters[1].pk,
                follow_up_due_on=date(2026, 3, 31),
            )
        ],
    )
    follow_up = FollowUp.objects.get()
    assert (follow_up.owner, follow_up.due_on, follow_up.status) == (voters[1], date(2026, 3, 31), "open")
    assert follow_up.body_type == "general_assembly"
    second = save(cast, header(held_on=date(2026, 4, 10)), rows)
    assert follow_ups_for_meeting(meeting=second) == [follow_up]
    assert follow_ups_for_meeting(meeting=first) == []
    today_is(date(2026, 5, 1))
    follow_up_update(user=cast.users["secretary_a"], follow_up=follow_up, status=FollowUpStatus.DONE)
    today_is(date(2026, 6, 15))
    third = save(cast, header(held_on=date(2026, 5, 20)), rows)
    assert follow_ups_for_meeting(meeting=third) == []
    assert follow_ups_for_meeting(meeting=second) == [follow_up]  # it was still open then


def test_editing_keeps_resolution_ids_and_follow_up_status(cast, branch, today_is):
    voters, prob = branch
    rows = attendance(voters, present=9) + attendance(prob, present=2)
    meeting = save(cast, header(), rows, [vote(title="整改", votes_for=9, action_required=True)])
    resolution = meeting.resolutions.get()
    FollowUp.objects.update(status=FollowUpStatus.IN_PROGRESS)
    again = save(
        cast,
        header(),
        rows,
        [replace(vote(title="整改（修订）", votes_for=8), id=resolution.pk, action_required=True)],
        meeting=meeting,
    )
    assert again.resolutions.get().pk == resolution.pk
    follow_up = FollowUp.objects.get()
    assert follow_up.title == "整改（修订）" and follow_up.status == FollowUpStatus.IN_PROGRESS
    assert again.status == "final"  # stays finished


def test_meeting_writes_are_audited(cast, branch):
    voters, prob = branch
    meeting = save(cast, header(), attendance([*voters, *prob], present=13))
    save(cast, header(title="改"), attendance([*voters, *prob], present=13), meeting=meeting)
    meeting_delete(user=cast.users["secretary_a"], meeting=meeting)
    events = list(AuditEvent.objects.filter(event__startswith="meeting_").values_list("event", flat=True))
    assert sorted(events) == ["meeting_create", "meeting_delete", "meeting_update"]
    detail = AuditEvent.objects.get(event="meeting_create").detail
    assert detail["expected"] == 13 and detail["present"] == 13


def test_lecture_hours_go_to_present_members_only(cast, branch):
    voters, prob = branch
    rows = attendance(voters, present=4, status="leave") + attendance(prob, present=1, status="absent")
    meeting = save(cast, header("lecture", study_hours=Decimal("2.0")), rows)
    assert StudyRecord.objects.filter(meeting=meeting).count() == 5
    assert {r.hours for r in StudyRecord.objects.filter(meeting=meeting)} == {Decimal("2.0")}
    with pytest.raises(ValidationError) as exc:
        save(cast, header("lecture", start_time=None, end_time=None), rows)
    assert "请填写计入学时" in str(exc.value)


def test_an_organization_with_meeting_records_cannot_be_deleted(cast, today_is):
    from organizations.services import organization_delete
    from tests.factories import make_org

    lone = make_org("临时支部", "branch", parent=cast.P)
    meeting_save(
        user=cast.users["org_admin_p"],
        organization=lone,
        data=header("other"),
        attendance=[],
        resolutions=[],
        finish=False,
    )
    with pytest.raises(ValidationError) as exc:
        organization_delete(org=lone)
    assert "会议记录" in str(exc.value)
    response = cast.api("org_admin_p").delete(f"/api/v1/organizations/{lone.pk}/")
    assert response.status_code == 400


def test_party_group_roster_uses_the_group_assignment(cast, today_is):
    in_group = MemberFactory(name="小组成员甲", organization=cast.A, roster=date(2020, 1, 1))
    in_group.party_group = cast.A1
    in_group.save(update_fields=["party_group"])
    MemberFactory(name="支部其他人", organization=cast.A, roster=date(2020, 1, 1))
    roster_row = MemberFactory(name="小组名册", organization=cast.A1, roster=date(2020, 1, 1))
    names = {p.name for p in meeting_roster(organization=cast.A1, on=MEETING_DAY, meeting_type="group").expected}
    assert names == {"小组成员甲", roster_row.name}
    meeting = save(cast, header("group"), attendance([in_group, roster_row], present=2), org=cast.A1)
    assert (meeting.expected_count, meeting.present_count) == (2, 2)


@pytest.mark.parametrize("present,counted", [(2, False), (3, True)])
def test_13_7_committee_with_half_present_is_kept_but_not_counted(cast, today_is, present, counted):
    """ZB §12: a 支委会 needs more than half of the committee present. Exactly half (2 of 4): the
    record is kept and marked, and the month has no 支委会; half + 1 (3 of 4): it counts."""
    from activities.compliance import compliance_items

    people = add_members(cast.A, full=8)
    add_committee(cast.A, people[:4])
    meeting = save(cast, header("committee"), attendance(people[:4], present=present, status="leave"))
    assert Meeting.objects.filter(pk=meeting.pk, status="final").exists()
    assert meeting.committee_not_counted is not counted
    assert MeetingCredit.objects.filter(meeting=meeting, kind="committee").exists() is counted
    march = [i for i in compliance_items(organization=cast.A, year=2026, month=3) if i.kind == "committee"]
    assert [(i.held, i.status) for i in march] == ([(1, "late")] if counted else [(0, "overdue")])  # recorded in June
    page = cast.client("secretary_a").get(f"/activities/meetings/{meeting.pk}/").content.decode()
    assert ("不计入本期支委会" in page) is not counted


@pytest.mark.parametrize("stage", ["probationary", "full"])
def test_13_8_admission_of_a_party_member_is_refused(cast, branch, stage):
    voters, prob = branch
    rows = attendance(voters, present=9) + attendance(prob, present=2)
    already = prob[0] if stage == "probationary" else voters[1]
    base = {"kind": "admission", "subject_member_id": already.pk, "voting_method": "secret_ballot"}
    with pytest.raises(ValidationError) as exc:
        save(cast, header(), rows, [vote(votes_for=8, votes_against=1, **base)])
    assert f"{already.name}已是{already.get_stage_display()}，不能再讨论接收为预备党员" in str(exc.value)
    assert not Meeting.objects.exists()
    candidate = MemberFactory(name="发展对象李四", organization=cast.A, stage="candidate", joined_on=None, full_on=None)
    meeting = save(cast, header(), rows, [vote(votes_for=8, votes_against=1, **{**base, "subject_member_id": candidate.pk})])
    assert meeting.resolutions.get().outcome == ResolutionOutcome.PASSED
