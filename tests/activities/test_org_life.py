"""谈心谈话 coverage, 民主评议 (the 1/3 limit, probationary members), study hours, committee study."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from activities.compliance import compliance_items
from activities.models import AppraisalEntry, StudyRecord
from activities.selectors import advisory_summary, branch_study_progress, committee_study_report, talk_coverage
from activities.services.appraisal import appraisal_grades_set
from activities.services.meetings import meeting_save
from activities.services.study import (
    activity_settings_update,
    study_points_record,
    study_record_create,
    study_record_delete,
)
from activities.services.talks import talk_create
from tests.activities.conftest import add_committee, add_members, attendance, header
from tests.factories import MemberFactory, make_org

pytestmark = pytest.mark.django_db


# --- 谈心谈话 ---------------------------------------------------------------------------------------


def talk(cast, a, b, day=date(2026, 3, 1)):
    return talk_create(
        user=cast.users["secretary_a"], organization=cast.A, held_on=day, initiator=a, counterpart=b, topic="谈心"
    )


def test_talk_coverage_counts_each_committee_member_with_each_member_once(cast, today_is):
    people = [cast.member_a_record, *add_members(cast.A, full=4)]  # 5 members
    committee = people[:3]
    add_committee(cast.A, committee)
    coverage = talk_coverage(organization=cast.A, year=2026, on=date(2026, 6, 15))
    # 3 committee members × 4 others each, minus the 3 committee–committee pairs counted twice: 12 - 3 = 9.
    assert (coverage.required, coverage.done) == (9, 0)
    talk(cast, committee[0], people[3])
    talk(cast, people[3], committee[0], date(2026, 4, 1))  # the same pair again: still one
    talk(cast, committee[1], committee[0])  # a committee pair, in either direction
    talk(cast, people[3], people[4])  # two ordinary members: not a required pair
    coverage = talk_coverage(organization=cast.A, year=2026, on=date(2026, 6, 15))
    assert (coverage.required, coverage.done, coverage.complete) == (9, 2, False)
    row = {person.member_id: (rows, done) for person, rows, done in coverage.rows()}
    assert row[committee[0].pk][1] == 2 and row[committee[2].pk][1] == 0
    # Last year's talks do not count this year.
    talk(cast, committee[2], people[4], date(2025, 12, 31))
    assert talk_coverage(organization=cast.A, year=2026, on=date(2026, 6, 15)).done == 2


def test_talk_coverage_complete_turns_the_compliance_item_done(cast, today_is):
    people = [cast.member_a_record, *add_members(cast.A, full=2)]
    add_committee(cast.A, people)  # everyone is on the committee: 3 pairs
    for a, b in ((0, 1), (0, 2), (1, 2)):
        talk(cast, people[a], people[b])
    coverage = talk_coverage(organization=cast.A, year=2026, on=date(2026, 6, 15))
    assert coverage.complete and coverage.required == 3
    item = next(i for i in compliance_items(organization=cast.A, year=2026) if i.kind == "talk")
    assert (item.required, item.held, item.status) == (3, 3, "done")


def test_talk_with_someone_outside_the_organization_is_refused(cast, today_is):
    people = [cast.member_a_record, *add_members(cast.A, full=2)]
    with pytest.raises(ValidationError) as exc:
        talk(cast, people[0], cast.member_b_record)
    assert "所选人员在 2026-03-01 不是本组织党员或委员" in str(exc.value) and "乙党员" not in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        talk(cast, people[0], people[0])
    assert "不能是同一人" in str(exc.value)
    with pytest.raises(ValidationError):
        talk(cast, people[0], people[1], date(2026, 7, 1))  # in the future


def test_unlinked_committee_seats_are_reported_not_counted(cast, today_is):
    from organizations import services as org_services

    people = [cast.member_a_record, *add_members(cast.A, full=2)]
    term = add_committee(cast.A, people[:2])
    org_services.position_assign(term=term, position="propaganda", person_name="未建档委员", start_on=date(2024, 1, 5))
    coverage = talk_coverage(organization=cast.A, year=2026, on=date(2026, 6, 15))
    assert [p.name for p in coverage.unlinked] == ["未建档委员"]
    assert coverage.required == 3  # {c0,c1}, {c0,m2}, {c1,m2}


# --- 民主评议党员 -----------------------------------------------------------------------------------


def appraisal_meeting(cast, people):
    return meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=header("appraisal"),
        attendance=attendance(people, len(people)),
        resolutions=[],
        finish=True,
    )


@pytest.mark.parametrize(
    "graded,excellent,ok",
    [
        (3, 1, True),
        (3, 2, False),
        (5, 1, True),
        (5, 2, False),
        (6, 2, True),
        (6, 3, False),
        (9, 3, True),
        (10, 3, True),
        (10, 4, False),
    ],
)
def test_excellent_at_most_one_third_of_graded_members(cast, today_is, graded, excellent, ok):
    people = [cast.member_a_record, *add_members(cast.A, full=graded - 1, probationary=2)]
    full = [p for p in people if p.stage == "full"]
    prob = [p for p in people if p.stage != "full"]
    meeting = appraisal_meeting(cast, people)
    grades = [{"member_id": p.pk, "grade": "excellent" if i < excellent else "qualified"} for i, p in enumerate(full)]
    grades += [{"member_id": p.pk} for p in prob]  # probationary: take part, not graded, not in the base
    if ok:
        appraisal_grades_set(user=cast.users["secretary_a"], meeting=meeting, grades=grades)
        assert AppraisalEntry.objects.filter(meeting=meeting, grade="excellent").count() == excellent
        assert AppraisalEntry.objects.filter(meeting=meeting, is_probationary=True, grade="").count() == 2
    else:
        with pytest.raises(ValidationError) as exc:
            appraisal_grades_set(user=cast.users["secretary_a"], meeting=meeting, grades=grades)
        assert f"{graded} 人中最多 {graded // 3} 名优秀，现为 {excellent} 名" in str(exc.value)
        assert not AppraisalEntry.objects.exists()


def test_probationary_members_are_not_graded(cast, today_is):
    people = [cast.member_a_record, *add_members(cast.A, full=2, probationary=1)]
    meeting = appraisal_meeting(cast, people)
    grades = [{"member_id": p.pk, "grade": "qualified"} for p in people]
    with pytest.raises(ValidationError) as exc:
        appraisal_grades_set(user=cast.users["secretary_a"], meeting=meeting, grades=grades)
    assert "是预备党员，参加评议但不评定等次" in str(exc.value)
    grades[-1] = {"member_id": people[-1].pk}
    grades[0] = {"member_id": people[0].pk}
    with pytest.raises(ValidationError) as exc:
        appraisal_grades_set(user=cast.users["secretary_a"], meeting=meeting, grades=grades)
    assert "请选择评定等次" in str(exc.value)


def test_appraisal_only_for_roster_members_and_appraisal_meetings(cast, today_is):
    people = [cast.member_a_record, *add_members(cast.A, full=2)]
    meeting = appraisal_meeting(cast, people)
    with pytest.raises(ValidationError) as exc:
        appraisal_grades_set(
            user=cast.users["secretary_a"],
            meeting=meeting,
            grades=[{"member_id": cast.member_b_record.pk, "grade": "qualified"}],
        )
    assert "不是本组织党员" in str(exc.value)
    lecture = meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=header("lecture", study_hours=1),
        attendance=attendance(people, 3),
        resolutions=[],
        finish=True,
    )
    with pytest.raises(ValidationError):
        appraisal_grades_set(user=cast.users["secretary_a"], meeting=lecture, grades=[])


# --- study hours ------------------------------------------------------------------------------------


def test_study_progress_from_meetings_training_and_self_study(cast, today_is):
    people = [cast.member_a_record, *add_members(cast.A, full=2)]
    meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=header("study", study_hours=Decimal("3.0")),
        attendance=attendance(people, 2),
        resolutions=[],
        finish=True,
    )
    study_record_create(
        user=cast.users["secretary_a"],
        member=people[1],
        source="training",
        studied_on=date(2026, 4, 1),
        hours=Decimal("30"),
        title="党支部书记培训班",
        organizer="市委党校",
    )
    study_record_create(
        user=cast.users["member_a"],
        member=people[0],
        source="self_study",
        studied_on=date(2026, 4, 2),
        hours=Decimal("1.5"),
        title="学习党章",
    )
    progress = {
        row.member.pk: row for row in branch_study_progress(organization=cast.A, year=2026, on=date(2026, 6, 15))
    }
    assert progress[people[0].pk].hours == Decimal("4.5")
    assert progress[people[1].pk].hours == Decimal("33.0") and progress[people[1].pk].reached
    assert progress[people[2].pk].hours == 0 and progress[people[2].pk].percent == 0
    # Progress is in roster (name) order, never sorted by hours.
    names = [row.member.name for row in branch_study_progress(organization=cast.A, year=2026, on=date(2026, 6, 15))]
    assert names == sorted(names)
    summary = dict(advisory_summary(list(progress.values())))
    assert summary == {"未开始": 1, "不足 1/4": 1, "1/4 至 1/2": 0, "1/2 至达标": 0, "已达标": 1}


def test_study_record_permissions(cast, today_is):
    other = MemberFactory(name="同支部", organization=cast.A)
    with pytest.raises(ValidationError):
        study_record_create(
            user=cast.users["member_a"],
            member=other,
            source="self_study",
            studied_on=date(2026, 4, 2),
            hours=Decimal("1"),
            title="x",
        )
    with pytest.raises(ValidationError):
        study_record_create(
            user=cast.users["member_a"],
            member=cast.member_a_record,
            source="training",
            studied_on=date(2026, 4, 2),
            hours=Decimal("1"),
            title="x",
        )
    with pytest.raises(ValidationError):
        study_record_create(
            user=cast.users["secretary_b"],
            member=other,
            source="training",
            studied_on=date(2026, 4, 2),
            hours=Decimal("1"),
            title="x",
        )
    record = study_record_create(
        user=cast.users["member_a"],
        member=cast.member_a_record,
        source="self_study",
        studied_on=date(2026, 4, 2),
        hours=Decimal("1"),
        title="自学",
    )
    study_record_delete(user=cast.users["member_a"], record=record)
    assert not StudyRecord.objects.exists()


def test_meeting_hours_cannot_be_deleted_by_hand(cast, today_is):
    people = [cast.member_a_record]
    meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=header("lecture", study_hours=2),
        attendance=attendance(people, 1),
        resolutions=[],
        finish=True,
    )
    record = StudyRecord.objects.get()
    with pytest.raises(ValidationError) as exc:
        study_record_delete(user=cast.users["secretary_a"], record=record)
    assert "会议学时随会议记录自动计入" in str(exc.value)


def test_study_points_only_when_the_organization_turns_them_on(cast, today_is):
    with pytest.raises(ValidationError) as exc:
        study_points_record(
            user=cast.users["member_a"], member=cast.member_a_record, recorded_on=date(2026, 6, 1), points=52
        )
    assert "未启用" in str(exc.value)
    activity_settings_update(
        user=cast.users["secretary_a"], organization=cast.A, study_points_enabled=True, advisory_summary_enabled=False
    )
    row = study_points_record(
        user=cast.users["member_a"], member=cast.member_a_record, recorded_on=date(2026, 6, 1), points=52
    )
    again = study_points_record(
        user=cast.users["member_a"], member=cast.member_a_record, recorded_on=date(2026, 6, 1), points=60
    )
    assert row.pk == again.pk and again.points == 60


def test_advisory_summary_is_off_by_default_and_private(cast, today_is):
    client = cast.client("secretary_a")
    assert "内部参考汇总" not in client.get(f"/activities/org/{cast.A.pk}/study/").content.decode().split("设置")[0]
    activity_settings_update(
        user=cast.users["secretary_a"], organization=cast.A, study_points_enabled=False, advisory_summary_enabled=True
    )
    assert "仅书记和上级可见" in client.get(f"/activities/org/{cast.A.pk}/study/").content.decode()
    auditor = cast.client("auditor_p").get(f"/activities/org/{cast.A.pk}/study/").content.decode()
    assert "仅书记和上级可见" not in auditor


# --- committee study ---------------------------------------------------------------------------------


def test_committee_first_topic_and_center_group_study_report(cast, today_is):
    committee_members = add_members(cast.A, full=4, prefix="委员")
    add_committee(cast.P, committee_members)  # the 党委's committee, members of branch A
    admin = cast.users["org_admin_p"]
    rows = attendance(committee_members, 3)
    meeting_save(
        user=admin,
        organization=cast.P,
        data=header("committee", first_topic="学习习近平总书记重要讲话精神", first_topic_material="原文选读"),
        attendance=rows,
        resolutions=[],
        finish=True,
    )
    meeting_save(
        user=admin,
        organization=cast.P,
        data=header("committee", held_on=date(2026, 3, 20)),
        attendance=rows,
        resolutions=[],
        finish=True,
    )
    session_rows = [
        replace(row, is_speaker=i < 2, speech_topic="交流体会" if i < 2 else "") for i, row in enumerate(rows)
    ]
    session = meeting_save(
        user=admin,
        organization=cast.P,
        data=header("study", is_center_group=True, title="中心组专题学习"),
        attendance=session_rows,
        resolutions=[],
        finish=True,
    )
    assert session.expected_count == 4 and session.present_count == 3
    assert StudyRecord.objects.filter(meeting=session).count() == 3  # counts as study hours (1.5 each)
    report = committee_study_report(organization=cast.P, start=date(2026, 1, 1), end=date(2026, 3, 31))
    assert len(report["committee_meetings"]) == 2 and report["with_first_topic"] == 1
    assert [s.pk for s in report["sessions"]] == [session.pk]
    assert report["speaker_count"] == 2 and report["session_hours"] == Decimal("4.5")
    assert report["sessions"][0].attendance_rate == 75
    # A 中心组 session belongs to a 党委/党总支.
    with pytest.raises(ValidationError) as exc:
        meeting_save(
            user=admin,
            organization=cast.A,
            data=header("study", is_center_group=True),
            attendance=[],
            resolutions=[],
            finish=False,
        )
    assert "只在党委（党总支）记录" in str(exc.value)


def test_secretary_lecture_rule_for_a_committee(cast, today_is):
    branch_people = [cast.member_a_record, *add_members(cast.A, full=3)]
    add_committee(cast.P, branch_people[:3])  # branch_people[0] is the 党委书记
    before = next(i for i in compliance_items(organization=cast.P, year=2026) if i.kind == "secretary_lecture")
    assert before.held == 0
    meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=header("lecture", study_hours=2, lecturer_id=branch_people[0].pk),
        attendance=attendance(branch_people, 4),
        resolutions=[],
        finish=True,
    )
    after = next(i for i in compliance_items(organization=cast.P, year=2026) if i.kind == "secretary_lecture")
    assert (after.held, after.status) == (1, "done")


def test_lecturer_may_be_an_ancestor_secretary_but_not_a_stranger(cast, today_is):
    secretary = MemberFactory(name="党委王书记", organization=cast.P)
    from organizations import services as org_services

    term = org_services.committee_term_start(org=cast.P, elected_on=date(2024, 1, 5))
    org_services.position_assign(
        term=term, position="secretary", person_name="党委王书记", start_on=date(2024, 1, 5), member=secretary
    )
    people = [cast.member_a_record]
    meeting = meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=header("lecture", study_hours=1, lecturer_id=secretary.pk),
        attendance=attendance(people, 1),
        resolutions=[],
        finish=True,
    )
    assert meeting.lecturer == secretary and meeting.lecturer_name == "党委王书记"
    other = make_org("外单位支部", "branch", parent=cast.Q)
    stranger = MemberFactory(name="外人", organization=other)
    with pytest.raises(ValidationError) as exc:
        meeting_save(
            user=cast.users["secretary_a"],
            organization=cast.A,
            data=header("lecture", study_hours=1, lecturer_id=stranger.pk),
            attendance=attendance(people, 1),
            resolutions=[],
            finish=True,
        )
    assert "授课人应为本组织党员" in str(exc.value)
