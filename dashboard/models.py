"""Summary tables behind the dashboards.

One table of facts keyed by (organization, cumulative, period, metric, dimension):

- ``cumulative=False`` rows hold an organization's **own** data (its own members, meetings, dues);
- ``cumulative=True`` rows hold the total over the organization's **whole subtree** (itself and
  every descendant), kept equal to the sum of the own rows below it.

A dashboard reads the cumulative rows of one organization and of one page of its children, so
its cost does not grow with the number of members, meetings or descendants. Rows are grouped in
``family`` (members, flags, life, dues …): a family is recomputed for one organization at a time
when its source rows change (``dashboard.facts.facts_refresh``) and rebuilt for the
whole tree by a nightly Celery job (``facts_rebuild``).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone

from core.access import ScopedQuerySet


class DashboardFact(models.Model):
    scope_org_field = "organization"

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    cumulative = models.BooleanField("含全部下级", default=False)
    family = models.CharField("类别", max_length=12)
    period = models.CharField("期间", max_length=10, help_text="now（当前）、YYYY（年）或 YYYY-MM（月）")
    metric = models.CharField("指标", max_length=30)
    dimension = models.CharField("维度", max_length=40, blank=True, default="")
    value = models.BigIntegerField("数值", default=0)
    amount = models.DecimalField("金额", max_digits=16, decimal_places=2, default=Decimal("0.00"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "统计汇总"
        verbose_name_plural = "统计汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "cumulative", "period", "metric", "dimension"], name="uniq_dashboard_fact"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "cumulative", "family"], name="fact_org_family"),
            models.Index(fields=["metric", "dimension", "cumulative"], name="fact_metric_dim"),
        ]

    def __str__(self) -> str:
        scope = "全部" if self.cumulative else "本级"
        return f"{self.organization_id} {scope} {self.period} {self.metric}:{self.dimension}={self.value}"


class DashboardBuild(models.Model):
    """One full rebuild of the summary tables, or a request for one.

    A row with ``started_at`` empty is a request (a migration that changes what facts mean, a tree
    move, facts never built); ``dashboard.builds.facts_state`` reads these rows to tell whether the
    figures are complete. ``version`` is ``dashboard.builds.FACTS_VERSION`` of the code that built them.
    """

    requested_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=20, default="nightly")
    version = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    families = models.CharField(max_length=200, blank=True, default="")
    rows = models.PositiveIntegerField(default=0)
    steps_total = models.PositiveIntegerField(default=0)
    steps_done = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "汇总重建记录"
        verbose_name_plural = "汇总重建记录"
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.requested_at:%Y-%m-%d %H:%M} {self.reason} {self.families} {self.rows}"


class DashboardDirty(models.Model):
    """Outbox of the summary tables: (organization, family) whose facts must be recomputed.

    Written in the transaction of the change that makes them stale (so no change can commit
    without its mark), removed by ``dashboard.outbox.outbox_drain`` in the transaction that
    recomputes them. No foreign key: inserting a mark must not wait on a refresh that holds the
    organization's row lock.
    """

    organization_id = models.BigIntegerField()
    family = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "待刷新统计"
        verbose_name_plural = "待刷新统计"
        indexes = [
            models.Index(fields=["created_at"], name="dirty_created"),
            models.Index(fields=["family", "organization_id"], name="dirty_family_org"),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.family} {self.created_at:%Y-%m-%d %H:%M:%S}"
