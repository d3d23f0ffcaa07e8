"""Discipline and status history of a member.

- ``MemberSanction``: a 处分 (警告, 严重警告, 撤销党内职务, 留党察看 ≤ 2 years, 开除党籍) or an
  组织处置 (限期改正 ≤ 1 year, 劝退, 除名), with its date, basis (文号) and deciding organization.
- ``RightsSuspension``: a period during which the member's rights are suspended (留置, 逮捕; XJ §5).
- ``MembershipStatusChange``: one dated change of 党籍状态 made by a status procedure
  (``members.discipline.services``), the only writer of ``Member.membership_status`` besides
  transfers and the development pipeline.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.access import ScopedQuerySet
from members.choices import MembershipStatus


class SanctionKind(models.TextChoices):
    # 处分 (党纪处分, 党章 §40)
    WARNING = "warning", "警告"
    SERIOUS_WARNING = "serious_warning", "严重警告"
    REMOVAL_FROM_POST = "removal_from_post", "撤销党内职务"
    PROBATION = "probation", "留党察看"
    EXPULSION = "expulsion", "开除党籍"
    # 组织处置 (JY §30–31)
    CORRECTION = "correction", "限期改正"
    PERSUADE_WITHDRAW = "persuade_withdraw", "劝退"
    REMOVAL = "removal", "除名"


DISCIPLINARY_KINDS = frozenset(
    {
        SanctionKind.WARNING,
        SanctionKind.SERIOUS_WARNING,
        SanctionKind.REMOVAL_FROM_POST,
        SanctionKind.PROBATION,
        SanctionKind.EXPULSION,
    }
)
# Kinds with a period: the longest period in months (党章 §40: 留党察看 ≤ 2 years; JY §30: 限期改正 ≤ 1 year).
TIMED_KINDS = {SanctionKind.PROBATION: 24, SanctionKind.CORRECTION: 12}
# Kinds that end the membership: the status the procedure sets.
ENDING_KINDS = {SanctionKind.EXPULSION: MembershipStatus.EXPELLED, SanctionKind.REMOVAL: MembershipStatus.REMOVED}


class MemberSanction(models.Model):
    """One 处分 or 组织处置. ``until`` is the last day of a 留党察看 or 限期改正 period."""

    scope_org_field = "member__organization"

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="sanctions")
    kind = models.CharField("处分/处置", max_length=20, choices=SanctionKind.choices)
    decided_on = models.DateField("决定日期")
    until = models.DateField("期满日期", null=True, blank=True, help_text="留党察看、限期改正的期满日期")
    basis = models.CharField("文号", max_length=100, blank=True, help_text="处分或处置决定的文号")
    deciding_organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="决定机关",
    )
    deciding_body = models.CharField("决定机关（系统外）", max_length=100, blank=True)
    note = models.CharField("说明", max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "处分和组织处置"
        verbose_name_plural = "处分和组织处置"
        ordering = ["member", "decided_on", "pk"]
        indexes = [models.Index(fields=["kind", "until"])]

    def __str__(self) -> str:
        return f"{self.member} {self.get_kind_display()} {self.decided_on}"

    @property
    def category(self) -> str:
        return "处分" if self.kind in DISCIPLINARY_KINDS else "组织处置"

    @property
    def deciding_label(self) -> str:
        return str(self.deciding_organization) if self.deciding_organization_id else self.deciding_body


class SuspensionReason(models.TextChoices):
    DETENTION = "detention", "留置"
    ARREST = "arrest", "逮捕"


class RightsSuspension(models.Model):
    """A period during which a member's rights (表决权、选举权、被选举权) are suspended (XJ §5).
    ``end_on`` is the first day the rights are back (empty while the period lasts)."""

    scope_org_field = "member__organization"

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="rights_suspensions")
    reason = models.CharField("原因", max_length=20, choices=SuspensionReason.choices)
    start_on = models.DateField("起始日期")
    end_on = models.DateField("恢复日期", null=True, blank=True)
    basis = models.CharField("依据（文号）", max_length=100, blank=True)
    note = models.CharField("说明", max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "暂停党员权利"
        verbose_name_plural = "暂停党员权利"
        ordering = ["member", "start_on", "pk"]

    def __str__(self) -> str:
        return f"{self.member} {self.get_reason_display()} {self.start_on}–{self.end_on or ''}"


class MembershipStatusChange(models.Model):
    """One dated change of 党籍状态 (停止党籍, 恢复党籍, 除名, 开除党籍, 去世)."""

    scope_org_field = "member__organization"

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField("原党籍状态", max_length=20, choices=MembershipStatus.choices)
    to_status = models.CharField("党籍状态", max_length=20, choices=MembershipStatus.choices)
    on = models.DateField("日期")
    basis = models.CharField("依据（文号）", max_length=100, blank=True)
    reason = models.CharField("原因", max_length=500, blank=True)
    sanction = models.ForeignKey(
        MemberSanction, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="处分决定"
    )
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+", verbose_name="当时所在党组织"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "党籍状态变更"
        verbose_name_plural = "党籍状态变更"
        ordering = ["member", "on", "pk"]
        indexes = [models.Index(fields=["to_status", "on"])]

    def __str__(self) -> str:
        return f"{self.member} {self.get_to_status_display()} {self.on}"
