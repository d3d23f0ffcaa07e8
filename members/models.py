"""Member records. The foundation keeps the minimal record that roles, rosters and demo data need."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from members.choices import DuesCategory, MembershipStatus, Sex, Stage
from organizations.access import ScopedQuerySet


class MemberQuerySet(ScopedQuerySet):
    def party_members(self) -> MemberQuerySet:
        """预备党员 and 正式党员 in normal standing."""
        return self.filter(stage__in=[Stage.PROBATIONARY, Stage.FULL], membership_status=MembershipStatus.NORMAL)

    def full_members(self) -> MemberQuerySet:
        """正式党员 in normal standing: the ones who count for thresholds and votes."""
        return self.filter(stage=Stage.FULL, membership_status=MembershipStatus.NORMAL)


class Member(models.Model):
    scope_org_field = "organization"
    scope_member_field = "pk"

    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=10, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="members", verbose_name="所在党组织"
    )
    stage = models.CharField("发展阶段", max_length=20, choices=Stage.choices, default=Stage.FULL)
    membership_status = models.CharField(
        "党籍状态", max_length=20, choices=MembershipStatus.choices, default=MembershipStatus.NORMAL
    )
    joined_on = models.DateField("加入党组织日期", null=True, blank=True)
    full_on = models.DateField("转为正式党员日期", null=True, blank=True)
    dues_category = models.CharField(
        "党费类别", max_length=20, choices=DuesCategory.choices, default=DuesCategory.EMPLOYED
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="member",
        verbose_name="登录账号",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = "党员"
        verbose_name_plural = "党员"
        ordering = ["organization", "name", "pk"]
        indexes = [models.Index(fields=["organization", "stage", "membership_status"])]

    def __str__(self) -> str:
        return self.name


class OrganizationMembership(models.Model):
    """Which organization a member belonged to, from when to when (the roster history).

    ``Member.organization`` is the current one; these rows answer "who was in branch X on date D"
    (meeting rosters, dues, reports). Exactly one open row (``end_on`` null) per member.
    """

    scope_org_field = "organization"
    scope_member_field = "member_id"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="memberships"
    )
    start_on = models.DateField("转入日期")
    end_on = models.DateField("转出日期", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "组织关系记录"
        verbose_name_plural = "组织关系记录"
        ordering = ["member", "start_on"]
        indexes = [models.Index(fields=["organization", "start_on", "end_on"])]
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=models.Q(end_on__isnull=True), name="one_open_membership_per_member"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} @ {self.organization} {self.start_on}–{self.end_on or ''}"
