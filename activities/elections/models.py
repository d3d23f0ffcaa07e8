"""换届选举 records: the election, its candidates, its ballot rounds and the count per person.

Registered by ``activities.models`` (app label ``activities``). The 选举大会 itself is an ordinary
``Meeting`` (支部党员大会), linked from ``Election.meeting``, so it counts for the calendar once.
The new committee is never typed: on the upper organization's approval the services build the
``CommitteeTerm`` and its ``Position`` rows from the elected people recorded here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.access import ScopedQuerySet


class ElectionStage(models.TextChoices):
    PREPARING = "preparing", "筹备中"
    REQUEST_PENDING = "request_pending", "请示待批"
    CANDIDATES = "candidates", "酝酿候选人"
    CANDIDATES_PENDING = "candidates_pending", "候选人待批"
    READY = "ready", "待召开选举大会"
    VOTING = "voting", "选举进行中"
    ELECTED = "elected", "已选举"
    REPORT_PENDING = "report_pending", "已选举待批复"
    COMPLETED = "completed", "已完成"


# Stages after the 选举大会 was held (the result exists, maybe not yet approved).
OPEN_STAGES = [s for s in ElectionStage.values if s != ElectionStage.COMPLETED]


class ElectionTiming(models.TextChoices):
    ON_TIME = "on_time", "按期换届"
    EARLY = "early", "提前换届"
    LATE = "late", "延期换届"


class Post(models.TextChoices):
    """What a candidate stands for at the 党员大会: a committee seat (委员), or — where there is no
    committee — 书记/副书记 directly (ZB)."""

    COMMITTEE = "committee", "委员"
    SECRETARY = "secretary", "书记"
    DEPUTY_SECRETARY = "deputy_secretary", "副书记"


class RoundKind(models.TextChoices):
    REGULAR = "regular", "正式选举"
    TIE = "tie", "得票相等再次投票"
    VACANCY = "vacancy", "不足名额另行选举"


class CountResult(models.TextChoices):
    ELECTED = "elected", "当选"
    TIED = "tied", "得票相等，再次投票"
    NOT_ELECTED = "not_elected", "未当选"
    INELIGIBLE = "ineligible", "无被选举权，不计当选"


class Election(models.Model):
    """One 换届选举 of one organization, from opening to the approval of the result."""

    scope_org_field = "organization"

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="elections", verbose_name="党组织"
    )
    old_term = models.ForeignKey(
        "organizations.CommitteeTerm",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="本届",
    )
    stage = models.CharField("阶段", max_length=20, choices=ElectionStage.choices, default=ElectionStage.PREPARING)
    timing = models.CharField("换届时间", max_length=10, choices=ElectionTiming.choices)
    timing_reason = models.CharField("提前/延期理由", max_length=300, blank=True)
    opened_on = models.DateField("启动日期")
    committee_seats = models.PositiveSmallIntegerField("应选委员名额", default=0, help_text="0 表示不设委员会")
    deputy_seat = models.BooleanField("设副书记", default=False)
    # 请示 and 批复 (the upper organization's approval of the 换届, and of its timing).
    request_on = models.DateField("请示报送日期", null=True, blank=True)
    request_no = models.CharField("请示文号", max_length=60, blank=True)
    approval_on = models.DateField("批复日期", null=True, blank=True)
    approval_no = models.CharField("批复文号", max_length=60, blank=True)
    candidates_submitted_on = models.DateField("候选人预备人选报送日期", null=True, blank=True)
    candidates_approved_on = models.DateField("候选人批复日期", null=True, blank=True)
    candidates_approval_no = models.CharField("候选人批复文号", max_length=60, blank=True)
    # The 选举大会 (a 支部党员大会 recorded through the meeting services).
    meeting = models.OneToOneField(
        "activities.Meeting", on_delete=models.PROTECT, null=True, blank=True, related_name="election"
    )
    voters_expected = models.PositiveIntegerField("应到有选举权党员", default=0)
    voters_present = models.PositiveIntegerField("实到有选举权党员", default=0)
    empty_seats = models.JSONField("决定空缺的名额", default=dict, blank=True)  # {post: the meeting's decision}
    # The 支委会's first meeting (书记/副书记), where there is a committee.
    first_meeting_on = models.DateField("第一次支委会日期", null=True, blank=True)
    first_meeting_present = models.PositiveSmallIntegerField("到会委员", null=True, blank=True)
    secretary = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="书记"
    )
    secretary_votes = models.PositiveSmallIntegerField("书记得票", null=True, blank=True)
    deputy = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="副书记"
    )
    deputy_votes = models.PositiveSmallIntegerField("副书记得票", null=True, blank=True)
    duties = models.JSONField("委员分工", default=dict, blank=True)  # {member id: PositionCode}
    # Report to the upper organization, its approval of 书记/副书记 and 备案 of 委员.
    report_on = models.DateField("报告日期", null=True, blank=True)
    result_approved_on = models.DateField("批复日期", null=True, blank=True)
    result_approval_no = models.CharField("批复文号", max_length=60, blank=True)
    new_term = models.OneToOneField(
        "organizations.CommitteeTerm", on_delete=models.PROTECT, null=True, blank=True, related_name="election"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "换届选举"
        verbose_name_plural = "换届选举"
        ordering = ["-opened_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=~models.Q(stage="completed"),
                name="uniq_open_election_per_org",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} 换届选举（{self.opened_on:%Y-%m-%d}）"

    @property
    def has_committee(self) -> bool:
        return self.committee_seats > 0

    def seats_for(self, post: str) -> int:
        if post == Post.COMMITTEE:
            return self.committee_seats
        if post == Post.SECRETARY:
            return 0 if self.has_committee else 1
        return 0 if self.has_committee or not self.deputy_seat else 1

    @property
    def posts(self) -> list[str]:
        return [p for p in Post.values if self.seats_for(p)]


class Candidate(models.Model):
    """One person on the 候选人预备人选 list, for one post."""

    scope_org_field = "election__organization"

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="candidates")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    post = models.CharField("职位", max_length=20, choices=Post.choices, default=Post.COMMITTEE)
    name = models.CharField("姓名", max_length=50)
    order = models.PositiveSmallIntegerField("序号", default=1)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "候选人"
        verbose_name_plural = "候选人"
        ordering = ["election", "post", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["election", "member", "post"], name="uniq_candidate_post")]

    def __str__(self) -> str:
        return f"{self.get_post_display()}候选人 {self.name}"


class BallotRound(models.Model):
    """One vote of the 选举大会 for one post: the ballots issued and returned, void or counted."""

    scope_org_field = "election__organization"

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField("轮次")
    post = models.CharField("职位", max_length=20, choices=Post.choices)
    kind = models.CharField("类别", max_length=20, choices=RoundKind.choices)
    seats = models.PositiveSmallIntegerField("本轮应选")
    ballots_issued = models.PositiveIntegerField("发出选票")
    ballots_returned = models.PositiveIntegerField("收回选票")
    is_void = models.BooleanField("本轮无效", default=False)
    note = models.CharField("说明", max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "投票轮次"
        verbose_name_plural = "投票轮次"
        ordering = ["election", "number"]
        constraints = [models.UniqueConstraint(fields=["election", "number"], name="uniq_round_number")]

    def __str__(self) -> str:
        return f"第 {self.number} 轮（{self.get_post_display()}）"


class BallotCount(models.Model):
    """The count for one person in one round: a listed candidate, or a write-in (另选他人)."""

    scope_org_field = "round__election__organization"

    round = models.ForeignKey(BallotRound, on_delete=models.CASCADE, related_name="counts")
    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, null=True, blank=True, related_name="counts")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    name = models.CharField("姓名", max_length=50)
    is_write_in = models.BooleanField("另选他人", default=False)
    votes_for = models.PositiveIntegerField("赞成")
    votes_against = models.PositiveIntegerField("不赞成", default=0)
    votes_abstain = models.PositiveIntegerField("弃权", default=0)
    result = models.CharField("结果", max_length=20, choices=CountResult.choices)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "计票"
        verbose_name_plural = "计票"
        ordering = ["round", "-votes_for", "pk"]

    def __str__(self) -> str:
        return f"{self.name} {self.votes_for}"
