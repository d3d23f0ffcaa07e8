"""发展党员: voiding a wrongly recorded step (kept on file, stage rolled back) and the 支部大会 vote
step linked to the activities meeting record (date and counts default from it and must agree)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from activities.models import Meeting, Resolution
from audit.models import AuditEvent
from members.choices import MembershipStatus, Stage
from members.development.models import DevelopmentStep
from members.development.services import (
    development_applicant_create,
    development_state,
    development_step_void,
    development_voidable_step_id,
)
from members.dues.models import DuesFixing, DuesMonth
from members.dues.services.fixings import dues_fixing_create
from members.dues.services.payments import dues_payment_record
from tests.factories import MemberFactory
from tests.members.development.test_development import VOTES, S, message, rec, to_candidate, to_probationary, to_vote

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(cast):
    intro1 = MemberFactory(organization=cast.A, name="介绍人一")
    intro2 = MemberFactory(organization=cast.A, name="介绍人二")
    person = development_applicant_create(
        organization=cast.A, name="申请人", sex="female", birth_date=date(2000, 1, 1), applied_on=date(2023, 1, 10)
    )
    return person, intro1, intro2


def latest(person):
    return DevelopmentStep.objects.get(pk=development_voidable_step_id(person))


def void(cast, step, who="secretary_a", reason="日期登记错误"):
    return development_step_void(step=step, user=cast.users[who], reason=reason)


# --- Voiding ----------------------------------------------------------------------------------


def test_void_keeps_the_record_marks_who_when_why_and_lets_it_be_recorded_again(cast, people):
    person, intro1, intro2 = people
    rec(person, S.TALK, date(2023, 2, 10))
    wrong = rec(person, S.ACTIVIST, date(2023, 3, 1))
    person.refresh_from_db()
    assert person.stage == Stage.ACTIVIST
    void(cast, wrong, reason="支委会实际于 3 月 8 日研究确定")
    kept = DevelopmentStep.all_objects.get(pk=wrong.pk)
    assert kept.voided_at is not None and kept.voided_by == cast.users["secretary_a"]
    assert kept.void_reason == "支委会实际于 3 月 8 日研究确定" and kept.occurred_on == date(2023, 3, 1)
    assert not DevelopmentStep.objects.filter(pk=wrong.pk).exists()  # counts for nothing any more
    assert development_state(person).activist_on is None
    person.refresh_from_db()
    assert person.stage == Stage.APPLICANT
    event = AuditEvent.objects.get(event="development_step_void")
    assert event.detail["step"] == "activist" and event.detail["member_changes"] == {"stage": "applicant"}
    rec(person, S.ACTIVIST, date(2023, 3, 8))  # the right record can now be entered
    person.refresh_from_db()
    assert person.stage == Stage.ACTIVIST


def test_void_needs_a_reason_and_only_the_latest_step(cast, people):
    person, *_ = people
    talk = rec(person, S.TALK, date(2023, 2, 10))
    rec(person, S.ACTIVIST, date(2023, 3, 1))
    with pytest.raises(ValidationError) as exc:
        void(cast, latest(person), reason="  ")
    assert "请填写作废原因" in message(exc, "reason")
    with pytest.raises(ValidationError) as exc:
        void(cast, talk)
    assert "只能作废最近登记的一条记录" in message(exc, "step")
    assert not DevelopmentStep.all_objects.filter(voided_at__isnull=False).exists()
    step = latest(person)
    void(cast, step)
    with pytest.raises(ValidationError) as exc:
        void(cast, step)
    assert "已作废" in message(exc, "step")
    with pytest.raises(ValidationError) as exc:
        void(cast, talk, who="secretary_b")
    assert "无权" in message(exc, "step")


def test_void_candidate_goes_back_to_activist(cast, people):
    person, intro1, intro2 = people
    to_candidate(person, intro1, intro2)
    person.refresh_from_db()
    assert person.stage == Stage.CANDIDATE
    void(cast, latest(person))
    person.refresh_from_db()
    assert person.stage == Stage.ACTIVIST


def test_void_admission_approval_back_to_candidate_and_drops_unpaid_dues(cast, people):
    person, intro1, intro2 = people
    to_vote(person, intro1, intro2)
    approval = rec(person, S.ADMISSION_APPROVAL, date(2024, 8, 1))
    person.refresh_from_db()
    assert person.stage == Stage.PROBATIONARY and person.joined_on == date(2024, 6, 1)
    dues_fixing_create(member=person, year=2025, category="student", fixed_on=date(2025, 1, 3))
    void(cast, approval)
    person.refresh_from_db()
    assert person.stage == Stage.CANDIDATE and person.joined_on is None
    assert not DuesFixing.objects.filter(member=person).exists() and not DuesMonth.objects.filter(member=person)
    assert AuditEvent.objects.filter(event="dues_ledger_drop").count() == 1


def test_void_admission_approval_refused_once_dues_were_paid(cast, people):
    person, intro1, intro2 = people
    to_vote(person, intro1, intro2)
    approval = rec(person, S.ADMISSION_APPROVAL, date(2024, 8, 1))
    person.refresh_from_db()
    dues_fixing_create(member=person, year=2025, category="student", fixed_on=date(2025, 1, 3))
    dues_payment_record(member=person, months=[date(2025, 1, 1)], paid_on=date(2025, 1, 10))
    with pytest.raises(ValidationError) as exc:
        void(cast, approval)
    assert "已有党费缴纳记录" in message(exc, "step")
    assert DevelopmentStep.objects.filter(pk=approval.pk).exists()  # nothing saved
    person.refresh_from_db()
    assert person.stage == Stage.PROBATIONARY and DuesFixing.objects.filter(member=person).exists()


def test_void_full_approval_back_to_probationary(cast, people):
    person, intro1, intro2 = people
    to_probationary(person, intro1, intro2)
    rec(person, S.FULL_VOTE, date(2025, 6, 1), outcome="full", **VOTES)
    approval = rec(person, S.FULL_APPROVAL, date(2025, 7, 1))
    person.refresh_from_db()
    assert person.stage == Stage.FULL
    void(cast, approval)
    person.refresh_from_db()
    assert person.stage == Stage.PROBATIONARY and person.full_on is None
    assert development_state(person).pending_full_vote is not None  # the vote awaits its approval again


def test_void_cancellation_restores_membership_and_the_ledger(cast, people):
    person, intro1, intro2 = people
    to_probationary(person, intro1, intro2)
    person.refresh_from_db()
    dues_fixing_create(member=person, year=2025, category="student", fixed_on=date(2025, 1, 3))
    rec(person, S.FULL_VOTE, date(2025, 6, 1), outcome="cancel", **VOTES)
    approval = rec(person, S.FULL_APPROVAL, date(2025, 6, 15))
    assert DuesMonth.objects.filter(member=person).count() == 6
    void(cast, approval, reason="审批结论登记错误")
    person.refresh_from_db()
    assert person.membership_status == MembershipStatus.NORMAL and person.stage == Stage.PROBATIONARY
    assert DuesMonth.objects.filter(member=person).count() == 12


def test_person_page_void_button_with_confirmation_on_latest_step_only(cast, people):
    person, *_ = people
    talk = rec(person, S.TALK, date(2023, 2, 10))
    client = cast.client("secretary_a")
    url = f"/development/member/{person.pk}/"
    page = client.get(url).content.decode()
    assert page.count('name="action" value="void"') == 1
    assert f'name="step_id" value="{talk.pk}"' in page and "data-confirm=" in page
    response = client.post(url, {"action": "void", "step_id": talk.pk, "reason": ""})
    assert response.status_code == 400 and "请填写作废原因" in response.content.decode()
    first = DevelopmentStep.objects.get(member=person, step=S.APPLICATION)
    response = client.post(url, {"action": "void", "step_id": first.pk, "reason": "错"})
    assert response.status_code == 400 and "只能作废最近登记的一条记录" in response.content.decode()
    response = client.post(url, {"action": "void", "step_id": talk.pk, "reason": "谈话日期登记错误"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "已作废的记录" in page and "谈话日期登记错误" in page
    assert cast.client("auditor_p").post(url, {"action": "void", "step_id": first.pk, "reason": "x"}).status_code == 403
    assert DevelopmentStep.objects.filter(pk=first.pk).exists()


# --- The 支部大会 vote linked to the meeting record ------------------------------------------------


def assembly(cast, person=None, *, held_on=date(2024, 6, 1), kind="admission", org=None, **fields):
    values = {"meeting_type": "general_assembly", "status": "final", "voters_expected": 10, "voters_present": 8}
    values.update(fields)
    meeting = Meeting.objects.create(organization=org or cast.A, held_on=held_on, title="支部党员大会", **values)
    if person is not None:
        Resolution.objects.create(
            meeting=meeting,
            title=f"讨论接收{person.name}",
            kind=kind,
            votes_for=6,
            votes_against=1,
            votes_abstain=0,
            written_for=1,
            outcome="passed",
            subject_member=person,
        )
    return meeting


def to_form(person, intro1, intro2):
    to_vote(person, intro1, intro2)
    vote = DevelopmentStep.objects.get(member=person, step=S.ADMISSION_VOTE)
    DevelopmentStep.objects.filter(member=person, number__gte=vote.number).delete()


def test_vote_step_takes_date_and_counts_from_the_meeting(cast, people):
    person, intro1, intro2 = people
    to_form(person, intro1, intro2)
    meeting = assembly(cast, person)
    step = rec(person, S.ADMISSION_VOTE, None, meeting_id=meeting.pk)
    assert step.meeting == meeting and step.occurred_on == date(2024, 6, 1)
    counts = (step.votes_expected, step.votes_present, step.votes_for, step.votes_against, step.votes_abstain)
    assert counts == (10, 8, 7, 1, 0)  # the written opinion of an absent voter counts (FZ)
    assert step.decision == "approved"
    resolution = Resolution.objects.get(meeting=meeting)
    assert resolution.development_step == step


def test_vote_step_typed_values_must_agree_with_the_meeting(cast, people):
    person, intro1, intro2 = people
    to_form(person, intro1, intro2)
    meeting = assembly(cast, person)
    with pytest.raises(ValidationError) as exc:
        rec(person, S.ADMISSION_VOTE, date(2024, 6, 2), meeting_id=meeting.pk)
    assert "应与所选会议记录的日期（2024-06-01）一致" in message(exc, "occurred_on")
    with pytest.raises(ValidationError) as exc:
        rec(person, S.ADMISSION_VOTE, date(2024, 6, 1), meeting_id=meeting.pk, votes_present=9, votes_for=7)
    assert "实到会有表决权党员与所选会议记录不一致（会议记录为 8 人）" in message(exc, "votes_present")
    assert not DevelopmentStep.objects.filter(member=person, step=S.ADMISSION_VOTE).exists()
    step = rec(person, S.ADMISSION_VOTE, date(2024, 6, 1), meeting_id=meeting.pk, votes_expected=10, votes_for=7)
    assert step.votes_present == 8


@pytest.mark.parametrize(
    "setup,text",
    [
        ({"meeting_type": "committee"}, "不是支部党员大会"),
        ({"status": "draft"}, "尚未完成录入"),
        ({"other_branch": True}, "不是本党支部的会议"),
    ],
)
def test_vote_step_meeting_must_be_a_finished_assembly_of_the_branch(cast, people, setup, text):
    person, intro1, intro2 = people
    to_form(person, intro1, intro2)
    org = cast.B if setup.pop("other_branch", False) else None
    meeting = assembly(cast, person, org=org, **setup)
    with pytest.raises(ValidationError) as exc:
        rec(person, S.ADMISSION_VOTE, None, meeting_id=meeting.pk)
    assert text in message(exc, "meeting")
    with pytest.raises(ValidationError) as exc:
        rec(person, S.ADMISSION_VOTE, None, meeting_id=999999)
    assert "找不到该会议记录" in message(exc, "meeting")


def test_meeting_without_counts_keeps_the_manual_path(cast, people):
    person, intro1, intro2 = people
    to_form(person, intro1, intro2)
    meeting = assembly(cast, voters_expected=0, voters_present=0)  # no attendance, no resolution recorded
    with pytest.raises(ValidationError) as exc:
        rec(person, S.ADMISSION_VOTE, None, meeting_id=meeting.pk)
    assert "请填写表决人数" in message(exc, "votes_for")
    step = rec(person, S.ADMISSION_VOTE, None, meeting_id=meeting.pk, **VOTES)
    assert step.meeting == meeting and step.votes_for == 6 and step.occurred_on == date(2024, 6, 1)


def test_only_vote_steps_link_a_meeting(cast, people):
    person, *_ = people
    meeting = assembly(cast, held_on=date(2023, 2, 10))
    with pytest.raises(ValidationError) as exc:
        rec(person, S.TALK, date(2023, 2, 10), meeting_id=meeting.pk)
    assert "只有支部大会讨论接收或转正的步骤" in message(exc, "meeting")


def test_full_vote_outcome_defaults_from_the_resolution_kind(cast, people):
    person, intro1, intro2 = people
    to_probationary(person, intro1, intro2)
    meeting = assembly(cast, person, held_on=date(2025, 6, 1), kind="extend_probation")
    with pytest.raises(ValidationError) as exc:
        rec(person, S.FULL_VOTE, None, meeting_id=meeting.pk, outcome="full")
    assert "转正讨论结论与会议记录的决议事项（延长预备期）不一致" in message(exc, "outcome")
    step = rec(person, S.FULL_VOTE, None, meeting_id=meeting.pk, extension_months=6)
    assert step.outcome == "extend" and step.occurred_on == date(2025, 6, 1)


def test_person_page_offers_the_branch_assemblies_and_records_with_one(cast, people):
    person, intro1, intro2 = people
    to_form(person, intro1, intro2)
    meeting = assembly(cast, person)
    committee = assembly(cast, held_on=date(2024, 5, 5), meeting_type="committee")
    elsewhere = assembly(cast, held_on=date(2024, 5, 6), org=cast.B)
    client = cast.client("secretary_a")
    url = f"/development/member/{person.pk}/"
    page = client.get(url).content.decode()
    assert page.count('name="meeting"') == 1 and f'<option value="{meeting.pk}">2024-06-01' in page
    assert f'<option value="{committee.pk}">' not in page and f'<option value="{elsewhere.pk}">' not in page
    response = client.post(url, {"step": S.ADMISSION_VOTE, "occurred_on": "", "meeting": meeting.pk})
    assert response.status_code == 302, response.content.decode()[:3000]
    step = DevelopmentStep.objects.get(member=person, step=S.ADMISSION_VOTE)
    assert step.meeting == meeting and step.votes_for == 7
    page = client.get(url).content.decode()
    assert f'href="/activities/meetings/{meeting.pk}/">支部党员大会会议记录</a>' in page
