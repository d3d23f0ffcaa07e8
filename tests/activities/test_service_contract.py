"""The service contract: a write service that takes the acting ``user`` authorizes that user
through the gate before writing (PermissionDenied, nothing written); the system variants take no
user and trust their caller."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from activities.attachments import attachment_add, attachment_delete
from activities.calendar import plan_save
from activities.models import ActivitySettings, Attachment, FollowUp, Meeting, Plan, Talk
from activities.services.appraisal import appraisal_grades_set
from activities.services.follow_ups import follow_up_create, follow_up_update
from activities.services.inputs import ResolutionInput
from activities.services.meetings import meeting_delete, meeting_save, meeting_save_system
from activities.services.study import activity_settings_update
from activities.services.talks import talk_create, talk_create_system, talk_delete
from audit.models import AuditEvent
from tests.activities.conftest import MEETING_DAY, add_committee, add_members, attendance, header
from tests.files import PDF

pytestmark = pytest.mark.django_db



@pytest.fixture
def people(cast, today_is):
    return [cast.member_a_record, *add_members(cast.A, full=3)]


@pytest.fixture
def meeting(cast, people):
    return meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=header("appraisal"),
        attendance=attendance(people, len(people)),
        resolutions=[ResolutionInput(title="整理档案", voting_method="none", action_required=True)],
        finish=True,
    )


OUTSIDERS = ["secretary_b", "auditor_p", "member_a", "sysadmin", "outsider"]


def _refused(call) -> None:
    events = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        call()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("who", OUTSIDERS)
def test_meeting_writes_authorize_the_user(cast, people, meeting, who, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    user = cast.users[who]
    _refused(
        lambda: meeting_save(
            user=user, organization=cast.A, data=header(), attendance=attendance(people, 4), resolutions=[]
        )
    )
    _refused(
        lambda: meeting_save(
            user=user,
            organization=cast.A,
            data=header(title="改"),
            attendance=attendance(people, 4),
            resolutions=[],
            meeting=meeting,
        )
    )
    _refused(lambda: meeting_delete(user=user, meeting=meeting))
    _refused(lambda: appraisal_grades_set(user=user, meeting=meeting, grades=[]))
    _refused(lambda: attachment_add(user=user, meeting=meeting, name="纪要.pdf", content=PDF))
    assert Meeting.objects.get().title == "研究发展党员工作" and not Attachment.objects.exists()


@pytest.mark.parametrize("who", OUTSIDERS)
def test_follow_up_talk_settings_plan_and_attachment_writes_authorize_the_user(
    cast, people, meeting, who, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    user, secretary = cast.users[who], cast.users["secretary_a"]
    follow_up = FollowUp.objects.get()
    _refused(lambda: follow_up_update(user=user, follow_up=follow_up, status="done"))
    _refused(
        lambda: follow_up_create(
            user=user, organization=cast.A, title="补交材料", body_type="general_assembly", opened_on=MEETING_DAY
        )
    )
    add_committee(cast.A, people[1:4])
    talk_args = {"organization": cast.A, "held_on": MEETING_DAY, "initiator": people[1], "counterpart": people[0]}
    _refused(lambda: talk_create(user=user, topic="谈心", **talk_args))
    talk = talk_create(user=secretary, topic="谈心", **talk_args)
    _refused(lambda: talk_delete(user=user, talk=talk))
    _refused(
        lambda: activity_settings_update(
            user=user, organization=cast.A, study_points_enabled=True, advisory_summary_enabled=True
        )
    )
    _refused(
        lambda: plan_save(
            user=user,
            organization=cast.A,
            year=2026,
            quarter=2,
            items=[{"meeting_type": "lecture", "planned_on": date(2026, 5, 1)}],
        )
    )
    attachment = attachment_add(user=secretary, meeting=meeting, name="纪要.pdf", content=PDF)
    _refused(lambda: attachment_delete(user=user, attachment=attachment))
    assert FollowUp.objects.get().status == "open" and Talk.objects.count() == 1 and Attachment.objects.count() == 1
    assert not ActivitySettings.objects.exists() and not Plan.objects.exists()


def test_the_org_admin_above_records_for_the_branch(cast, people):
    admin = cast.users["org_admin_p"]
    meeting = meeting_save(
        user=admin, organization=cast.A, data=header(), attendance=attendance(people, 4), resolutions=[], finish=True
    )
    meeting_delete(user=admin, meeting=meeting)
    assert not Meeting.objects.exists()


def test_system_variants_take_no_user_and_name_none(cast, people):
    add_committee(cast.A, people[1:4])
    meeting = meeting_save_system(
        organization=cast.A, data=header(), attendance=attendance(people, 4), resolutions=[], finish=True
    )
    talk = talk_create_system(
        organization=cast.A, held_on=MEETING_DAY, initiator=people[1], counterpart=people[0], topic="谈心"
    )
    assert meeting.created_by is None and talk.created_by is None
    assert {e.user_id for e in AuditEvent.objects.filter(event__in=["meeting_create", "talk_create"])} == {None}
    for service in (meeting_save_system, talk_create_system):
        assert service.__doc__.startswith("System:")
