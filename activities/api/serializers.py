"""Input serializers reject unknown fields; output serializers never expose more than the page does."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from activities.choices import (
    AppraisalGrade,
    AttachmentKind,
    AttendanceStatus,
    FollowUpStatus,
    MeetingType,
    ResolutionKind,
    StudySource,
    VotingMethod,
)
from activities.models import (
    AppraisalEntry,
    Attachment,
    Attendance,
    FollowUp,
    Meeting,
    Plan,
    PlanItem,
    Resolution,
    StudyPoints,
    StudyRecord,
    Talk,
)
from activities.services.inputs import AttendanceInput, MeetingInput, ResolutionInput
from core.api.output import PlannedOutputMixin


class StrictSerializer(serializers.Serializer):
    """Unknown fields are a 400, never silently dropped (mass assignment, AC-6)."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            unknown = set(data.keys()) - set(self.fields)
            if unknown:
                raise serializers.ValidationError({name: "不支持的字段" for name in sorted(unknown)})
        return super().to_internal_value(data)


# --- meetings: input -------------------------------------------------------------------------------


class AttendanceInputSerializer(StrictSerializer):
    member_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    position_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    name = serializers.CharField(required=False, allow_blank=True, max_length=50, help_text="列席人员（来宾）姓名")
    status = serializers.ChoiceField(choices=AttendanceStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)
    is_speaker = serializers.BooleanField(required=False, default=False)
    speech_topic = serializers.CharField(required=False, allow_blank=True, max_length=200)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs.get("member_id") or attrs.get("position_id") or attrs.get("name", "").strip()):
            raise serializers.ValidationError("请指定党员（member_id）、委员职务（position_id）或列席人员姓名（name）")
        return attrs


class ResolutionInputSerializer(StrictSerializer):
    id = serializers.IntegerField(required=False, allow_null=True, min_value=1, help_text="修改已有决议时填写")
    title = serializers.CharField(max_length=300)
    kind = serializers.ChoiceField(choices=ResolutionKind.choices, required=False, default=ResolutionKind.GENERAL)
    voting_method = serializers.ChoiceField(choices=VotingMethod.choices, required=False)
    votes_for = serializers.IntegerField(required=False, default=0, min_value=0, max_value=100000)
    votes_against = serializers.IntegerField(required=False, default=0, min_value=0, max_value=100000)
    votes_abstain = serializers.IntegerField(required=False, default=0, min_value=0, max_value=100000)
    written_for = serializers.IntegerField(required=False, default=0, min_value=0, max_value=100000)
    written_against = serializers.IntegerField(required=False, default=0, min_value=0, max_value=100000)
    written_abstain = serializers.IntegerField(required=False, default=0, min_value=0, max_value=100000)
    subject_member_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    action_required = serializers.BooleanField(required=False, default=False)
    follow_up_owner_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    follow_up_owner_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    follow_up_due_on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class MeetingInputSerializer(StrictSerializer):
    organization = serializers.IntegerField(min_value=1)
    meeting_type = serializers.ChoiceField(choices=MeetingType.choices)
    also_counts_as = serializers.ListField(
        child=serializers.ChoiceField(choices=MeetingType.choices), required=False, default=list, max_length=5
    )
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    held_on = serializers.DateField()
    start_time = serializers.TimeField(required=False, allow_null=True)
    end_time = serializers.TimeField(required=False, allow_null=True)
    place = serializers.CharField(required=False, allow_blank=True, max_length=200)
    chair_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    chair_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    recorder_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    recorder_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    lecturer_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    lecturer_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    agenda = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    minutes = serializers.CharField(required=False, allow_blank=True, max_length=100000)
    first_topic = serializers.CharField(required=False, allow_blank=True, max_length=200)
    first_topic_material = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    is_center_group = serializers.BooleanField(required=False, default=False)
    study_hours = serializers.DecimalField(
        max_digits=4, decimal_places=1, required=False, allow_null=True, min_value=0, max_value=24
    )
    finish = serializers.BooleanField(required=False, default=False, help_text="完成录入（否则保存为草稿）")
    attendance = AttendanceInputSerializer(many=True, required=False, default=list, max_length=3000)
    resolutions = ResolutionInputSerializer(many=True, required=False, default=list, max_length=100)

    def to_input(self) -> tuple[MeetingInput, list[AttendanceInput], list[ResolutionInput]]:
        """The service's input from the validated body: the header, the attendance rows and the
        resolutions (``organization`` and ``finish`` are read by the view)."""
        data = self.validated_data
        header = MeetingInput(**{name: data[name] for name in MeetingInput.FIELDS if name in data})
        attendance = [AttendanceInput(**row) for row in data["attendance"]]
        resolutions = [ResolutionInput(**row) for row in data["resolutions"]]
        return header, attendance, resolutions


# --- meetings: output ------------------------------------------------------------------------------


class AttendanceOutputSerializer(PlannedOutputMixin, serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Attendance
        fields = [
            "id",
            "member_id",
            "position_id",
            "name",
            "status",
            "status_display",
            "reason",
            "is_expected",
            "is_voter",
            "is_guest",
            "is_speaker",
            "speech_topic",
        ]


class FollowUpOutputSerializer(PlannedOutputMixin, serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    meeting_held_on = serializers.SerializerMethodField()

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "organization_id",
            "meeting_id",
            "meeting_held_on",
            "resolution_id",
            "body_type",
            "title",
            "owner_id",
            "owner_name",
            "due_on",
            "status",
            "status_display",
            "opened_on",
            "closed_on",
            "note",
        ]

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_meeting_held_on(self, obj: FollowUp) -> Any:
        meeting = obj.meeting if obj.meeting_id and "meeting" in obj._state.fields_cache else None
        return meeting.held_on if meeting else None


class ResolutionOutputSerializer(PlannedOutputMixin, serializers.ModelSerializer):
    outcome_display = serializers.CharField(source="get_outcome_display", read_only=True)
    follow_up = serializers.SerializerMethodField()

    class Meta:
        model = Resolution
        fields = [
            "id",
            "order",
            "title",
            "kind",
            "voting_method",
            "votes_for",
            "votes_against",
            "votes_abstain",
            "written_for",
            "written_against",
            "written_abstain",
            "outcome",
            "outcome_display",
            "subject_member_id",
            "action_required",
            "note",
            "follow_up",
        ]

    @extend_schema_field(FollowUpOutputSerializer(allow_null=True))
    def get_follow_up(self, obj: Resolution) -> Any:
        follow_ups = self.context.get("follow_ups")
        follow_up = follow_ups.get(obj.pk) if follow_ups is not None else getattr(obj, "follow_up", None)
        return FollowUpOutputSerializer(follow_up).data if follow_up else None


class AttachmentOutputSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "meeting_id", "kind", "original_name", "content_type", "size", "created_at", "download_url"]

    def get_download_url(self, obj: Attachment) -> str:
        return f"/api/v1/attachments/{obj.pk}/download/"


# What the list shows: the header as recorded (its long texts only on the detail), then what the
# service computed. Same order as the input's field list.
LONG_TEXTS = ("agenda", "minutes", "first_topic_material")
MEETING_FIELDS = [
    "id",
    "organization_id",
    *(name for name in MeetingInput.FIELDS if name not in LONG_TEXTS),
    "status",
    "finalized_at",
    "expected_count",
    "present_count",
    "leave_count",
    "absent_count",
    "nonvoting_count",
    "voters_expected",
    "voters_present",
    "quorum",
]


class MeetingListOutputSerializer(PlannedOutputMixin, serializers.ModelSerializer):
    class Meta:
        model = Meeting
        fields = MEETING_FIELDS


class MeetingDetailOutputSerializer(PlannedOutputMixin, serializers.ModelSerializer):
    attendance = serializers.SerializerMethodField()
    resolutions = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = [
            *MEETING_FIELDS,
            *LONG_TEXTS,
            "attendance",
            "resolutions",
            "attachments",
        ]

    @extend_schema_field(AttendanceOutputSerializer(many=True))
    def get_attendance(self, obj: Meeting) -> Any:
        rows = getattr(obj, "saved_attendance", None)
        return AttendanceOutputSerializer(obj.attendance.all() if rows is None else rows, many=True).data

    @extend_schema_field(ResolutionOutputSerializer(many=True))
    def get_resolutions(self, obj: Meeting) -> Any:
        rows = getattr(obj, "saved_resolutions", None)
        return ResolutionOutputSerializer(
            obj.resolutions.all() if rows is None else rows, many=True, context=self.context
        ).data

    @extend_schema_field(AttachmentOutputSerializer(many=True))
    def get_attachments(self, obj: Meeting) -> Any:
        if self.context.get("new"):
            return []
        return AttachmentOutputSerializer(obj.attachments.all(), many=True).data


class RosterPersonSerializer(serializers.Serializer):
    member_id = serializers.IntegerField(allow_null=True)
    position_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    is_expected = serializers.BooleanField()
    is_voter = serializers.BooleanField()
    roles = serializers.ListField(child=serializers.CharField())


class RosterOutputSerializer(serializers.Serializer):
    expected = RosterPersonSerializer(many=True)
    others = RosterPersonSerializer(many=True)
    committee_size = serializers.IntegerField(allow_null=True)


# --- follow-ups --------------------------------------------------------------------------------------


class FollowUpInputSerializer(StrictSerializer):
    organization = serializers.IntegerField(min_value=1)
    title = serializers.CharField(max_length=300)
    body_type = serializers.ChoiceField(choices=MeetingType.choices)
    opened_on = serializers.DateField()
    owner_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    due_on = serializers.DateField(required=False, allow_null=True)


class FollowUpUpdateSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=FollowUpStatus.choices, required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)
    owner_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    due_on = serializers.DateField(required=False, allow_null=True)


# --- appraisal ---------------------------------------------------------------------------------------


class AppraisalGradeInputSerializer(StrictSerializer):
    member_id = serializers.IntegerField(min_value=1)
    grade = serializers.ChoiceField(
        choices=[("", "不评定（预备党员）"), *AppraisalGrade.choices], required=False, allow_blank=True, default=""
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=300)


class AppraisalInputSerializer(StrictSerializer):
    grades = AppraisalGradeInputSerializer(many=True, max_length=3000)


class AppraisalEntryOutputSerializer(serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.name", read_only=True)

    class Meta:
        model = AppraisalEntry
        fields = ["id", "member_id", "member_name", "grade", "is_probationary", "comment"]


# --- talks -------------------------------------------------------------------------------------------


class TalkInputSerializer(StrictSerializer):
    organization = serializers.IntegerField(min_value=1)
    held_on = serializers.DateField()
    initiator_id = serializers.IntegerField(min_value=1)
    counterpart_id = serializers.IntegerField(min_value=1)
    topic = serializers.CharField(max_length=200)
    place = serializers.CharField(required=False, allow_blank=True, max_length=100)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class TalkOutputSerializer(serializers.ModelSerializer):
    initiator_name = serializers.CharField(source="initiator.name", read_only=True)
    counterpart_name = serializers.CharField(source="counterpart.name", read_only=True)

    class Meta:
        model = Talk
        fields = [
            "id",
            "organization_id",
            "held_on",
            "initiator_id",
            "initiator_name",
            "counterpart_id",
            "counterpart_name",
            "topic",
            "place",
            "note",
        ]


class CoveragePairSerializer(serializers.Serializer):
    committee_member_id = serializers.IntegerField()
    committee_member_name = serializers.CharField()
    member_id = serializers.IntegerField()
    member_name = serializers.CharField()
    covered = serializers.BooleanField()


class CoverageOutputSerializer(serializers.Serializer):
    organization_id = serializers.IntegerField()
    year = serializers.IntegerField()
    required = serializers.IntegerField()
    done = serializers.IntegerField()
    complete = serializers.BooleanField()
    pairs = CoveragePairSerializer(many=True)
    unlinked_committee_seats = serializers.ListField(child=serializers.CharField())


# --- study -------------------------------------------------------------------------------------------


class StudyRecordInputSerializer(StrictSerializer):
    member_id = serializers.IntegerField(min_value=1)
    source = serializers.ChoiceField(choices=[(StudySource.TRAINING, "培训班"), (StudySource.SELF_STUDY, "自学")])
    studied_on = serializers.DateField()
    hours = serializers.DecimalField(max_digits=5, decimal_places=1, min_value=0, max_value=1000)
    title = serializers.CharField(max_length=200)
    organizer = serializers.CharField(required=False, allow_blank=True, max_length=100)


class StudyRecordOutputSerializer(serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.name", read_only=True)

    class Meta:
        model = StudyRecord
        fields = ["id", "member_id", "member_name", "source", "meeting_id", "studied_on", "hours", "title", "organizer"]


class StudyPointsInputSerializer(StrictSerializer):
    member_id = serializers.IntegerField(min_value=1)
    recorded_on = serializers.DateField()
    points = serializers.IntegerField(min_value=0, max_value=1_000_000)


class StudyPointsOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = StudyPoints
        fields = ["id", "member_id", "recorded_on", "points"]


# --- plans -------------------------------------------------------------------------------------------


class PlanItemInputSerializer(StrictSerializer):
    meeting_type = serializers.ChoiceField(choices=MeetingType.choices)
    planned_on = serializers.DateField()
    start_time = serializers.TimeField(required=False, allow_null=True)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    place = serializers.CharField(required=False, allow_blank=True, max_length=200)


class PlanInputSerializer(StrictSerializer):
    organization = serializers.IntegerField(min_value=1)
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    quarter = serializers.IntegerField(min_value=1, max_value=4)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    submit = serializers.BooleanField(required=False, default=False)
    items = PlanItemInputSerializer(many=True, max_length=200)


class PlanItemOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanItem
        fields = ["id", "meeting_type", "planned_on", "start_time", "title", "place", "meeting_id"]


class PlanOutputSerializer(serializers.ModelSerializer):
    items = PlanItemOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Plan
        fields = ["id", "organization_id", "year", "quarter", "status", "note", "submitted_at", "items"]


# --- compliance --------------------------------------------------------------------------------------


class ComplianceItemSerializer(serializers.Serializer):
    organization_id = serializers.IntegerField()
    meeting_type = serializers.CharField(help_text="事项：会议类型代码，或 talk / secretary_lecture / study_hours")
    label = serializers.CharField()
    period = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    deadline = serializers.DateField()
    required = serializers.IntegerField()
    held = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["upcoming", "due", "done", "late", "overdue", "waived"])
    status_label = serializers.CharField()
    done_on = serializers.DateField(allow_null=True)
    waiver_reason = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)


class TallySerializer(serializers.Serializer):
    done = serializers.IntegerField()
    late = serializers.IntegerField()
    overdue = serializers.IntegerField()
    due = serializers.IntegerField()
    upcoming = serializers.IntegerField()
    waived = serializers.IntegerField()
    judged = serializers.IntegerField()
    share_on_time = serializers.IntegerField(
        allow_null=True, help_text="按时完成率（%）= 按时完成 ÷（按时 + 逾期完成 + 逾期未完成）"
    )


class RollupByTypeSerializer(TallySerializer):
    meeting_type = serializers.CharField()
    label = serializers.CharField()


class RollupByChildSerializer(TallySerializer):
    organization_id = serializers.IntegerField()
    name = serializers.CharField()
    org_type = serializers.CharField()


class RollupSerializer(serializers.Serializer):
    organizations = serializers.IntegerField()
    total = TallySerializer()
    by_type = RollupByTypeSerializer(many=True)
    by_child = RollupByChildSerializer(many=True)


class ComplianceOutputSerializer(serializers.Serializer):
    organization_id = serializers.IntegerField()
    year = serializers.IntegerField()
    quarter = serializers.IntegerField(allow_null=True)
    month = serializers.IntegerField(allow_null=True)
    items = ComplianceItemSerializer(many=True)
    rollup = RollupSerializer(allow_null=True)


class AttachmentUploadSerializer(StrictSerializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=AttachmentKind.choices, required=False, default=AttachmentKind.OTHER)
