"""The star-rating process: self-assessment → review by the parent → 公示 → final rating.

Who may do what (besides seeing the rating through the gate):
- the rated organization's own secretary / org_admin (a role on that organization itself)
  fills in the self-assessment while the rating is a draft, and submits it;
- an org_admin of the conducting organization (the round's organization, above the rated one)
  reviews, returns, starts 公示, finalizes, and records a direct rating for an honour;
- during 公示 the rated organization's members and everyone who can see the rating comment.

Every change writes a ``RatingStep`` and an audit event in the same transaction.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from assessments.choices import (
    IndicatorKind,
    RatingAction,
    RatingStatus,
    RoundStatus,
    SchemeStatus,
    ScoringMethod,
    StarChange,
)
from assessments.metrics import metric_value
from assessments.models import (
    AssessmentRound,
    AssessmentScheme,
    Rating,
    RatingComment,
    RatingEntry,
    RatingStep,
    SchemeIndicator,
)
from assessments.periods import year_period
from assessments.scoring import fmt_points, points_from_value, quota_allowed, score_total, stars_for
from assessments.selectors import publicity_ratings
from audit.services import audit_log
from core.access import CHANGE, VIEW, get_scope, user_can
from core.dates import today
from organizations.models import Organization

MIN_REASON = 4


# --- permissions -------------------------------------------------------------------------------


def is_org_editor(user: Any, org: Organization) -> bool:
    """The organization's own people: a read-write role assigned on the organization itself."""
    return org.path in get_scope(user).recording_paths()


def is_round_reviewer(user: Any, round_: AssessmentRound) -> bool:
    """Records for the conducting organization (an org_admin there or above, or its secretary)."""
    return get_scope(user).may_record_for(round_.organization)


def _require(condition: bool, message: str = "无权进行此操作") -> None:
    if not condition:
        raise PermissionDenied(message)


def _require_status(rating: Rating, *statuses: str, message: str) -> None:
    if rating.status not in statuses:
        raise ValidationError({"status": message})


def _points(value: Any, label: str, *, maximum: Decimal, allow_none: bool = False) -> Decimal | None:
    if value is None or value == "":
        if allow_none:
            return None
        raise ValidationError({"points": f"请填写「{label}」的分数"})
    try:
        points = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"points": f"「{label}」的分数应为数字"}) from exc
    if not points.is_finite() or points < 0:
        raise ValidationError({"points": f"「{label}」的分数不能为负数"})
    if points > maximum:
        raise ValidationError(
            {"points": f"「{label}」的分数 {fmt_points(points)} 超过该项最高 {fmt_points(maximum)} 分"}
        )
    if points.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError({"points": f"「{label}」的分数最多保留两位小数"})
    return points


def _indicator_max(indicator: SchemeIndicator) -> Decimal:
    return Decimal(1) if indicator.kind == IndicatorKind.VETO else Decimal(indicator.max_points)


def _step(
    rating: Rating, action: str, user: Any, *, from_status: str = "", reason: str = "", detail: Any = None
) -> None:
    RatingStep.objects.create(
        rating=rating,
        action=action,
        from_status=from_status,
        to_status=rating.status,
        actor=user if getattr(user, "is_authenticated", False) else None,
        actor_name=(user.get_full_name() or user.username) if getattr(user, "is_authenticated", False) else "系统",
        reason=reason,
        detail=detail or {},
    )
    audit_log(
        event=f"rating_{action}",
        user=user,
        obj=rating,
        organization=rating.organization,
        detail={"year": rating.year, "status": rating.status, "reason": reason[:200], **(detail or {})},
    )


# --- rounds -------------------------------------------------------------------------------------


def _compute_entry(entry: RatingEntry, org: Organization, year: int) -> None:
    indicator = entry.indicator
    if indicator.method != ScoringMethod.COMPUTED or not indicator.metric_code:
        return
    value = metric_value(indicator.metric_code, org=org, period=year_period(year))
    entry.computed_value = value
    entry.computed_points = points_from_value(indicator, value)


@transaction.atomic
def round_open(
    *,
    organization: Organization,
    scheme: AssessmentScheme,
    year: int,
    user: Any,
    publicity_days: int | None = None,
    self_assessment_due: date | None = None,
    enforce_quotas: bool = True,
) -> AssessmentRound:
    """Open a year's rating for every organization of the scheme's type below ``organization``,
    with the computed indicators pre-filled."""
    _require(user_can(user, CHANGE, organization), "无权在该组织组织星级评定")
    if scheme.status != SchemeStatus.ACTIVE:
        raise ValidationError({"scheme": "请先启用该方案（方案校验通过后才能用于评定）"})
    if not AssessmentScheme.objects.visible_to(user, VIEW).filter(pk=scheme.pk).exists():
        raise ValidationError({"scheme": "方案不存在"})
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": "年度应在 2000 至 2100 之间"})
    days = publicity_days if publicity_days is not None else scheme.publicity_days
    if not 1 <= days <= 30:
        raise ValidationError({"publicity_days": "公示天数应为 1 至 30 天"})
    if AssessmentRound.objects.filter(organization=organization, scheme=scheme, year=year).exists():
        raise ValidationError({"year": f"{year} 年度已用该方案开展过评定"})
    targets = list(
        Organization.objects.filter(path__startswith=organization.path, org_type=scheme.org_type)
        .exclude(pk=organization.pk)
        .order_by("path")
    )
    if not targets:
        raise ValidationError({"scheme": "该组织下没有适用此方案的组织"})
    round_ = AssessmentRound.objects.create(
        organization=organization,
        scheme=scheme,
        year=year,
        publicity_days=days,
        self_assessment_due=self_assessment_due,
        enforce_quotas=enforce_quotas,
        created_by=user,
    )
    indicators = list(SchemeIndicator.objects.filter(section__scheme=scheme).order_by("section__order", "order"))
    for org in targets:
        rating = Rating.objects.create(round=round_, organization=org, year=year)
        entries = [RatingEntry(rating=rating, indicator=indicator) for indicator in indicators]
        for entry in entries:
            _compute_entry(entry, org, year)
        RatingEntry.objects.bulk_create(entries)
        RatingStep.objects.create(
            rating=rating,
            action=RatingAction.CREATE,
            to_status=rating.status,
            actor=user,
            actor_name=user.get_full_name() or user.username,
        )
    audit_log(
        event="rating_round_open",
        user=user,
        obj=round_,
        organization=organization,
        detail={"year": year, "scheme": scheme.pk, "ratings": len(targets)},
    )
    return round_


@transaction.atomic
def rating_refresh_computed(*, rating: Rating, user: Any) -> Rating:
    """Recompute the system-computed indicators of a draft (after more data was recorded)."""
    _require(is_org_editor(user, rating.organization) or is_round_reviewer(user, rating.round))
    _require_status(rating, RatingStatus.DRAFT, message="只有自评中的评定可以重新计算")
    for entry in rating.entries.select_related("indicator"):
        _compute_entry(entry, rating.organization, rating.year)
        entry.save(update_fields=["computed_value", "computed_points"])
    _step(rating, RatingAction.REFRESH, user, from_status=rating.status)
    return rating


# --- self-assessment ----------------------------------------------------------------------------


def _entries_by_indicator(rating: Rating) -> dict[int, RatingEntry]:
    return {e.indicator_id: e for e in rating.entries.select_related("indicator")}


@transaction.atomic
def rating_self_score(*, rating: Rating, user: Any, scores: dict[int, dict[str, Any]]) -> Rating:
    """Enter self-assessment points: ``{indicator_id: {"points": .., "note": .., "evidence_text": ..}}``.

    A computed indicator may be corrected by hand, with a note saying why."""
    rating = Rating.objects.select_for_update().get(pk=rating.pk)
    _require(is_org_editor(user, rating.organization), "只有本组织书记可以填写自评")
    _require_status(rating, RatingStatus.DRAFT, message="自评已提交，不能再修改")
    entries = _entries_by_indicator(rating)
    changed: dict[str, Any] = {}
    for indicator_id, values in scores.items():
        entry = entries.get(int(indicator_id))
        if entry is None:
            raise ValidationError({"indicator": "指标不属于本评定方案"})
        indicator = entry.indicator
        points = _points(values.get("points"), indicator.name, maximum=_indicator_max(indicator), allow_none=True)
        note = str(values.get("note") or "").strip()
        if (
            indicator.method == ScoringMethod.COMPUTED
            and points is not None
            and entry.computed_points is not None
            and points != entry.computed_points
            and len(note) < MIN_REASON
        ):
            raise ValidationError({"note": f"「{indicator.name}」与系统计算得分不同，请说明理由"})
        if points != entry.self_points:
            changed[indicator.code] = [str(entry.self_points) if entry.self_points is not None else None, str(points)]
        entry.self_points = points
        entry.self_note = note
        if "evidence_text" in values:
            entry.evidence_text = str(values.get("evidence_text") or "")
        entry.save(update_fields=["self_points", "self_note", "evidence_text"])
    rating.self_total = _result(rating, stage="self").total
    rating.save(update_fields=["self_total", "updated_at"])
    _step(rating, RatingAction.SELF_SCORE, user, from_status=rating.status, detail={"changes": changed})
    return rating


def _stage_points(entry: RatingEntry, stage: str) -> Decimal | None:
    if stage == "review" and entry.review_points is not None:
        return entry.review_points
    if entry.self_points is not None:
        return entry.self_points
    return entry.computed_points


def _result(rating: Rating, *, stage: str) -> Any:
    entries = list(rating.entries.select_related("indicator"))
    return score_total(
        ((e.indicator, _stage_points(e, stage)) for e in entries),
        total_points=rating.round.scheme.total_points,
    )


@transaction.atomic
def rating_submit(*, rating: Rating, user: Any) -> Rating:
    rating = Rating.objects.select_for_update().select_related("round__scheme").get(pk=rating.pk)
    _require(is_org_editor(user, rating.organization), "只有本组织书记可以提交自评")
    _require_status(rating, RatingStatus.DRAFT, message="只有自评中的评定可以提交")
    result = _result(rating, stage="self")
    if result.missing:
        raise ValidationError({"entries": "以下指标尚未评分：" + "、".join(result.missing)})
    rating.self_total = result.total
    rating.status = RatingStatus.SUBMITTED
    rating.submitted_at = timezone.now()
    rating.save(update_fields=["self_total", "status", "submitted_at", "updated_at"])
    _step(rating, RatingAction.SUBMIT, user, from_status=RatingStatus.DRAFT, detail={"self_total": str(result.total)})
    return rating


# --- review -------------------------------------------------------------------------------------


@transaction.atomic
def rating_return(*, rating: Rating, user: Any, reason: str) -> Rating:
    rating = Rating.objects.select_for_update().select_related("round").get(pk=rating.pk)
    _require(is_round_reviewer(user, rating.round), "只有上级党组织可以退回自评")
    _require_status(rating, RatingStatus.SUBMITTED, message="只有待审核的评定可以退回")
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ValidationError({"reason": "退回须填写理由"})
    rating.status = RatingStatus.DRAFT
    rating.save(update_fields=["status", "updated_at"])
    _step(rating, RatingAction.RETURN, user, from_status=RatingStatus.SUBMITTED, reason=reason)
    return rating


@transaction.atomic
def rating_review(*, rating: Rating, user: Any, scores: dict[int, dict[str, Any]]) -> Rating:
    """The parent's review: ``{indicator_id: {"points": .., "reason": ..}}``. Changing a score
    from the self-assessment requires a reason; unchanged scores need none."""
    rating = Rating.objects.select_for_update().select_related("round__scheme").get(pk=rating.pk)
    _require(is_round_reviewer(user, rating.round), "只有上级党组织可以审核")
    _require_status(rating, RatingStatus.SUBMITTED, message="只有待审核的评定可以调整分数")
    entries = _entries_by_indicator(rating)
    changes: dict[str, Any] = {}
    pending: list[tuple[RatingEntry, Decimal | None, str]] = []
    for indicator_id, values in scores.items():
        entry = entries.get(int(indicator_id))
        if entry is None:
            raise ValidationError({"indicator": "指标不属于本评定方案"})
        indicator = entry.indicator
        points = _points(values.get("points"), indicator.name, maximum=_indicator_max(indicator))
        reason = str(values.get("reason") or "").strip()
        before = _stage_points(entry, "self")
        if points != before and len(reason) < MIN_REASON:
            raise ValidationError(
                {"reason": f"调整「{indicator.name}」的分数（{fmt_points(before)} → {fmt_points(points)}）须填写理由"}
            )
        if points != _stage_points(entry, "review"):
            changes[indicator.code] = {"from": fmt_points(before), "to": fmt_points(points), "reason": reason[:200]}
        pending.append((entry, points, reason))
    for entry, points, reason in pending:
        entry.review_points = points
        entry.review_reason = reason
        entry.save(update_fields=["review_points", "review_reason"])
    rating.review_total = _result(rating, stage="review").total
    rating.reviewed_at = timezone.now()
    rating.save(update_fields=["review_total", "reviewed_at", "updated_at"])
    _step(rating, RatingAction.REVIEW_SCORE, user, from_status=rating.status, detail={"changes": changes})
    return rating


def _provisional(rating: Rating) -> tuple[Any, int]:
    result = _result(rating, stage="review")
    return result, stars_for(rating.round.scheme.bands.all(), result)


@transaction.atomic
def rating_start_publicity(*, rating: Rating, user: Any, start: date | None = None) -> Rating:
    rating = Rating.objects.select_for_update().select_related("round__scheme").get(pk=rating.pk)
    _require(is_round_reviewer(user, rating.round), "只有上级党组织可以发起公示")
    _require_status(rating, RatingStatus.SUBMITTED, message="只有审核完成的评定可以公示")
    result, stars = _provisional(rating)
    start = start or today()
    if abs((start - today()).days) > 366:
        raise ValidationError({"start": "公示开始日期应在今天前后一年之内"})
    rating.review_total = result.total
    rating.stars = stars
    rating.vetoed = result.veto_cap is not None
    rating.status = RatingStatus.PUBLICITY
    rating.publicity_start = start
    rating.publicity_end = start + timedelta(days=rating.round.publicity_days - 1)
    rating.save(
        update_fields=["review_total", "stars", "vetoed", "status", "publicity_start", "publicity_end", "updated_at"]
    )
    _step(
        rating,
        RatingAction.START_PUBLICITY,
        user,
        from_status=RatingStatus.SUBMITTED,
        detail={"total": str(result.total), "stars": stars, "until": rating.publicity_end.isoformat()},
    )
    return rating


@transaction.atomic
def rating_comment(*, rating: Rating, user: Any, text: str, on: date | None = None) -> RatingComment:
    on = on or today()
    _require_status(rating, RatingStatus.PUBLICITY, message="该评定不在公示期内")
    _require(
        not get_scope(user).is_read_only and publicity_ratings(user=user, on=on).filter(pk=rating.pk).exists(),
        "无权发表意见",
    )
    if rating.publicity_end and on > rating.publicity_end:
        raise ValidationError({"text": f"公示已于 {rating.publicity_end:%Y-%m-%d} 结束"})
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "请填写意见"})
    if len(text) > 2000:
        raise ValidationError({"text": "意见不超过 2000 字"})
    comment = RatingComment.objects.create(
        rating=rating, author=user, author_name=user.get_full_name() or user.username, text=text
    )
    _step(rating, RatingAction.COMMENT, user, from_status=rating.status, detail={"comment": comment.pk})
    return comment


def _previous(rating: Rating) -> Rating | None:
    return (
        Rating.objects.filter(organization=rating.organization, year__lt=rating.year, status=RatingStatus.FINAL)
        .order_by("-year", "-finalized_at")
        .first()
    )


def _change(previous: int | None, stars: int) -> str:
    if previous is None:
        return StarChange.NEW
    if stars > previous:
        return StarChange.UP
    if stars < previous:
        return StarChange.DOWN
    return StarChange.SAME


def _check_quota(rating: Rating, stars: int) -> None:
    round_ = rating.round
    if not round_.enforce_quotas:
        return
    band = round_.scheme.bands.filter(stars=stars, quota_percent__isnull=False).first()
    if band is None:
        return
    count = round_.ratings.count()
    allowed = quota_allowed(count, band.quota_percent)
    taken = round_.ratings.filter(status=RatingStatus.FINAL, stars=stars).exclude(pk=rating.pk).count()
    if taken + 1 > allowed:
        raise ValidationError(
            {
                "stars": (
                    f"{band.label}名额已满：本批次共 {count} 个组织，{band.label}不超过 "
                    f"{fmt_points(band.quota_percent)}%（{allowed} 个），已评定 {taken} 个"
                )
            }
        )


@transaction.atomic
def rating_finalize(*, rating: Rating, user: Any, on: date | None = None) -> Rating:
    on = on or today()
    rating = Rating.objects.select_for_update().select_related("round__scheme").get(pk=rating.pk)
    AssessmentRound.objects.select_for_update().filter(pk=rating.round_id).first()  # serialize quota checks
    _require(is_round_reviewer(user, rating.round), "只有上级党组织可以确定星级")
    _require_status(rating, RatingStatus.PUBLICITY, message="公示结束后才能确定星级")
    if rating.publicity_end and on <= rating.publicity_end:
        raise ValidationError({"status": f"公示期至 {rating.publicity_end:%Y-%m-%d} 结束，期满后方可确定星级"})
    result, stars = _provisional(rating)
    _check_quota(rating, stars)
    previous = _previous(rating)
    rating.final_total = result.total
    rating.stars = stars
    rating.vetoed = result.veto_cap is not None
    rating.previous_stars = previous.stars if previous else None
    rating.change = _change(rating.previous_stars, stars)
    rating.status = RatingStatus.FINAL
    rating.finalized_at = timezone.now()
    rating.finalized_by = user
    rating.save()
    _step(
        rating,
        RatingAction.FINALIZE,
        user,
        from_status=RatingStatus.PUBLICITY,
        detail={
            "total": str(result.total),
            "stars": stars,
            "previous_stars": rating.previous_stars,
            "change": rating.change,
            "vetoes": result.vetoes,
        },
    )
    return rating


@transaction.atomic
def rating_direct(*, round_: AssessmentRound, organization: Organization, stars: int, reason: str, user: Any) -> Rating:
    """Direct rating for an honour (e.g. 区级以上先进基层党组织): an explicit, reasoned exception
    that skips scoring. Not counted against quotas; recorded and audited like every change."""
    _require(is_round_reviewer(user, round_), "只有上级党组织可以直接评定")
    if round_.status != RoundStatus.OPEN:
        raise ValidationError({"round": "该评定批次已结束"})
    if not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ValidationError({"stars": "星级应为 1 至 5"})
    reason = (reason or "").strip()
    if len(reason) < 8:
        raise ValidationError({"reason": "直接评定须写明荣誉名称、授予机关和文号等理由（至少 8 个字）"})
    rating = Rating.objects.select_for_update().filter(round=round_, organization=organization).first()
    if rating is None:
        raise ValidationError({"organization": "该组织不在本批次评定范围内"})
    if rating.status == RatingStatus.FINAL:
        raise ValidationError({"status": "该组织已确定星级"})
    from_status = rating.status
    previous = _previous(rating)
    rating.is_direct = True
    rating.direct_reason = reason
    rating.stars = stars
    rating.previous_stars = previous.stars if previous else None
    rating.change = _change(rating.previous_stars, stars)
    rating.status = RatingStatus.FINAL
    rating.finalized_at = timezone.now()
    rating.finalized_by = user
    rating.save()
    _step(rating, RatingAction.DIRECT, user, from_status=from_status, reason=reason, detail={"stars": stars})
    return rating
