"""Codes for star ratings, 述职评议, inspection reports and rectification (domain-rules §§8–9)."""

from django.db import models


class SchemeStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    ACTIVE = "active", "启用"
    ARCHIVED = "archived", "停用"


class IndicatorKind(models.TextChoices):
    SCORE = "score", "计分项"
    BONUS = "bonus", "加分项"
    DEDUCTION = "deduction", "扣分项"
    VETO = "veto", "一票否决项"


class ScoringMethod(models.TextChoices):
    COMPUTED = "computed", "系统计算"
    MANUAL = "manual", "人工评分"


class MappingType(models.TextChoices):
    LINEAR = "linear", "按比例（指标值 0–1 × 分值）"
    STEPS = "steps", "分档（达到阈值得相应分）"
    BOOLEAN = "boolean", "是否达标（达标得满分）"


class RoundStatus(models.TextChoices):
    OPEN = "open", "进行中"
    CLOSED = "closed", "已结束"


class RatingStatus(models.TextChoices):
    DRAFT = "draft", "自评中"
    SUBMITTED = "submitted", "待上级审核"
    PUBLICITY = "publicity", "公示中"
    FINAL = "final", "已评定"


class StarChange(models.TextChoices):
    NEW = "new", "首次评定"
    UP = "up", "升星"
    DOWN = "down", "降星"
    SAME = "same", "保持"


class RatingAction(models.TextChoices):
    CREATE = "create", "开始自评"
    SELF_SCORE = "self_score", "自评打分"
    EVIDENCE = "evidence", "上传佐证"
    SUBMIT = "submit", "提交自评"
    RETURN = "return", "退回自评"
    REVIEW_SCORE = "review_score", "审核调整分数"
    START_PUBLICITY = "start_publicity", "开始公示"
    COMMENT = "comment", "公示意见"
    FINALIZE = "finalize", "确定星级"
    DIRECT = "direct", "直接评定（荣誉）"
    REFRESH = "refresh", "重新计算系统得分"


class DutyReportStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交"
    APPRAISED = "appraised", "已评议"


class AppraisalGrade(models.TextChoices):
    GOOD = "good", "好"
    FAIRLY_GOOD = "fairly_good", "较好"
    AVERAGE = "average", "一般"
    POOR = "poor", "差"


class ReportKind(models.TextChoices):
    SINGLE = "single", "组织季度督查报告"
    ROLLUP = "rollup", "下级组织汇总对比报告"


class ReportStatus(models.TextChoices):
    PENDING = "pending", "排队中"
    RUNNING = "running", "生成中"
    DONE = "done", "已生成"
    FAILED = "failed", "失败"


class BatchStatus(models.TextChoices):
    PENDING = "pending", "排队中"
    RUNNING = "running", "生成中"
    DONE = "done", "已完成"
    FAILED = "failed", "部分失败"


class RectificationStatus(models.TextChoices):
    OPEN = "open", "整改中"
    SUBMITTED = "submitted", "待验收"
    CLOSED = "closed", "已销号"


class RectificationSource(models.TextChoices):
    INSPECTION = "inspection", "季度督查"
    RATING = "rating", "星级评定"
    APPRAISAL = "appraisal", "述职评议"
    OTHER = "other", "其他检查"
