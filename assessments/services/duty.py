"""述职评议: the secretary's yearly report, the reviewing body's appraisal and its 必答题.

- The organization's own secretary writes and submits the report (text, optional attachments)
  and answers last year's 必答题 in it.
- The parent organization (an org_admin above) appraises it: counts of 好/较好/一般/差 or a
  score, an overall grade, and one or two 必答题 to be answered next year.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from assessments.choices import AppraisalGrade, DutyReportStatus
from assessments.models import DutyQuestion, DutyReport
from assessments.services.ratings import is_org_editor
from audit.services import audit_log
from core.access import get_scope
from organizations.models import Organization

# Weighted score of the votes (好 100, 较好 80, 一般 60, 差 0) and the grade thresholds.
VOTE_WEIGHTS = {"good": 100, "fairly_good": 80, "average": 60, "poor": 0}
GRADE_THRESHOLDS = [
    (Decimal(90), AppraisalGrade.GOOD),
    (Decimal(80), AppraisalGrade.FAIRLY_GOOD),
    (Decimal(60), AppraisalGrade.AVERAGE),
]


def grade_for(score: Decimal) -> str:
    for threshold, grade in GRADE_THRESHOLDS:
        if score >= threshold:
            return grade
    return AppraisalGrade.POOR


def _parent(org: Organization) -> Organization | None:
    return Organization.objects.parent_of(org)


def can_appraise(user: Any, report: DutyReport) -> bool:
    parent = _parent(report.organization)
    return parent is not None and get_scope(user).may_record_for(parent)


def open_questions_for(*, organization: Organization, year: int) -> list[DutyQuestion]:
    """Last year's 必答题 that this year's report has to answer."""
    return list(DutyQuestion.objects.filter(report__organization=organization, report__year=year - 1).order_by("pk"))


@transaction.atomic
def duty_report_save(
    *,
    organization: Organization,
    year: int,
    user: Any,
    secretary_name: str,
    text: str,
    answers: dict[int, str] | None = None,
) -> DutyReport:
    if not is_org_editor(user, organization):
        raise PermissionDenied("只有本组织书记可以填写述职报告")
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": "年度应在 2000 至 2100 之间"})
    secretary_name = (secretary_name or "").strip()
    text = (text or "").strip()
    if not secretary_name:
        raise ValidationError({"secretary_name": "请填写述职书记姓名"})
    if len(text) < 20:
        raise ValidationError({"text": "述职报告内容过短（至少 20 字）"})
    report = DutyReport.objects.select_for_update().filter(organization=organization, year=year).first()
    if report is not None and report.status == DutyReportStatus.APPRAISED:
        raise ValidationError({"status": "述职报告已评议，不能再修改"})
    created = report is None
    if report is None:
        report = DutyReport(organization=organization, year=year)
    report.secretary_name = secretary_name
    report.text = text
    report.save()
    questions = {q.pk: q for q in open_questions_for(organization=organization, year=year)}
    for question_id, answer in (answers or {}).items():
        question = questions.get(int(question_id))
        if question is None:
            raise ValidationError({"answers": "必答题不存在"})
        question.answer = (answer or "").strip()
        question.answered_in = report
        question.save(update_fields=["answer", "answered_in"])
    audit_log(
        event="duty_report_create" if created else "duty_report_update",
        user=user,
        obj=report,
        organization=organization,
        detail={"year": year},
    )
    return report


@transaction.atomic
def duty_report_submit(*, report: DutyReport, user: Any) -> DutyReport:
    if not is_org_editor(user, report.organization):
        raise PermissionDenied("只有本组织书记可以提交述职报告")
    if report.status != DutyReportStatus.DRAFT:
        raise ValidationError({"status": "述职报告已提交"})
    unanswered = [
        q.text for q in open_questions_for(organization=report.organization, year=report.year) if not q.answer
    ]
    if unanswered:
        raise ValidationError({"answers": "请先回答上年度必答题：" + "；".join(unanswered)})
    report.status = DutyReportStatus.SUBMITTED
    report.submitted_at = timezone.now()
    report.submitted_by = user
    report.save(update_fields=["status", "submitted_at", "submitted_by", "updated_at"])
    audit_log(event="duty_report_submit", user=user, obj=report, organization=report.organization)
    return report


def _count(value: Any, label: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({label: "票数应为整数"}) from exc
    if number < 0:
        raise ValidationError({label: "票数不能为负数"})
    return number


@transaction.atomic
def duty_report_appraise(
    *,
    report: DutyReport,
    user: Any,
    counts: dict[str, Any] | None = None,
    score: Any = None,
    note: str = "",
    questions: list[str],
) -> DutyReport:
    report = DutyReport.objects.select_for_update().get(pk=report.pk)
    if not can_appraise(user, report):
        raise PermissionDenied("只有上级党组织可以评议")
    if report.status != DutyReportStatus.SUBMITTED:
        raise ValidationError({"status": "只有已提交的述职报告可以评议"})
    counts = counts or {}
    parsed = {key: _count(counts.get(key), f"count_{key}") for key in VOTE_WEIGHTS}
    has_counts = any(v is not None for v in parsed.values())
    score_value: Decimal | None = None
    if score not in (None, ""):
        try:
            score_value = Decimal(str(score))
        except (InvalidOperation, ValueError) as exc:
            raise ValidationError({"score": "评议得分应为数字"}) from exc
        if not score_value.is_finite() or not 0 <= score_value <= 100:
            raise ValidationError({"score": "评议得分应在 0–100 之间"})
    if not has_counts and score_value is None:
        raise ValidationError({"count_good": "请填写评议票数（好/较好/一般/差）或评议得分"})
    if has_counts:
        total = sum(v or 0 for v in parsed.values())
        if total == 0:
            raise ValidationError({"count_good": "评议票数合计不能为 0"})
        weighted = Decimal(sum(VOTE_WEIGHTS[k] * (v or 0) for k, v in parsed.items())) / Decimal(total)
        basis = score_value if score_value is not None else weighted
    else:
        basis = score_value
    cleaned = [q.strip() for q in questions if q and q.strip()]
    if not 1 <= len(cleaned) <= 2:
        raise ValidationError({"questions": "请提出 1 至 2 道必答题"})
    if any(len(q) > 300 for q in cleaned):
        raise ValidationError({"questions": "每道必答题不超过 300 字"})
    report.reviewer = _parent(report.organization)
    report.count_good = parsed["good"]
    report.count_fairly_good = parsed["fairly_good"]
    report.count_average = parsed["average"]
    report.count_poor = parsed["poor"]
    report.score = score_value
    report.grade = grade_for(basis)
    report.appraisal_note = (note or "").strip()
    report.status = DutyReportStatus.APPRAISED
    report.appraised_at = timezone.now()
    report.appraised_by = user
    report.save()
    report.questions.all().delete()
    DutyQuestion.objects.bulk_create([DutyQuestion(report=report, text=q) for q in cleaned])
    audit_log(
        event="duty_report_appraise",
        user=user,
        obj=report,
        organization=report.organization,
        detail={"grade": report.grade, "votes": report.votes_total, "questions": len(cleaned)},
    )
    return report
