"""The audit log: append-only, hash-chained records of security-relevant events.

A top-level app because auditing cuts across every domain app (organizations, members,
activities, assessments) and belongs to none of them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.access import ScopedQuerySet


class AuditEvent(models.Model):
    """One event. Rows are only ever inserted; ``row_hash`` chains each row to the previous one."""

    scope_org_field = "organization"

    created_at = models.DateTimeField("时间", db_index=True)
    # No database constraint and no cascade: deleting a user or an organization never rewrites
    # audit rows (they are append-only; the username is kept in its own column).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    username = models.CharField("用户名", max_length=150, blank=True)
    roles = models.CharField("角色", max_length=200, blank=True)
    ip_address = models.GenericIPAddressField("来源地址", null=True, blank=True)
    request_id = models.CharField("请求编号", max_length=64, blank=True)
    event = models.CharField("事件", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.CharField("结果", max_length=16, default="success")
    detail = models.JSONField("详情", default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    row_hash = models.CharField(max_length=64, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "审计事件"
        verbose_name_plural = "审计事件"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.username} {self.event}"


class AuditChainHead(models.Model):
    """The chain head: one row (pk 1), the id and hash of the newest event.

    ``audit_log`` locks this row (``SELECT … FOR UPDATE``) in the writer's transaction before it
    links a new event: a second writer waits and then reads the head the first one committed, so
    the chain stays linear under any concurrency (#17.1). The lock is held until commit.
    """

    last_id = models.BigIntegerField(null=True, blank=True)
    last_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "审计链头"
        verbose_name_plural = "审计链头"

    def __str__(self) -> str:
        return f"{self.last_id}:{self.last_hash[:12]}"
