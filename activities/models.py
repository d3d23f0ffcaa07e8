"""Organizational life: meetings recorded once, and everything that reads them.

A meeting is entered once (header, attendance, resolutions, attachments). Saving it through
``activities.services.meetings.meeting_save`` stores the computed 应到/实到 and quorum on the row and
rewrites two derived tables so later readers never recompute:

- ``MeetingCredit``: one row per (meeting, type it counts as), for the compliance calendar;
- ``StudyRecord`` rows with ``source=meeting`` for attendees of study meetings (学时).

Every model with organization data uses ``ScopedQuerySet`` and names its organization path.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from activities.choices import (
    AppraisalGrade,
    AttachmentKind,
    AttendanceStatus,
    ComplianceKind,
    FollowUpStatus,
    MeetingStatus,
    MeetingType,
    Period,
    PlanStatus,
    QuorumState,
    ResolutionKind,
    ResolutionOutcome,
    StudySource,
    VotingMethod,
)
from core.access import ScopedQuerySet
from core.versioning import version_field
from organizations.choices import OrgType


class MeetingQuerySet(ScopedQuerySet):
    def final(self) -> MeetingQuerySet:
        return self.filter(status=MeetingStatus.FINAL)

    def in_year(self, year: int) -> MeetingQuerySet:
        return self.filter(held_on__year=year)


class Meeting(models.Model):
    """One meeting or activity of any type in §13, with its computed head counts."""

    row_version = version_field()  # #17.3: edits name the version they started from
    scope_org_field = "organization"

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="meetings", verbose_name="党组织"
    )
    meeting_type = models.CharField("类型", max_length=20, choices=MeetingType.choices)
    also_counts_as = models.JSONField(
        "同时计为", default=list, blank=True, help_text="例如主题党日同时作为本季度党员大会或党课，不必重复录入"
    )
    title = models.CharField("主题/议题", max_length=200, blank=True)
    held_on = models.DateField("日期")
    start_time = models.TimeField("开始时间", null=True, blank=True)
    end_time = models.TimeField("结束时间", null=True, blank=True)
    place = models.CharField("地点", max_length=200, blank=True)
    chair = models.ForeignKey(
        "members.Member", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="主持人"
    )
    chair_name = models.CharField("主持人", max_length=50, blank=True)
    recorder = models.ForeignKey(
        "members.Member", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="记录人"
    )
    recorder_name = models.CharField("记录人", max_length=50, blank=True)
    lecturer = models.ForeignKey(
        "members.Member", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="授课人"
    )
    lecturer_name = models.CharField("授课人", max_length=50, blank=True)
    agenda = models.TextField("议程", blank=True)
    minutes = models.TextField("会议记录（发言要点）", blank=True)
    # Committee study (党委会/党组会 第一议题; 理论学习中心组).
    first_topic = models.CharField("第一议题", max_length=200, blank=True)
    first_topic_material = models.TextField("第一议题学习材料", blank=True)
    is_center_group = models.BooleanField("理论学习中心组学习", default=False)
    study_hours = models.DecimalField(
        "计入学时", max_digits=4, decimal_places=1, null=True, blank=True, help_text="留空按开始、结束时间计算"
    )
    status = models.CharField("状态", max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.DRAFT)
    finalized_at = models.DateTimeField("完成录入时间", null=True, blank=True)
    # Computed on save (never typed): 应到/实到 and the quorum of §3.
    expected_count = models.PositiveIntegerField("应到", default=0)
    present_count = models.PositiveIntegerField("实到", default=0)
    leave_count = models.PositiveIntegerField("请假", default=0)
    absent_count = models.PositiveIntegerField("缺席", default=0)
    nonvoting_count = models.PositiveIntegerField("列席", default=0)
    voters_expected = models.PositiveIntegerField("应到有表决权", default=0)
    voters_present = models.PositiveIntegerField("实到有表决权", default=0)
    quorum = models.CharField(
        "法定人数", max_length=20, choices=QuorumState.choices, default=QuorumState.NOT_APPLICABLE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = "会议/活动"
        verbose_name_plural = "会议/活动"
        ordering = ["-held_on", "-start_time", "-pk"]
        indexes = [
            models.Index(fields=["organization", "meeting_type", "held_on"], name="meeting_org_type_date"),
            models.Index(fields=["organization", "held_on"], name="meeting_org_date"),
            models.Index(fields=["held_on", "status"], name="meeting_date_status"),
        ]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} {self.get_meeting_type_display()} {self.title}".strip()

    @property
    def acting_types(self) -> set[str]:
        return {self.meeting_type, *self.also_counts_as}

    @property
    def acts_as_general_assembly(self) -> bool:
        return MeetingType.GENERAL_ASSEMBLY in self.acting_types

    @property
    def is_final(self) -> bool:
        return self.status == MeetingStatus.FINAL

    @property
    def quorum_not_met(self) -> bool:
        return self.quorum == QuorumState.NOT_MET

    @property
    def credited_types(self) -> set[str]:
        """The kinds this meeting counts as in the compliance calendar. A 支委会 with half or fewer
        of the committee present may not proceed (ZB §12: 须有半数以上委员到会方可进行): its record
        is kept and marked, but it is not that period's 支委会. (A 党员大会 without quorum still
        counts as held: there quorum governs the vote.)"""
        kinds = set(self.acting_types)
        if self.meeting_type == MeetingType.COMMITTEE and self.quorum_not_met:
            kinds.discard(MeetingType.COMMITTEE)
        return kinds

    @property
    def committee_not_counted(self) -> bool:
        return self.meeting_type == MeetingType.COMMITTEE and self.quorum_not_met

    def also_counts_as_labels(self) -> list[str]:
        return [MeetingType(code).label for code in self.also_counts_as if code in MeetingType.values]

    @property
    def type_label(self) -> str:
        """支委会 of a 党委/党总支 is called 党委会/总支委员会."""
        if self.meeting_type == MeetingType.COMMITTEE:
            org_type = getattr(self.organization, "org_type", None)
            if org_type == OrgType.COMMITTEE:
                return "党委会"
            if org_type == OrgType.GENERAL_BRANCH:
                return "总支委员会"
        return self.get_meeting_type_display()


class Attendance(models.Model):
    """One person at one meeting: a roster member (``member``), or a guest by name."""

    scope_org_field = "meeting__organization"
    scope_member_field = "member_id"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="attendance"
    )
    # A committee member whose position is not linked to a member record is identified by it.
    position = models.ForeignKey(
        "organizations.Position", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField("姓名", max_length=50)
    status = models.CharField("出席情况", max_length=20, choices=AttendanceStatus.choices)
    reason = models.CharField("原因", max_length=200, blank=True)
    # Snapshots taken on save, so later changes to the member do not rewrite history.
    is_expected = models.BooleanField("应到", default=False)
    is_voter = models.BooleanField("有表决权", default=False)
    is_guest = models.BooleanField("来宾", default=False)
    is_speaker = models.BooleanField("发言", default=False)
    speech_topic = models.CharField("发言题目", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "出席记录"
        verbose_name_plural = "出席记录"
        ordering = ["meeting", "-is_expected", "is_guest", "pk"]
        indexes = [models.Index(fields=["member", "meeting"], name="attendance_member_meeting")]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "member"], condition=models.Q(member__isnull=False), name="uniq_attendance_member"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.get_status_display()}"


class Resolution(models.Model):
    """A decision or vote taken at a meeting, with its computed outcome."""

    scope_org_field = "meeting__organization"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="resolutions")
    order = models.PositiveSmallIntegerField("序号", default=1)
    title = models.CharField("决议事项", max_length=300)
    kind = models.CharField("类别", max_length=20, choices=ResolutionKind.choices, default=ResolutionKind.GENERAL)
    voting_method = models.CharField(
        "表决方式", max_length=20, choices=VotingMethod.choices, default=VotingMethod.SHOW_OF_HANDS
    )
    votes_for = models.PositiveIntegerField("赞成", default=0)
    votes_against = models.PositiveIntegerField("反对", default=0)
    votes_abstain = models.PositiveIntegerField("弃权", default=0)
    # Written opinions submitted before the meeting by absent voters (FZ; admission/转正 only).
    written_for = models.PositiveIntegerField("书面赞成", default=0)
    written_against = models.PositiveIntegerField("书面反对", default=0)
    written_abstain = models.PositiveIntegerField("书面弃权", default=0)
    outcome = models.CharField("结果", max_length=20, choices=ResolutionOutcome.choices)
    # Admission / 转正 votes are about one member; the members app links the development step.
    subject_member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resolutions",
        verbose_name="涉及党员",
    )
    step_content_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    step_object_id = models.PositiveBigIntegerField(null=True, blank=True)
    development_step = GenericForeignKey("step_content_type", "step_object_id")
    action_required = models.BooleanField("需要落实", default=False)
    note = models.CharField("备注", max_length=300, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "决议"
        verbose_name_plural = "决议"
        ordering = ["meeting", "order", "pk"]
        indexes = [models.Index(fields=["subject_member", "kind"], name="resolution_subject_kind")]

    def __str__(self) -> str:
        return self.title

    @property
    def total_votes(self) -> int:
        return self.votes_for + self.votes_against + self.votes_abstain

    @property
    def total_written(self) -> int:
        return self.written_for + self.written_against + self.written_abstain


class FollowUp(models.Model):
    """An action a resolution requires: owner, due date, status. Shown at the next meetings of
    the same body until closed."""

    scope_org_field = "organization"

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, null=True, blank=True, related_name="follow_ups")
    resolution = models.OneToOneField(
        Resolution, on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_up"
    )
    body_type = models.CharField("会议类别", max_length=20, choices=MeetingType.choices)
    title = models.CharField("落实事项", max_length=300)
    owner = models.ForeignKey("members.Member", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    owner_name = models.CharField("责任人", max_length=50, blank=True)
    due_on = models.DateField("完成时限", null=True, blank=True)
    status = models.CharField("状态", max_length=20, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN)
    opened_on = models.DateField("提出日期")
    closed_on = models.DateField("办结日期", null=True, blank=True)
    note = models.CharField("进展说明", max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "决议落实事项"
        verbose_name_plural = "决议落实事项"
        ordering = ["status", "due_on", "pk"]
        indexes = [models.Index(fields=["organization", "status", "due_on"], name="followup_org_status")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in (FollowUpStatus.OPEN, FollowUpStatus.IN_PROGRESS)


class MeetingCredit(models.Model):
    """Derived: one row per type a finished meeting counts as (its own, plus ``also_counts_as``).

    The compliance calendar counts these; rewritten by ``meeting_save``, never edited by hand.
    ``recorded_on`` is the date the record was finished (a record finished after the deadline
    makes the item ``late``).
    """

    scope_org_field = "organization"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="credits")
    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=MeetingType.choices)
    held_on = models.DateField()
    recorded_on = models.DateField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "会议计数"
        verbose_name_plural = "会议计数"
        indexes = [models.Index(fields=["organization", "kind", "held_on"], name="credit_org_kind_date")]
        constraints = [models.UniqueConstraint(fields=["meeting", "kind"], name="uniq_credit_meeting_kind")]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.kind} {self.held_on}"


class AppraisalEntry(models.Model):
    """民主评议党员: one member's result at an appraisal meeting. 预备党员 take part, ungraded."""

    scope_org_field = "meeting__organization"
    scope_member_field = "member_id"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="appraisal_entries")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="appraisals")
    grade = models.CharField("评定等次", max_length=30, choices=AppraisalGrade.choices, blank=True)
    is_probationary = models.BooleanField("预备党员（参加不评定等次）", default=False)
    comment = models.CharField("评定意见", max_length=300, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "民主评议结果"
        verbose_name_plural = "民主评议结果"
        ordering = ["meeting", "pk"]
        constraints = [models.UniqueConstraint(fields=["meeting", "member"], name="uniq_appraisal_member")]

    def __str__(self) -> str:
        return f"{self.member} {self.get_grade_display() or '预备党员'}"


class Talk(models.Model):
    """谈心谈话: who talked with whom, when, about what."""

    scope_org_field = "organization"

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="talks")
    held_on = models.DateField("日期")
    initiator = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="talks_initiated")
    counterpart = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="talks_received")
    topic = models.CharField("谈话主题", max_length=200)
    place = models.CharField("地点", max_length=100, blank=True)
    note = models.TextField("谈话要点", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "谈心谈话"
        verbose_name_plural = "谈心谈话"
        ordering = ["-held_on", "-pk"]
        indexes = [models.Index(fields=["organization", "held_on"], name="talk_org_date")]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} {self.initiator} ↔ {self.counterpart}"


class StudyRecord(models.Model):
    """学时 earned by one member: from a meeting attended, a training class, or self-study."""

    scope_org_field = "organization"
    scope_member_field = "member_id"

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="study_records")
    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    source = models.CharField("来源", max_length=20, choices=StudySource.choices)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    studied_on = models.DateField("日期")
    hours = models.DecimalField("学时", max_digits=5, decimal_places=1)
    title = models.CharField("内容", max_length=200)
    organizer = models.CharField("主办单位", max_length=100, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "学习记录"
        verbose_name_plural = "学习记录"
        ordering = ["-studied_on", "-pk"]
        indexes = [
            models.Index(fields=["member", "studied_on"], name="study_member_date"),
            models.Index(fields=["organization", "studied_on"], name="study_org_date"),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.studied_on} {self.hours}学时"


class StudyPoints(models.Model):
    """学习强国 points: a dated number entered by hand. Never ranked, never evaluated (§10)."""

    scope_org_field = "organization"
    scope_member_field = "member_id"

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="study_points")
    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    recorded_on = models.DateField("日期")
    points = models.PositiveIntegerField("积分")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "学习强国积分"
        verbose_name_plural = "学习强国积分"
        ordering = ["-recorded_on", "-pk"]
        constraints = [models.UniqueConstraint(fields=["member", "recorded_on"], name="uniq_points_member_date")]

    def __str__(self) -> str:
        return f"{self.member} {self.recorded_on} {self.points}"


class ActivitySettings(models.Model):
    """Per-organization switches. Both default off (减负: no rankings, no compulsory scores)."""

    scope_org_field = "organization"

    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.CASCADE, related_name="activity_settings"
    )
    study_points_enabled = models.BooleanField("记录学习强国积分", default=False)
    advisory_summary_enabled = models.BooleanField(
        "启用学习情况内部参考汇总", default=False, help_text="仅书记和上级可见的分段人数汇总，不排名"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "组织生活设置"
        verbose_name_plural = "组织生活设置"

    def __str__(self) -> str:
        return f"{self.organization} 组织生活设置"


class ComplianceRule(models.Model):
    """One version of one rule of the compliance calendar (defaults from §14).

    ``organization`` null = the system default; otherwise an override for that organization's
    subtree, made by its ``org_admin``. A change never edits a row: it closes the current version
    (``effective_until``) and adds a new one, so periods that started earlier keep their rule.
    A period is judged by the version in force on the period's first day.
    """

    scope_org_field = "organization"

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="compliance_rules",
        verbose_name="适用范围（空为系统默认）",
    )
    org_type = models.CharField("组织类别", max_length=20, choices=OrgType.choices)
    kind = models.CharField("事项", max_length=30, choices=ComplianceKind.choices)
    period = models.CharField("周期", max_length=10, choices=Period.choices)
    quarter = models.PositiveSmallIntegerField("限定季度", null=True, blank=True, help_text="年度事项限在某季度完成")
    minimum = models.PositiveIntegerField("最低次数/学时", default=1)
    requires_committee = models.BooleanField("仅限设委员会的组织", default=False)
    is_active = models.BooleanField("启用", default=True)
    basis = models.CharField("依据", max_length=100, blank=True)
    effective_from = models.DateField("生效日期")
    effective_until = models.DateField("失效日期", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "合规规则"
        verbose_name_plural = "合规规则"
        ordering = ["org_type", "kind", "effective_from"]
        indexes = [models.Index(fields=["org_type", "kind"], name="rule_type_kind")]

    def __str__(self) -> str:
        return f"{self.get_org_type_display()} {self.get_kind_display()} {self.get_period_display()}≥{self.minimum}"


class ComplianceWaiver(models.Model):
    """An approved exemption from one due item (reason and approver required)."""

    scope_org_field = "organization"

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField("事项", max_length=30, choices=ComplianceKind.choices)
    period_start = models.DateField("周期开始")
    reason = models.CharField("原因", max_length=300)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "免于事项"
        verbose_name_plural = "免于事项"
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "period_start"], name="uniq_waiver_item"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.get_kind_display()} {self.period_start}"


class Plan(models.Model):
    """A branch's quarterly plan (计划报备): the meetings it intends to hold."""

    scope_org_field = "organization"

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="plans")
    year = models.PositiveSmallIntegerField("年度")
    quarter = models.PositiveSmallIntegerField("季度")
    status = models.CharField("状态", max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    note = models.TextField("说明", blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "季度计划"
        verbose_name_plural = "季度计划"
        ordering = ["-year", "-quarter"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year", "quarter"], name="uniq_plan_quarter"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.year}年第{self.quarter}季度计划"


class PlanItem(models.Model):
    scope_org_field = "plan__organization"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="items")
    meeting_type = models.CharField("类型", max_length=20, choices=MeetingType.choices)
    planned_on = models.DateField("计划日期")
    start_time = models.TimeField("时间", null=True, blank=True)
    title = models.CharField("主题", max_length=200, blank=True)
    place = models.CharField("地点", max_length=200, blank=True)
    meeting = models.ForeignKey(Meeting, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "计划事项"
        verbose_name_plural = "计划事项"
        ordering = ["planned_on", "start_time", "pk"]
        indexes = [models.Index(fields=["planned_on"], name="planitem_date")]

    def __str__(self) -> str:
        return f"{self.planned_on} {self.get_meeting_type_display()} {self.title}"


class CalendarFeed(models.Model):
    """A personal iCalendar feed. Only the SHA-256 of the secret token is stored; revoking sets
    ``revoked_at`` and the URL then answers 404."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "日历订阅"
        verbose_name_plural = "日历订阅"

    def __str__(self) -> str:
        return f"{self.user} 日历订阅"


class Attachment(models.Model):
    """A file on a meeting: JPEG/PNG (re-encoded) or PDF, checked by content, stored under a random
    name in MEDIA_ROOT, served only by an access-checked view."""

    scope_org_field = "organization"

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField("类别", max_length=20, choices=AttachmentKind.choices, default=AttachmentKind.OTHER)
    original_name = models.CharField("文件名", max_length=200)
    stored_name = models.CharField(max_length=100, unique=True)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        ordering = ["meeting", "pk"]

    def __str__(self) -> str:
        return self.original_name


ZERO_HOURS = Decimal("0.0")


# 换届选举 is a sub-package (activities/elections/); Django registers its models through this import
# alone (code imports them from activities.elections.models).
from activities.elections import models as _election_models  # noqa: E402, F401
