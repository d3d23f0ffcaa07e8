"""The roles a user can hold in an organization: the vocabulary of the access gate."""

from django.db import models


class Role(models.TextChoices):
    ORG_ADMIN = "org_admin", "组织部门/党委工作人员"
    SECRETARY = "secretary", "书记/支委"
    MEMBER = "member", "党员"
    AUDITOR = "auditor", "审计员"
    SYSADMIN = "sysadmin", "系统管理员"
    SECADMIN = "secadmin", "安全管理员"


# 三员 (separation of duties): a user holds at most one of these, and no other role with it.
ADMIN_ROLES = {Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR}
