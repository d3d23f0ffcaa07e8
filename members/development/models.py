"""发展党员: the 25 steps in 5 stages (FZ 2014, domain-rules §6) as dated step records.

A person in the pipeline is a ``Member`` row whose ``stage`` runs applicant → activist →
candidate → probationary → full; every step is a ``DevelopmentStep`` row written by
``members.development.services``, which also moves ``Member.stage``/``joined_on``/``full_on``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.access import ScopedQuerySet


class StepCode(models.TextChoices):
    # I 申请
    APPLICATION = "application", "1 递交入党申请书"
    TALK = "talk", "2 派人谈话"
    # II 积极分子
    ACTIVIST = "activist", "3 确定入党积极分子"
    ACTIVIST_FILED = "activist_filed", "4 报上级党委备案"
    CONTACTS = "contacts", "5 指定培养联系人"
    ACTIVIST_REVIEW = "activist_review", "6 培养教育考察"
    # III 发展对象
    CANDIDATE = "candidate", "7 确定发展对象"
    CANDIDATE_FILED = "candidate_filed", "8 报上级党委备案"
    INTRODUCERS = "introducers", "9 确定入党介绍人"
    POLITICAL_REVIEW = "political_review", "10 政治审查"
    TRAINING = "training", "11 短期集中培训"
    # IV 接收预备党员
    COMMITTEE_REVIEW = "committee_review", "12 支委会审查"
    PRE_REVIEW = "pre_review", "13 上级党委预审"
    APPLICATION_FORM = "application_form", "14 填写入党志愿书"
    ADMISSION_VOTE = "admission_vote", "15 支部大会讨论接收"
    APPROVAL_TALK = "approval_talk", "16 上级党委派人谈话"
    ADMISSION_APPROVAL = "admission_approval", "17 上级党委审批"
    ADMISSION_FILED = "admission_filed", "18 再上一级党委组织部门备案"
    # V 预备期与转正
    PLACEMENT = "placement", "19 编入党支部和党小组"
    OATH = "oath", "20 入党宣誓"
    PROBATION_REVIEW = "probation_review", "21 继续教育考察"
    FULL_APPLICATION = "full_application", "22 提出书面转正申请"
    FULL_VOTE = "full_vote", "23 支部大会讨论转正"
    FULL_APPROVAL = "full_approval", "24 上级党委审批转正"
    ARCHIVE = "archive", "25 材料归档"


STEP_NUMBERS: dict[str, int] = {code: index for index, code in enumerate(StepCode.values, start=1)}
STEP_BY_NUMBER: dict[int, str] = {number: code for code, number in STEP_NUMBERS.items()}
STAGE_OF_STEP: dict[str, int] = {
    code: (1 if n <= 2 else 2 if n <= 6 else 3 if n <= 11 else 4 if n <= 18 else 5) for code, n in STEP_NUMBERS.items()
}
STAGE_NAMES = {
    1: "申请入党",
    2: "入党积极分子的确定和培养教育",
    3: "发展对象的确定和考察",
    4: "预备党员的接收",
    5: "预备党员的教育考察和转正",
}


class Decision(models.TextChoices):
    DONE = "done", "已完成"
    APPROVED = "approved", "同意/通过"
    REJECTED = "rejected", "不同意/未通过"


class FullOutcome(models.TextChoices):
    FULL = "full", "按期转为正式党员"
    EXTEND = "extend", "延长预备期"
    CANCEL = "cancel", "取消预备党员资格"


class CurrentStepManager(models.Manager.from_queryset(ScopedQuerySet)):
    def get_queryset(self) -> ScopedQuerySet:
        return super().get_queryset().filter(voided_at__isnull=True)


class DevelopmentStep(models.Model):
    """One dated step of one person's development, with who recorded it and what was decided."""

    scope_org_field = "organization"
    scope_member_field = "member_id"

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="development_steps")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="development_steps"
    )
    step = models.CharField("步骤", max_length=30, choices=StepCode.choices)
    number = models.PositiveSmallIntegerField("步骤序号")
    occurred_on = models.DateField("日期")
    decision = models.CharField("结果", max_length=10, choices=Decision.choices, default=Decision.DONE)
    decided_by = models.CharField("决定/经办", max_length=100, blank=True, help_text="如：支委会、谈话人姓名、党委")
    note = models.TextField("情况说明", blank=True)
    # step 5 (培养联系人) and step 9 (入党介绍人): the 正式党员 named
    people = models.ManyToManyField("members.Member", blank=True, related_name="development_roles")
    # step 11 (短期集中培训)
    training_days = models.DecimalField("培训天数", max_digits=5, decimal_places=1, null=True, blank=True)
    training_hours = models.DecimalField("培训学时", max_digits=6, decimal_places=1, null=True, blank=True)
    # steps 15 and 23 (支部大会): votes of members entitled to vote
    votes_expected = models.PositiveIntegerField("应到会有表决权党员", null=True, blank=True)
    votes_present = models.PositiveIntegerField("实到会有表决权党员", null=True, blank=True)
    votes_for = models.PositiveIntegerField("赞成", null=True, blank=True)
    votes_against = models.PositiveIntegerField("反对", null=True, blank=True)
    votes_abstain = models.PositiveIntegerField("弃权", null=True, blank=True)
    # Steps 15 and 23: the 支部党员大会 as recorded in the activities app (optional; without it the
    # date and vote counts are entered by hand).
    meeting = models.ForeignKey(
        "activities.Meeting",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="development_steps",
        verbose_name="支部党员大会会议记录",
    )
    # step 23 (转正讨论) outcome and the extension it asks for
    outcome = models.CharField("转正结论", max_length=10, choices=FullOutcome.choices, blank=True)
    extension_months = models.PositiveSmallIntegerField("延长预备期（月）", null=True, blank=True)
    warnings = models.JSONField("时限提示", default=list, blank=True)
    attachment = models.FileField("附件", upload_to="development/%Y/%m/", blank=True)
    attachment_name = models.CharField("附件原文件名", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A wrongly recorded step is never deleted or edited: it is voided (who, when, why) and stays on
    # file; the correct step is then recorded again. Voided steps count for nothing.
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    void_reason = models.TextField("作废原因", blank=True)

    # ``objects`` leaves voided steps out, so every reader (pipeline, reminders, reports) sees only
    # the steps in force; ``all_objects`` includes them (the person's page lists them apart).
    objects = CurrentStepManager()
    all_objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "发展党员步骤"
        verbose_name_plural = "发展党员步骤"
        ordering = ["member", "occurred_on", "number", "pk"]
        indexes = [
            models.Index(fields=["member", "step"]),
            models.Index(fields=["organization", "step", "occurred_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.get_step_display()} {self.occurred_on}"

    @property
    def stage_number(self) -> int:
        return STAGE_OF_STEP[self.step]
