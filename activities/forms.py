"""Forms for the organizational-life pages. The meeting form has a fixed header (a Django form)
and dynamic rows (attendance per person, resolutions), parsed here into the service's typed input
(``activities.services.inputs``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms

from activities.choices import (
    ALSO_COUNTS_AS,
    AppraisalGrade,
    AttachmentKind,
    AttendanceStatus,
    ComplianceKind,
    FollowUpStatus,
    MeetingStatus,
    MeetingType,
    Period,
    ResolutionKind,
    StudySource,
    VotingMethod,
)
from activities.models import Meeting
from activities.services.inputs import AttendanceInput, MeetingInput, ResolutionInput
from core.numbers import is_number
from organizations.choices import OrgType

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
RECORDABLE_TYPES = [(code, label) for code, label in MeetingType.choices if code != MeetingType.TALK]
ALSO_CHOICES = sorted({code for codes in ALSO_COUNTS_AS.values() for code in codes})


def _int_or_none(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if is_number(text) else None


class MeetingHeaderForm(forms.Form):
    meeting_type = forms.ChoiceField(label="会议类型", choices=RECORDABLE_TYPES)
    held_on = forms.DateField(label="日期", widget=DATE)
    start_time = forms.TimeField(label="开始", required=False, widget=TIME)
    end_time = forms.TimeField(label="结束", required=False, widget=TIME)
    place = forms.CharField(label="地点", max_length=200, required=False)
    title = forms.CharField(label="主题/议题", max_length=200, required=False)
    also_counts_as = forms.MultipleChoiceField(
        label="同时计为",
        required=False,
        choices=[(c, MeetingType(c).label) for c in ALSO_CHOICES],
        widget=forms.CheckboxSelectMultiple,
    )
    chair = forms.CharField(label="主持人", required=False)
    chair_name = forms.CharField(label="主持人（非本组织）", max_length=50, required=False)
    recorder = forms.CharField(label="记录人", required=False)
    recorder_name = forms.CharField(label="记录人（非本组织）", max_length=50, required=False)
    lecturer = forms.CharField(label="授课人", required=False)
    lecturer_name = forms.CharField(label="授课人（非本组织）", max_length=50, required=False)
    study_hours = forms.DecimalField(
        label="计入学时",
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("24"),
        decimal_places=1,
        help_text="留空按开始、结束时间计算",
    )
    first_topic = forms.CharField(label="第一议题", max_length=200, required=False)
    first_topic_material = forms.CharField(
        label="第一议题学习材料", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_center_group = forms.BooleanField(label="理论学习中心组学习", required=False)
    agenda = forms.CharField(label="议程", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    minutes = forms.CharField(label="会议记录（发言要点）", required=False, widget=forms.Textarea(attrs={"rows": 6}))

    def to_input(self) -> MeetingInput:
        """The service's input from the cleaned form (people are picked by member id as text)."""
        data = self.cleaned_data
        values: dict[str, Any] = {name: data.get(name) for name in MeetingInput.FIELDS if name in self.fields}
        values["also_counts_as"] = list(data.get("also_counts_as") or [])
        for person in MeetingInput.PEOPLE:
            values[f"{person}_id"] = _int_or_none(data.get(person))
            values[f"{person}_name"] = values.get(f"{person}_name") or ""
        for name in MeetingInput.TEXTS:
            values[name] = values[name] or ""
        return MeetingInput(**values)

    @classmethod
    def initial_from(cls, meeting: Meeting) -> dict[str, Any]:
        """The form's initial values for editing ``meeting`` (a person outside the organization
        shows as a typed name)."""
        initial = {name: getattr(meeting, name) for name in MeetingInput.FIELDS if name in cls.base_fields}
        for person in MeetingInput.PEOPLE:
            member_id = getattr(meeting, f"{person}_id")
            initial[person] = member_id or ""
            initial[f"{person}_name"] = "" if member_id else getattr(meeting, f"{person}_name")
        return initial


def parse_attendance(post: Any, keys: list[str], others: list[str]) -> tuple[list[AttendanceInput], dict[str, dict]]:
    """Attendance rows for the service, and what the user typed (to re-display)."""
    rows: list[AttendanceInput] = []
    typed: dict[str, dict[str, Any]] = {}
    for key in keys:
        status = post.get(f"att-{key}", "")
        reason = post.get(f"reason-{key}", "").strip()
        speaker = bool(post.get(f"speaker-{key}"))
        typed[key] = {"status": status, "reason": reason, "speaker": speaker}
        if not status:
            continue
        rows.append(_row(key, status, reason, speaker))
    for key in others:
        checked = bool(post.get(f"nv-{key}"))
        speaker = bool(post.get(f"speaker-{key}"))
        typed[key] = {
            "status": AttendanceStatus.ATTENDING_NONVOTING if checked else "",
            "reason": "",
            "speaker": speaker,
        }
        if checked:
            rows.append(_row(key, AttendanceStatus.ATTENDING_NONVOTING, "", speaker))
    for line in post.get("guests", "").splitlines():
        name = line.strip()
        if name:
            rows.append(AttendanceInput(name=name[:50], status=AttendanceStatus.ATTENDING_NONVOTING))
    return rows, typed


def _row(key: str, status: str, reason: str, speaker: bool) -> AttendanceInput:
    ident = {"member_id": int(key[1:])} if key.startswith("m") else {"position_id": int(key[1:])}
    return AttendanceInput(**ident, status=status, reason=reason, is_speaker=speaker)


def parse_resolutions(post: Any) -> tuple[list[ResolutionInput], list[dict[str, Any]], list[str]]:
    """Resolution rows for the service (blank rows skipped), every row as typed, and format errors."""
    count = min(_int_or_none(post.get("res-count")) or 0, 50)
    rows: list[ResolutionInput] = []
    typed: list[dict[str, Any]] = []
    errors: list[str] = []
    for i in range(count):
        raw = {key: post.get(f"res-{i}-{key}", "") for key in ResolutionInput.FIELDS}
        raw["action_required"] = bool(post.get(f"res-{i}-action_required"))
        typed.append(raw)
        if not raw["title"].strip():
            continue
        row: dict[str, Any] = {
            "title": raw["title"],
            "kind": raw["kind"] or ResolutionKind.GENERAL,
            "voting_method": raw["voting_method"] or VotingMethod.SHOW_OF_HANDS,
            "action_required": raw["action_required"],
            "follow_up_owner_name": raw["follow_up_owner_name"],
            "note": raw["note"],
        }
        for key, _label in ResolutionInput.VOTES:
            value = str(raw[key]).strip()
            if value and not is_number(value):
                errors.append(f"第 {i + 1} 项决议：票数应为非负整数")
            row[key] = int(value) if is_number(value) else 0
        for key in ("id", "subject_member_id", "follow_up_owner_id"):
            row[key] = _int_or_none(raw[key])
        if raw["follow_up_due_on"]:
            try:
                row["follow_up_due_on"] = dt.date.fromisoformat(raw["follow_up_due_on"])
            except ValueError:
                errors.append(f"第 {i + 1} 项决议：落实时限日期格式无效")
        else:
            row["follow_up_due_on"] = None
        rows.append(ResolutionInput(**row))
    return rows, typed, errors


class MeetingFilterForm(forms.Form):
    meeting_type = forms.ChoiceField(label="类型", required=False, choices=[("", "全部类型"), *MeetingType.choices])
    year = forms.IntegerField(label="年度", required=False, min_value=2000, max_value=2100)
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *MeetingStatus.choices])
    page = forms.IntegerField(required=False, min_value=1)


class YearForm(forms.Form):
    year = forms.IntegerField(required=False, min_value=2000, max_value=2100)
    quarter = forms.IntegerField(required=False, min_value=1, max_value=4)

    def clean(self) -> dict[str, Any]:
        return super().clean()


class AttachmentForm(forms.Form):
    file = forms.FileField(label="文件（JPEG、PNG 或 PDF）")
    kind = forms.ChoiceField(label="类别", choices=AttachmentKind.choices, initial=AttachmentKind.PHOTO)


class FollowUpStatusForm(forms.Form):
    status = forms.ChoiceField(label="状态", choices=FollowUpStatus.choices)
    note = forms.CharField(label="进展说明", max_length=300, required=False)


class TalkForm(forms.Form):
    held_on = forms.DateField(label="日期", widget=DATE)
    initiator = forms.TypedChoiceField(label="谈话人", coerce=int)
    counterpart = forms.TypedChoiceField(label="谈话对象", coerce=int)
    topic = forms.CharField(label="谈话主题", max_length=200)
    place = forms.CharField(label="地点", max_length=100, required=False)
    note = forms.CharField(label="谈话要点", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, people: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["initiator"].choices = [("", "请选择"), *people]
        self.fields["counterpart"].choices = [("", "请选择"), *people]


class StudyRecordForm(forms.Form):
    member = forms.TypedChoiceField(label="党员", coerce=int, required=False)
    source = forms.ChoiceField(
        label="来源", choices=[(StudySource.TRAINING, "培训班"), (StudySource.SELF_STUDY, "自学")]
    )
    studied_on = forms.DateField(label="日期", widget=DATE)
    hours = forms.DecimalField(label="学时", min_value=Decimal("0.5"), max_value=Decimal("200"), decimal_places=1)
    title = forms.CharField(label="学习内容", max_length=200)
    organizer = forms.CharField(label="主办单位", max_length=100, required=False)

    def __init__(self, *args: Any, people: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if people is None:
            del self.fields["member"]
            self.fields["source"].choices = [(StudySource.SELF_STUDY, "自学")]
        else:
            self.fields["member"].choices = [("", "请选择"), *people]
            self.fields["member"].required = True


class StudyPointsForm(forms.Form):
    recorded_on = forms.DateField(label="日期", widget=DATE)
    points = forms.IntegerField(label="学习强国积分", min_value=0, max_value=1_000_000)


class ActivitySettingsForm(forms.Form):
    study_points_enabled = forms.BooleanField(
        label="记录学习强国积分（手工登记的数字，不排名、不考核）", required=False
    )
    advisory_summary_enabled = forms.BooleanField(
        label="启用学习情况内部参考汇总（仅书记和上级可见，只显示各区间人数，不排名）", required=False
    )


class AppraisalForm(forms.Form):
    """Built per roster: one grade field per member (正式党员) or a note for 预备党员."""

    def __init__(self, *args: Any, members: list[tuple[Any, bool]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = []
        for member, probationary in members:
            name = f"grade-{member.pk}"
            if probationary:
                self.rows.append((member, None))
                continue
            self.fields[name] = forms.ChoiceField(
                label=member.name, choices=[("", "请选择"), *AppraisalGrade.choices], required=False
            )
            self.rows.append((member, name))

    def bound_rows(self) -> list[tuple[Any, Any]]:
        return [(member, self[name] if name else None) for member, name in self.rows]


class PlanItemRow(forms.Form):
    meeting_type = forms.ChoiceField(label="类型", choices=[("", "—"), *RECORDABLE_TYPES], required=False)
    planned_on = forms.DateField(label="日期", required=False, widget=DATE)
    start_time = forms.TimeField(label="时间", required=False, widget=TIME)
    title = forms.CharField(label="主题", max_length=200, required=False)
    place = forms.CharField(label="地点", max_length=200, required=False)


PlanItemFormSet = forms.formset_factory(PlanItemRow, extra=3, max_num=60, absolute_max=60)


class RuleChangeForm(forms.Form):
    org_type = forms.ChoiceField(label="组织类别", choices=OrgType.choices)
    kind = forms.ChoiceField(label="事项", choices=ComplianceKind.choices)
    period = forms.ChoiceField(label="周期", choices=Period.choices)
    quarter = forms.TypedChoiceField(
        label="限定季度（年度事项）",
        coerce=int,
        required=False,
        empty_value=None,
        choices=[("", "不限"), (1, "第一季度"), (2, "第二季度"), (3, "第三季度"), (4, "第四季度")],
    )
    minimum = forms.IntegerField(label="最低次数（学时事项为学时数）", min_value=1, max_value=1000)
    requires_committee = forms.BooleanField(label="仅限设委员会的组织", required=False)
    is_active = forms.BooleanField(label="启用", required=False, initial=True)
    effective_from = forms.DateField(label="生效日期（不早于今天）", widget=DATE)
    basis = forms.CharField(label="依据", max_length=100, required=False)


class WaiverForm(forms.Form):
    kind = forms.ChoiceField(label="事项", choices=ComplianceKind.choices)
    period_start = forms.DateField(label="周期开始", widget=DATE)
    reason = forms.CharField(label="免于原因", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
