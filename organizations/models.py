"""The organization tree, committee terms (届) and role assignments."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from core.access import Grant, ScopedQuerySet
from core.roles import Role
from organizations.choices import BRANCH_TYPES, OrgType, PositionCode, TermKind, UnitRelation


class OrganizationQuerySet(MP_NodeQuerySet, ScopedQuerySet):
    def subtree_of(self, org: Organization) -> OrganizationQuerySet:
        """The organization and all its descendants: one indexed prefix query."""
        return self.filter(path__startswith=org.path)

    def children_of(self, org: Organization) -> OrganizationQuerySet:
        return self.filter(path__startswith=org.path, depth=org.depth + 1)

    def ancestors_of(self, org: Organization) -> OrganizationQuerySet:
        step = Organization.steplen
        return self.filter(path__in=[org.path[: step * i] for i in range(1, org.depth)])

    def parent_of(self, org: Organization) -> Organization | None:
        return self.filter(path=org.parent_path).first() if org.depth > 1 else None


class OrganizationManager(MP_NodeManager.from_queryset(OrganizationQuerySet)):
    def get_queryset(self) -> OrganizationQuerySet:
        return OrganizationQuerySet(self.model, using=self._db).order_by("path")


class Organization(MP_Node):
    """A party organization. Subtree/ancestor queries use the materialized ``path``."""

    scope_org_field = ""

    steplen = 4
    name = models.CharField("组织全称", max_length=200, help_text="与印章一致的全称")
    short_name = models.CharField("简称", max_length=60, blank=True)
    code = models.CharField("组织代码", max_length=40, unique=True)
    org_type = models.CharField("组织类别", max_length=20, choices=OrgType.choices)
    unit_name = models.CharField("所在单位", max_length=200, blank=True)
    unit_relation = models.CharField(
        "所在单位情况", max_length=20, choices=UnitRelation.choices, default=UnitRelation.SAME_AS_PARENT
    )
    is_village_or_community = models.BooleanField(
        "村/社区党组织", default=False, help_text="村、社区党组织每届任期 5 年"
    )
    established_on = models.DateField("成立日期", null=True, blank=True)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganizationManager()

    class Meta:
        verbose_name = "党组织"
        verbose_name_plural = "党组织"
        indexes = [
            models.Index(fields=["org_type"]),
            models.Index(fields=["name"]),
            # "children of X" is depth = d + 1 AND path LIKE 'X%': with the path index alone, the
            # prefix of the root matches every row (a scan of the whole tree to count 125 children).
            models.Index(
                fields=["depth", "path"], name="org_depth_path", opclasses=["int4_ops", "varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.short_name or self.name

    @property
    def is_branch(self) -> bool:
        return self.org_type in BRANCH_TYPES

    @property
    def can_collect_dues(self) -> bool:
        # 临时党支部 does not collect 党费, admit members or hold 换届 (ZB 学习问答).
        return self.org_type not in {OrgType.TEMPORARY_BRANCH, OrgType.GROUP}

    @property
    def can_hold_elections(self) -> bool:
        return self.org_type not in {OrgType.TEMPORARY_BRANCH, OrgType.GROUP}

    @property
    def parent_path(self) -> str:
        return self.path[: -self.steplen]


class CommitteeTerm(models.Model):
    """One term (届) of an organization's committee or secretary. History is never overwritten:
    a new term closes the previous one by setting ``ended_on``."""

    scope_org_field = "organization"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="terms")
    number = models.PositiveIntegerField("届次")
    kind = models.CharField("产生方式", max_length=20, choices=TermKind.choices, default=TermKind.ELECTED)
    elected_on = models.DateField("选举（任命）日期")
    term_years = models.PositiveSmallIntegerField("任期（年）")
    expires_on = models.DateField("任期届满日期")
    extended_until = models.DateField(
        "经批准延期至", null=True, blank=True, help_text="上级批准延期换届（一般不超过 1 年）"
    )
    ended_on = models.DateField("结束日期", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "委员会届次"
        verbose_name_plural = "委员会届次"
        ordering = ["organization", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="uniq_term_number"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} 第{self.number}届"

    @property
    def is_current(self) -> bool:
        return self.ended_on is None

    @property
    def effective_expiry(self) -> date:
        return self.extended_until or self.expires_on


POSITION_RANK = {code: rank for rank, code in enumerate(PositionCode.values)}  # 书记, 副书记, 组织委员, …


class PositionQuerySet(ScopedQuerySet):
    def in_rank_order(self) -> PositionQuerySet:
        """书记 first, then 副书记, 组织委员, 宣传委员, 纪检委员, 委员, 党小组长 (then by start date)."""
        rank = models.Case(
            *(models.When(position=code, then=models.Value(i)) for code, i in POSITION_RANK.items()),
            default=models.Value(len(POSITION_RANK)),
            output_field=models.IntegerField(),
        )
        return self.alias(position_rank=rank).order_by("term_id", "position_rank", "start_on", "pk")


class Position(models.Model):
    """Who held which committee position, from when to when."""

    scope_org_field = "term__organization"

    term = models.ForeignKey(CommitteeTerm, on_delete=models.CASCADE, related_name="positions")
    position = models.CharField("职务", max_length=20, choices=PositionCode.choices)
    member = models.ForeignKey(
        "members.Member", on_delete=models.SET_NULL, null=True, blank=True, related_name="positions"
    )
    person_name = models.CharField("姓名", max_length=50)
    start_on = models.DateField("任职日期")
    end_on = models.DateField("离任日期", null=True, blank=True)

    objects = PositionQuerySet.as_manager()

    class Meta:
        verbose_name = "委员会职务"
        verbose_name_plural = "委员会职务"
        ordering = ["term", "position", "start_on"]

    def __str__(self) -> str:
        return f"{self.get_position_display()} {self.person_name}"


class RoleAssignment(models.Model):
    """A user's role over an organization; the source of every access decision."""

    scope_org_field = "organization"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roles")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "角色分配"
        verbose_name_plural = "角色分配"
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="uniq_role_assignment"),
            # 三员: at most one sysadmin/secadmin/auditor assignment per user (accounts.services enforces the rest).
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(role__in=[Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR]),
                name="one_admin_role_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organization}"


def role_grants_for(user: Any) -> list[Grant]:
    """The access gate's grant source (registered in ``OrganizationsConfig.ready``): one query."""
    rows = RoleAssignment.objects.filter(user=user).values_list("role", "organization__path", "organization__depth")
    return [Grant(role, path, top_level=depth == 1) for role, path, depth in rows]
