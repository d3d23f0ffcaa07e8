"""The meeting's typed input: one field list, read by the form, the serializer and the service;
the form and the serializer each build it once."""

from __future__ import annotations

from datetime import date

from activities.api.serializers import AttendanceInputSerializer, MeetingInputSerializer, ResolutionInputSerializer
from activities.forms import MeetingHeaderForm, parse_attendance, parse_resolutions
from activities.services.inputs import AttendanceInput, MeetingInput, ResolutionInput
from tests.activities.conftest import MEETING_DAY


def test_one_field_list_for_the_form_the_serializer_and_the_service():
    people = {f"{p}_id" for p in MeetingInput.PEOPLE}
    form_fields = (set(MeetingHeaderForm.base_fields) - set(MeetingInput.PEOPLE)) | people
    assert form_fields == set(MeetingInput.FIELDS)
    body = set(MeetingInputSerializer().fields) - {"organization", "finish", "attendance", "resolutions"}
    assert body == set(MeetingInput.FIELDS)
    assert set(AttendanceInputSerializer().fields) == set(AttendanceInput.FIELDS)
    assert set(ResolutionInputSerializer().fields) == set(ResolutionInput.FIELDS)


def test_the_form_builds_the_typed_input():
    form = MeetingHeaderForm(
        {
            "meeting_type": "lecture",
            "held_on": "2026-03-10",
            "title": "党课",
            "chair": "12",
            "recorder_name": "外单位记录人",
            "also_counts_as": ["general_assembly"],
            "study_hours": "2",
        }
    )
    assert form.is_valid(), form.errors
    data = form.to_input()
    assert (data.meeting_type, data.held_on, data.title) == ("lecture", MEETING_DAY, "党课")
    assert (data.chair_id, data.chair_name, data.recorder_id, data.recorder_name) == (12, "", None, "外单位记录人")
    assert list(data.also_counts_as) == ["general_assembly"] and data.place == "" and data.study_hours == 2
    post = {"att-m5": "leave", "reason-m5": "出差", "nv-p7": "on", "guests": "来宾甲\n\n", "res-count": "1"}
    post |= {"res-0-title": "同意", "res-0-votes_for": "3", "res-0-follow_up_due_on": "2026-04-01"}
    rows, _ = parse_attendance(post, ["m5"], ["p7"])
    assert rows == [
        AttendanceInput(member_id=5, status="leave", reason="出差"),
        AttendanceInput(position_id=7, status="attending_nonvoting"),
        AttendanceInput(name="来宾甲", status="attending_nonvoting"),
    ]
    resolutions, _, errors = parse_resolutions(post)
    assert errors == [] and resolutions == [
        ResolutionInput(
            title="同意", kind="general", voting_method="show_of_hands", votes_for=3, follow_up_due_on=date(2026, 4, 1)
        )
    ]


def test_the_serializer_builds_the_typed_input(cast):
    serializer = MeetingInputSerializer(
        data={
            "organization": cast.A.pk,
            "meeting_type": "general_assembly",
            "held_on": "2026-03-10",
            "attendance": [{"member_id": 5, "status": "present"}, {"name": "来宾", "status": "attending_nonvoting"}],
            "resolutions": [{"title": "同意", "votes_for": 3}],
        }
    )
    assert serializer.is_valid(), serializer.errors
    data, rows, resolutions = serializer.to_input()
    assert data == MeetingInput(meeting_type="general_assembly", held_on=MEETING_DAY, also_counts_as=[])
    assert rows == [
        AttendanceInput(member_id=5, status="present"),
        AttendanceInput(name="来宾", status="attending_nonvoting"),
    ]
    assert resolutions == [ResolutionInput(title="同意", kind="general", votes_for=3)]
