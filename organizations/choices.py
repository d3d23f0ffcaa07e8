"""Codes from ../shared/domain-rules.md §13; the Chinese label is display text."""

from django.db import models


class OrgType(models.TextChoices):
    COMMITTEE = "committee", "党委"
    GENERAL_BRANCH = "general_branch", "党总支"
    BRANCH = "branch", "党支部"
    JOINT_BRANCH = "joint_branch", "联合党支部"
    TEMPORARY_BRANCH = "temporary_branch", "临时党支部"
    GROUP = "group", "党小组"


BRANCH_TYPES = {OrgType.BRANCH, OrgType.JOINT_BRANCH, OrgType.TEMPORARY_BRANCH}

# Which parent types each organization type may sit under (None = may be a root).
# ZB: a 党小组 is created inside a 支部; a 支部 sits under a 党委 or 党总支; a 总支 under a 党委.
ALLOWED_PARENTS: dict[str, set[str | None]] = {
    OrgType.COMMITTEE: {None, OrgType.COMMITTEE},
    OrgType.GENERAL_BRANCH: {None, OrgType.COMMITTEE},
    OrgType.BRANCH: {None, OrgType.COMMITTEE, OrgType.GENERAL_BRANCH},
    OrgType.JOINT_BRANCH: {None, OrgType.COMMITTEE, OrgType.GENERAL_BRANCH},
    OrgType.TEMPORARY_BRANCH: {None, OrgType.COMMITTEE, OrgType.GENERAL_BRANCH},
    OrgType.GROUP: set(BRANCH_TYPES),
}


class UnitRelation(models.TextChoices):
    SAME_AS_PARENT = "same_as_parent", "与上级党组织相同"
    LEGAL_ENTITY = "legal_entity", "法人单位"
    JOINT = "joint", "联合党支部所在单位"


class TermKind(models.TextChoices):
    ELECTED = "elected", "选举产生"
    APPOINTED = "appointed", "上级指定"


class PositionCode(models.TextChoices):
    SECRETARY = "secretary", "书记"
    DEPUTY_SECRETARY = "deputy_secretary", "副书记"
    ORGANIZATION = "organization", "组织委员"
    PROPAGANDA = "propaganda", "宣传委员"
    DISCIPLINE = "discipline", "纪检委员"
    MEMBER = "member", "委员"
    GROUP_LEADER = "group_leader", "党小组长"


# Positions that make up a committee (支委会/总支委员会/党委), as opposed to a lone 书记.
COMMITTEE_POSITIONS = {
    PositionCode.SECRETARY,
    PositionCode.DEPUTY_SECRETARY,
    PositionCode.ORGANIZATION,
    PositionCode.PROPAGANDA,
    PositionCode.DISCIPLINE,
    PositionCode.MEMBER,
}
