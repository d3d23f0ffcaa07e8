"""Star-rating schemes and ratings, 述职评议, quarterly inspection reports and rectification items.

Every model with organization data uses ``ScopedQuerySet`` and names its path to the organization
(``scope_org_field``), so pages, endpoints and tasks read through the access gate.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from assessments.choices import (
    AppraisalGrade,
    BatchStatus,
    DutyReportStatus,
    IndicatorKind,
    MappingType,
    RatingAction,
    RatingStatus,
    RectificationSource,
    RectificationStatus,
    ReportKind,
    ReportStatus,
    RoundStatus,
    SchemeStatus,
    ScoringMethod,
    StarChange,
)
from core.access import CHANGE, VIEW, ScopedQuerySet, get_scope
from core.versioning import version_field
from organizations.choices import OrgType
from organizations.models import Organization


def _ancestor_paths(paths: list[str]) -> set[str]:
    step = Organization.steplen
    out: set[str] = set()
    for path in paths:
        out.update(path[:i] for i in range(step, len(path) + 1, step))
    return out


def member_ancestor_paths(scope: Any) -> set[str]:
    """For a party member's scope: the paths of their own organization and every one above it."""
    return _ancestor_paths(scope.own_org_paths())


class SchemeQuerySet(ScopedQuerySet):
    """Schemes are read by the organizations rated under them: VIEW also reaches the schemes
    issued by any ancestor of the user's organizations (read-only; CHANGE stays in the subtree)."""

    def visible_to(self, user: Any, action: str = VIEW) -> ScopedQuerySet:
        own = super().visible_to(user, action)
        if action == CHANGE:
            return own
        scope = get_scope(user)
        paths = scope.reading_paths()
        ancestors = _ancestor_paths(paths)
        if not ancestors:
            return own
        return self.filter(Q(pk__in=own.values("pk")) | Q(organization__path__in=ancestors))


class AssessmentScheme(models.Model):
    """A versioned star-rating scheme (星级评定方案) for one year and one organization type."""

    row_version = version_field()  # #17.3: edits name the version they started from
    scope_org_field = "organization"

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="assessment_schemes",
        verbose_name="制定组织",
    )
    name = models.CharField("方案名称", max_length=120)
    year = models.PositiveSmallIntegerField("适用年度")
    org_type = models.CharField("适用组织类别", max_length=20)
    version = models.PositiveSmallIntegerField("版本", default=1)
    status = models.CharField("状态", max_length=10, choices=SchemeStatus.choices, default=SchemeStatus.DRAFT)
    total_points = models.DecimalField("满分", max_digits=6, decimal_places=2)
    is_example = models.BooleanField("示例方案", default=False, help_text="系统预置的示例，组织部门应按本地实际修改")
    description = models.TextField("说明", blank=True)
    publicity_days = models.PositiveSmallIntegerField("公示天数", default=5)
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="基于版本"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SchemeQuerySet.as_manager()

    class Meta:
        verbose_name = "星级评定方案"
        verbose_name_plural = "星级评定方案"
        ordering = ["-year", "org_type", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year", "org_type", "version"], name="uniq_scheme_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.year} 第{self.version}版）"

    @property
    def org_type_label(self) -> str:
        return OrgType(self.org_type).label if self.org_type in OrgType.values else self.org_type


class SchemeSection(models.Model):
    scope_org_field = "scheme__organization"

    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="sections")
    code = models.CharField("编号", max_length=30)
    name = models.CharField("名称", max_length=80)
    max_points = models.DecimalField("分值", max_digits=6, decimal_places=2)
    order = models.PositiveSmallIntegerField("顺序", default=0)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "方案板块"
        verbose_name_plural = "方案板块"
        ordering = ["scheme", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="uniq_section_code")]

    def __str__(self) -> str:
        return self.name


class SchemeIndicator(models.Model):
    """One indicator. ``kind`` says how it counts (score, bonus, deduction, veto) and ``method``
    how it is scored (computed from a metric code with a mapping to points, or by hand)."""

    scope_org_field = "section__scheme__organization"

    section = models.ForeignKey(SchemeSection, on_delete=models.CASCADE, related_name="indicators")
    code = models.CharField("编号", max_length=30)
    name = models.CharField("名称", max_length=120)
    guidance = models.TextField("评分标准", blank=True)
    kind = models.CharField("类型", max_length=10, choices=IndicatorKind.choices, default=IndicatorKind.SCORE)
    method = models.CharField("评分方式", max_length=10, choices=ScoringMethod.choices, default=ScoringMethod.MANUAL)
    metric_code = models.CharField("系统指标", max_length=60, blank=True)
    mapping_type = models.CharField(
        "换算方式", max_length=10, choices=MappingType.choices, default=MappingType.LINEAR, blank=True
    )
    # STEPS: [{"min": 0.9, "points": 10}, {"min": 0.6, "points": 6}]; for a deduction/veto the
    # computed metric "triggers" when the value is below ``threshold``.
    mapping = models.JSONField("换算表", default=list, blank=True)
    threshold = models.DecimalField("触发阈值", max_digits=8, decimal_places=4, null=True, blank=True)
    max_points = models.DecimalField("分值/最高扣分", max_digits=6, decimal_places=2, default=0)
    veto_cap_stars = models.PositiveSmallIntegerField("否决后最高星级", default=0, help_text="0 表示不予评星")
    evidence_hint = models.CharField("佐证材料说明", max_length=200, blank=True)
    order = models.PositiveSmallIntegerField("顺序", default=0)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "评分指标"
        verbose_name_plural = "评分指标"
        ordering = ["section", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["section", "code"], name="uniq_indicator_code")]

    def __str__(self) -> str:
        return self.name


class SchemeBand(models.Model):
    """Points → stars. ``min_points`` inclusive, ``max_points`` exclusive (null: no upper bound).
    A band with ``required_indicator`` is reached only when that indicator scored above 0;
    otherwise the rating falls to the band below. ``quota_percent`` caps the share of the round's
    organizations at this star level, checked when a rating is finalized."""

    scope_org_field = "scheme__organization"

    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="bands")
    stars = models.PositiveSmallIntegerField("星级")
    label = models.CharField("名称", max_length=30)
    min_points = models.DecimalField("最低分（含）", max_digits=6, decimal_places=2)
    max_points = models.DecimalField("最高分（不含）", max_digits=6, decimal_places=2, null=True, blank=True)
    required_indicator = models.ForeignKey(
        SchemeIndicator, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="必备条件"
    )
    quota_percent = models.DecimalField("名额比例（%）", max_digits=5, decimal_places=2, null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "星级档次"
        verbose_name_plural = "星级档次"
        ordering = ["scheme", "-min_points"]

    def __str__(self) -> str:
        return self.label


class AssessmentRound(models.Model):
    """One year's rating run of a conducting organization (usually a 党委) over its subtree."""

    scope_org_field = "organization"

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="assessment_rounds",
        verbose_name="组织评定的党组织",
    )
    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.PROTECT, related_name="rounds", verbose_name="方案")
    year = models.PositiveSmallIntegerField("评定年度")
    status = models.CharField("状态", max_length=10, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    publicity_days = models.PositiveSmallIntegerField("公示天数", default=5)
    self_assessment_due = models.DateField("自评截止日期", null=True, blank=True)
    enforce_quotas = models.BooleanField("确定星级时检查名额比例", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "星级评定批次"
        verbose_name_plural = "星级评定批次"
        ordering = ["-year", "organization"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "scheme", "year"], name="uniq_round_per_scheme_year"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.year} 年度星级评定"


class RatingQuerySet(ScopedQuerySet):
    """Members of the rated organization also see its rating during publicity and once final
    (to read and comment on it); everything else follows the gate."""

    def visible_to(self, user: Any, action: str = VIEW) -> ScopedQuerySet:
        own = super().visible_to(user, action)
        if action != VIEW:
            return own
        scope = get_scope(user)
        if not scope.member_id:
            return own
        member_paths = member_ancestor_paths(scope)
        if not member_paths:
            return own
        # A member recorded in a 党小组 sees the ratings of the branch (and bodies above) it belongs to.
        public = Q(
            organization__path__in=member_paths,
            status__in=[RatingStatus.PUBLICITY, RatingStatus.FINAL],
        )
        return self.filter(Q(pk__in=own.values("pk")) | public)


class Rating(models.Model):
    """One organization's star rating for one year: self-assessment → review → 公示 → final."""

    row_version = version_field()  # #17.3: edits name the version they started from
    scope_org_field = "organization"

    round = models.ForeignKey(
        AssessmentRound, on_delete=models.PROTECT, related_name="ratings", verbose_name="评定批次"
    )
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="ratings", verbose_name="被评定组织"
    )
    year = models.PositiveSmallIntegerField("年度")
    status = models.CharField("状态", max_length=10, choices=RatingStatus.choices, default=RatingStatus.DRAFT)
    self_total = models.DecimalField("自评得分", max_digits=6, decimal_places=2, null=True, blank=True)
    review_total = models.DecimalField("审核得分", max_digits=6, decimal_places=2, null=True, blank=True)
    final_total = models.DecimalField("最终得分", max_digits=6, decimal_places=2, null=True, blank=True)
    stars = models.PositiveSmallIntegerField("星级", null=True, blank=True)
    vetoed = models.BooleanField("触发一票否决", default=False)
    previous_stars = models.PositiveSmallIntegerField("上年星级", null=True, blank=True)
    change = models.CharField("星级变化", max_length=10, choices=StarChange.choices, blank=True)
    is_direct = models.BooleanField("直接评定", default=False)
    direct_reason = models.TextField("直接评定理由", blank=True)
    publicity_start = models.DateField("公示开始", null=True, blank=True)
    publicity_end = models.DateField("公示结束", null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    finalized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RatingQuerySet.as_manager()

    class Meta:
        verbose_name = "星级评定"
        verbose_name_plural = "星级评定"
        ordering = ["-year", "organization"]
        constraints = [models.UniqueConstraint(fields=["round", "organization"], name="uniq_rating_per_round")]
        indexes = [models.Index(fields=["organization", "year"])]

    def __str__(self) -> str:
        return f"{self.organization} {self.year} 星级评定"

    @property
    def current_total(self) -> Any:
        for value in (self.final_total, self.review_total, self.self_total):
            if value is not None:
                return value
        return None


class RatingEntry(models.Model):
    """The score of one indicator in one rating: the computed value, the self-assessment and the
    reviewer's adjustment (a changed score always carries a reason)."""

    scope_org_field = "rating__organization"

    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="entries")
    indicator = models.ForeignKey(SchemeIndicator, on_delete=models.PROTECT, related_name="entries")
    computed_value = models.DecimalField("系统指标值", max_digits=12, decimal_places=4, null=True, blank=True)
    computed_points = models.DecimalField("系统得分", max_digits=6, decimal_places=2, null=True, blank=True)
    self_points = models.DecimalField("自评分", max_digits=6, decimal_places=2, null=True, blank=True)
    self_note = models.TextField("自评说明", blank=True)
    review_points = models.DecimalField("审核分", max_digits=6, decimal_places=2, null=True, blank=True)
    review_reason = models.TextField("调整理由", blank=True)
    evidence_text = models.TextField("佐证说明", blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "评分明细"
        verbose_name_plural = "评分明细"
        ordering = ["rating", "indicator__section__order", "indicator__order", "indicator_id"]
        constraints = [models.UniqueConstraint(fields=["rating", "indicator"], name="uniq_entry_per_indicator")]

    def __str__(self) -> str:
        return f"{self.rating} · {self.indicator}"

    @property
    def effective_points(self) -> Any:
        for value in (self.review_points, self.self_points, self.computed_points):
            if value is not None:
                return value
        return None


def _evidence_path(instance: Any, filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"assessments/evidence/{secrets.token_hex(16)}.{suffix}"


class Evidence(models.Model):
    """Optional evidence for a rating entry, a 述职报告 or a rectification item: a file, a link to a
    meeting record, or a note. Photos are never required (减负, domain-rules §8)."""

    scope_org_field = "organization"

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    entry = models.ForeignKey(RatingEntry, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence")
    duty_report = models.ForeignKey(
        "DutyReport", null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    rectification = models.ForeignKey(
        "RectificationItem", null=True, blank=True, on_delete=models.CASCADE, related_name="evidence"
    )
    title = models.CharField("说明", max_length=120)
    file = models.FileField("附件", upload_to=_evidence_path, blank=True)
    original_name = models.CharField("原文件名", max_length=200, blank=True)
    content_type = models.CharField(max_length=80, blank=True)
    size = models.PositiveIntegerField(default=0)
    # A link to a meeting record (activities) or another page of the system; stored as a path.
    link = models.CharField("关联记录链接", max_length=300, blank=True)
    meeting_id = models.PositiveBigIntegerField("关联会议编号", null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title


class RatingStep(models.Model):
    """The history of one rating: every state change and score adjustment, with who and why."""

    scope_org_field = "rating__organization"

    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField("操作", max_length=20, choices=RatingAction.choices)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    reason = models.TextField("理由", blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "评定过程记录"
        verbose_name_plural = "评定过程记录"
        ordering = ["rating", "pk"]

    def __str__(self) -> str:
        return f"{self.rating} · {self.get_action_display()}"


class RatingComment(models.Model):
    """An opinion left during 公示."""

    scope_org_field = "rating__organization"

    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    author_name = models.CharField(max_length=150, blank=True)
    text = models.TextField("意见")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "公示意见"
        verbose_name_plural = "公示意见"
        ordering = ["rating", "pk"]

    def __str__(self) -> str:
        return self.text[:30]


class DutyReport(models.Model):
    """述职评议: the secretary's yearly report and the reviewing body's appraisal."""

    scope_org_field = "organization"

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="duty_reports", verbose_name="党组织"
    )
    year = models.PositiveSmallIntegerField("年度")
    secretary_name = models.CharField("述职书记", max_length=50)
    text = models.TextField("述职报告")
    status = models.CharField("状态", max_length=10, choices=DutyReportStatus.choices, default=DutyReportStatus.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="评议组织",
    )
    count_good = models.PositiveIntegerField("好", null=True, blank=True)
    count_fairly_good = models.PositiveIntegerField("较好", null=True, blank=True)
    count_average = models.PositiveIntegerField("一般", null=True, blank=True)
    count_poor = models.PositiveIntegerField("差", null=True, blank=True)
    score = models.DecimalField("评议得分", max_digits=5, decimal_places=2, null=True, blank=True)
    grade = models.CharField("综合评价", max_length=12, choices=AppraisalGrade.choices, blank=True)
    appraisal_note = models.TextField("评议意见", blank=True)
    appraised_at = models.DateTimeField(null=True, blank=True)
    appraised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "书记述职评议"
        verbose_name_plural = "书记述职评议"
        ordering = ["-year", "organization"]
        constraints = [models.UniqueConstraint(fields=["organization", "year"], name="uniq_duty_report_year")]

    def __str__(self) -> str:
        return f"{self.organization} {self.year} 年度书记述职"

    @property
    def votes_total(self) -> int:
        return sum(v or 0 for v in (self.count_good, self.count_fairly_good, self.count_average, self.count_poor))


class DutyQuestion(models.Model):
    """A "必答题": a problem the reviewing body sets, to be answered in next year's report."""

    scope_org_field = "report__organization"

    report = models.ForeignKey(DutyReport, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField("必答题", max_length=300)
    answer = models.TextField("作答（下一年度述职）", blank=True)
    answered_in = models.ForeignKey(
        DutyReport, null=True, blank=True, on_delete=models.SET_NULL, related_name="answered_questions"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "必答题"
        verbose_name_plural = "必答题"
        ordering = ["report", "pk"]

    def __str__(self) -> str:
        return self.text


class ReportBatch(models.Model):
    """One request to generate a quarter's reports for a subtree; ``done``/``total`` drive the
    progress bar."""

    scope_org_field = "organization"

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    quarter = models.PositiveSmallIntegerField("季度")
    force = models.BooleanField("覆盖已有报告", default=False)
    development_list = models.BooleanField("附发展党员步骤明细", default=False)
    status = models.CharField(max_length=10, choices=BatchStatus.choices, default=BatchStatus.PENDING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "报告生成批次"
        verbose_name_plural = "报告生成批次"
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.organization} {self.year}Q{self.quarter}"

    @property
    def percent(self) -> int:
        return int(100 * (self.done + self.failed) / self.total) if self.total else 0


class InspectionReport(models.Model):
    """A stored quarterly inspection report (PDF + XLSX) of one organization, or the roll-up of its
    children. One row per (organization, year, quarter, kind): generation is idempotent."""

    scope_org_field = "organization"

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="inspection_reports", verbose_name="党组织"
    )
    year = models.PositiveSmallIntegerField("年度")
    quarter = models.PositiveSmallIntegerField("季度")
    kind = models.CharField("类型", max_length=10, choices=ReportKind.choices, default=ReportKind.SINGLE)
    period_start = models.DateField("数据起始")
    period_end = models.DateField("数据截止")
    status = models.CharField("状态", max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    batch = models.ForeignKey(ReportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    pdf_file = models.FileField("PDF", blank=True, max_length=300)
    xlsx_file = models.FileField("XLSX", blank=True, max_length=300)
    pdf_size = models.PositiveIntegerField(default=0)
    xlsx_size = models.PositiveIntegerField(default=0)
    generated_at = models.DateTimeField("生成时间", null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField("失败原因", blank=True)
    summary = models.JSONField("主要数字", default=dict, blank=True)
    doc_number = models.CharField("文号", max_length=60, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "季度督查报告"
        verbose_name_plural = "季度督查报告"
        ordering = ["-year", "-quarter", "organization__path", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year", "quarter", "kind"], name="uniq_inspection_report"),
        ]
        indexes = [models.Index(fields=["year", "quarter", "status"])]

    def __str__(self) -> str:
        return f"{self.organization} {self.year}年第{self.quarter}季度{self.get_kind_display()}"


class RectificationItem(models.Model):
    """整改: a finding turned into an item with a requirement, owner, deadline and sign-off."""

    row_version = version_field()  # #17.3: edits name the version they started from
    scope_org_field = "organization"

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="rectifications", verbose_name="整改组织"
    )
    source = models.CharField(
        "来源", max_length=12, choices=RectificationSource.choices, default=RectificationSource.INSPECTION
    )
    source_report = models.ForeignKey(
        InspectionReport,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="findings",
        verbose_name="来源报告",
    )
    problem = models.TextField("存在问题")
    requirement = models.TextField("整改要求")
    owner_name = models.CharField("责任人", max_length=50)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deadline = models.DateField("整改时限")
    status = models.CharField(
        "状态", max_length=10, choices=RectificationStatus.choices, default=RectificationStatus.OPEN
    )
    completion_note = models.TextField("整改情况", blank=True)
    completed_on = models.DateField("完成日期", null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer_name = models.CharField("验收人", max_length=150, blank=True)
    reviewed_at = models.DateTimeField("验收时间", null=True, blank=True)
    review_note = models.TextField("验收意见", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "整改事项"
        verbose_name_plural = "整改事项"
        ordering = ["status", "deadline", "pk"]
        indexes = [models.Index(fields=["organization", "status", "deadline"])]

    def __str__(self) -> str:
        return self.problem[:40]


class ReportHeading(models.Model):
    """How an organization issues inspection reports as official documents (红头): the issuing
    body's mark, the 文号 pattern and its yearly counter, 主送 and 落款."""

    scope_org_field = "organization"

    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.CASCADE, related_name="report_heading", verbose_name="党组织"
    )
    issuer_mark = models.CharField("发文机关标志", max_length=60)
    number_pattern = models.CharField("文号格式", max_length=60, help_text="如 测组〔{year}〕{n}号")
    recipients = models.CharField("主送", max_length=200, blank=True)
    signatory = models.CharField("落款", max_length=60)
    number_year = models.PositiveSmallIntegerField(default=0)
    number_last = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "督查报告发文设置"
        verbose_name_plural = "督查报告发文设置"

    def __str__(self) -> str:
        return self.issuer_mark


class LedgerBatch(models.Model):
    """One request for the 组织生活台账 of every branch in a subtree for a year, as one ZIP;
    ``done``/``total`` drive the progress bar (as for report batches)."""

    scope_org_field = "organization"

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    fmt = models.CharField("格式", max_length=4, default="pdf")
    status = models.CharField(max_length=10, choices=BatchStatus.choices, default=BatchStatus.PENDING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    zip_file = models.FileField(blank=True, max_length=300)
    zip_size = models.PositiveBigIntegerField(default=0)
    zip_started_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "台账批量生成"
        verbose_name_plural = "台账批量生成"
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.organization} {self.year}年台账"

    @property
    def percent(self) -> int:
        return int(100 * (self.done + self.failed) / self.total) if self.total else 0
