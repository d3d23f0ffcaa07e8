"""Writes and rules for star-rating schemes: validation, saving a whole structure, versions.

A scheme is edited as one structure (sections → indicators, bands) and validated as a whole:
bands must cover 0..total without gaps or overlaps, indicator points stay within their maximum,
section totals add up. Messages are in Chinese and keyed by field; nothing is written on refusal.

Writes that take the acting ``user`` check, through the gate, that the user may change the
scheme's organization (``PermissionDenied`` otherwise); ``scheme_seed`` is the system path with
no user (the seeded examples).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from assessments.choices import IndicatorKind, MappingType, SchemeStatus, ScoringMethod
from assessments.metrics import METRICS
from assessments.models import AssessmentScheme, SchemeBand, SchemeIndicator, SchemeSection
from audit.services import audit_log
from core.access import CHANGE, VIEW, user_can
from organizations.choices import OrgType

SCHEME_FIELDS = ("name", "year", "org_type", "total_points", "publicity_days", "description", "is_example")


def _dec(value: Any, label: str, errors: list[str]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.append(f"{label}应为数字")
        return None
    if not result.is_finite():
        errors.append(f"{label}应为数字")
        return None
    return result


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return "∞"
    text = format(value.normalize(), "f")
    return text


def scheme_check(data: dict[str, Any]) -> dict[str, list[str]]:
    """All problems of a scheme structure, keyed by field ({} when it is valid)."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    general: list[str] = []
    total = _dec(data.get("total_points"), "满分", general)
    for message in general:
        add("total_points", message)
    if total is not None and total <= 0:
        add("total_points", "满分应大于 0")
    if data.get("org_type") not in OrgType.values:
        add("org_type", "未知的组织类别")
    year = data.get("year")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        add("year", "年度应在 2000 至 2100 之间")
    if not str(data.get("name") or "").strip():
        add("name", "请填写方案名称")

    sections = data.get("sections") or []
    if not sections:
        add("sections", "方案至少应有一个板块")
    indicator_codes: set[str] = set()
    section_codes: set[str] = set()
    section_sum = Decimal(0)
    for s_index, section in enumerate(sections, start=1):
        s_name = section.get("name") or f"第{s_index}个板块"
        s_code = str(section.get("code") or f"S{s_index}").strip()
        if s_code in section_codes:
            add("sections", f"板块编号 {s_code} 重复")
        section_codes.add(s_code)
        s_errors: list[str] = []
        s_max = _dec(section.get("max_points"), f"板块「{s_name}」的分值", s_errors)
        for message in s_errors:
            add("sections", message)
        if s_max is None:
            add("sections", f"请填写板块「{s_name}」的分值")
            s_max = Decimal(0)
        section_sum += s_max
        scored = Decimal(0)
        for i_index, indicator in enumerate(section.get("indicators") or [], start=1):
            name = indicator.get("name") or f"{s_name}第{i_index}项"
            code = str(indicator.get("code") or "").strip()
            if not code:
                add("indicators", f"指标「{name}」缺少编号")
            elif code in indicator_codes:
                add("indicators", f"指标编号 {code} 重复")
            indicator_codes.add(code)
            kind = indicator.get("kind", IndicatorKind.SCORE)
            method = indicator.get("method", ScoringMethod.MANUAL)
            if kind not in IndicatorKind.values:
                add("indicators", f"指标「{name}」的类型无效")
                continue
            if method not in ScoringMethod.values:
                add("indicators", f"指标「{name}」的评分方式无效")
                continue
            i_errors: list[str] = []
            i_max = _dec(indicator.get("max_points", 0), f"指标「{name}」的分值", i_errors) or Decimal(0)
            threshold = _dec(indicator.get("threshold"), f"指标「{name}」的阈值", i_errors)
            for message in i_errors:
                add("indicators", message)
            if kind != IndicatorKind.VETO and i_max <= 0:
                add("indicators", f"指标「{name}」的分值应大于 0")
            if i_max < 0:
                add("indicators", f"指标「{name}」的分值不能为负数")
            if kind in (IndicatorKind.SCORE, IndicatorKind.BONUS):
                scored += i_max
            if kind == IndicatorKind.VETO:
                cap = indicator.get("veto_cap_stars", 0)
                if not isinstance(cap, int) or not 0 <= cap <= 5:
                    add("indicators", f"一票否决项「{name}」的最高星级应为 0–5")
            if method == ScoringMethod.COMPUTED:
                metric = indicator.get("metric_code") or ""
                if metric not in METRICS:
                    add("indicators", f"指标「{name}」引用了未知的系统指标「{metric}」")
                mapping_type = indicator.get("mapping_type") or MappingType.LINEAR
                if mapping_type not in MappingType.values:
                    add("indicators", f"指标「{name}」的换算方式无效")
                if mapping_type == MappingType.STEPS and kind in (IndicatorKind.SCORE, IndicatorKind.BONUS):
                    steps = indicator.get("mapping") or []
                    if not steps:
                        add("indicators", f"指标「{name}」按分档换算，但没有填写档次")
                    for step in steps:
                        s_err: list[str] = []
                        points = _dec(step.get("points"), f"指标「{name}」的档次分值", s_err)
                        _dec(step.get("min"), f"指标「{name}」的档次阈值", s_err)
                        for message in s_err:
                            add("indicators", message)
                        if points is not None and points > i_max:
                            add(
                                "indicators",
                                f"指标「{name}」的档次分值 {_fmt(points)} 分超过该指标分值 {_fmt(i_max)} 分",
                            )
                        if points is not None and points < 0:
                            add("indicators", f"指标「{name}」的档次分值不能为负数")
                if threshold is not None and threshold < 0:
                    add("indicators", f"指标「{name}」的阈值不能为负数")
        if scored != s_max:
            add(
                "sections",
                f"板块「{s_name}」各计分指标分值合计 {_fmt(scored)} 分，与板块分值 {_fmt(s_max)} 分不一致",
            )
    if total is not None and sections and section_sum != total:
        add("total_points", f"各板块分值合计 {_fmt(section_sum)} 分，与方案满分 {_fmt(total)} 分不一致")

    _check_bands(data.get("bands") or [], total, indicator_codes, add)
    return errors


def _check_bands(bands: list[dict[str, Any]], total: Decimal | None, codes: set[str], add: Any) -> None:
    if not bands:
        add("bands", "请设置星级档次")
        return
    parsed = []
    quota_sum = Decimal(0)
    for band in bands:
        label = band.get("label") or f"{band.get('stars')}星"
        b_errors: list[str] = []
        low = _dec(band.get("min_points"), f"档次「{label}」的最低分", b_errors)
        high = _dec(band.get("max_points"), f"档次「{label}」的最高分", b_errors)
        quota = _dec(band.get("quota_percent"), f"档次「{label}」的名额比例", b_errors)
        for message in b_errors:
            add("bands", message)
        stars = band.get("stars")
        if not isinstance(stars, int) or not 0 <= stars <= 5:
            add("bands", f"档次「{label}」的星级应为 0–5")
            continue
        if low is None:
            add("bands", f"请填写档次「{label}」的最低分")
            continue
        if high is not None and high <= low:
            add("bands", f"档次「{label}」的最高分应大于最低分")
            continue
        if quota is not None:
            if not 0 < quota <= 100:
                add("bands", f"档次「{label}」的名额比例应在 0–100% 之间")
            else:
                quota_sum += quota
        required = band.get("required_indicator") or ""
        if required and required not in codes:
            add("bands", f"档次「{label}」的必备条件引用了不存在的指标「{required}」")
        parsed.append((low, high, stars, label))
    if quota_sum > 100:
        add("bands", f"各档次名额比例合计 {_fmt(quota_sum)}%，超过 100%")
    parsed.sort(key=lambda b: b[0])
    if not parsed:
        return
    if parsed[0][0] > 0:
        add("bands", f"星级档次未覆盖 0–{_fmt(parsed[0][0])} 分")
    seen_stars: set[int] = set()
    for index, (_low, high, stars, label) in enumerate(parsed):
        if stars in seen_stars:
            add("bands", f"星级 {stars} 重复设置了多个档次")
        seen_stars.add(stars)
        if index + 1 < len(parsed):
            next_low, _next_high, next_stars, next_label = parsed[index + 1]
            if high is None or high > next_low:
                add("bands", f"档次「{label}」与「{next_label}」的分数区间重叠")
            elif high < next_low:
                add("bands", f"星级档次在 {_fmt(high)}–{_fmt(next_low)} 分之间有空档")
            if next_stars <= stars:
                add("bands", f"档次「{next_label}」分数更高，星级应高于「{label}」")
        elif high is not None and (total is None or high <= total):
            add("bands", f"星级档次未覆盖 {_fmt(high)} 分及以上")


def _write_structure(scheme: AssessmentScheme, data: dict[str, Any]) -> None:
    scheme.bands.all().delete()
    SchemeIndicator.objects.filter(section__scheme=scheme).delete()
    scheme.sections.all().delete()
    by_code: dict[str, SchemeIndicator] = {}
    for s_order, section_data in enumerate(data.get("sections") or []):
        section = SchemeSection.objects.create(
            scheme=scheme,
            code=str(section_data.get("code") or f"S{s_order + 1}").strip(),
            name=section_data["name"],
            max_points=Decimal(str(section_data["max_points"])),
            order=s_order,
        )
        for i_order, item in enumerate(section_data.get("indicators") or []):
            indicator = SchemeIndicator.objects.create(
                section=section,
                code=str(item["code"]),
                name=item["name"],
                guidance=item.get("guidance", ""),
                kind=item.get("kind", IndicatorKind.SCORE),
                method=item.get("method", ScoringMethod.MANUAL),
                metric_code=item.get("metric_code", "") or "",
                mapping_type=item.get("mapping_type") or MappingType.LINEAR,
                mapping=item.get("mapping") or [],
                threshold=Decimal(str(item["threshold"])) if item.get("threshold") not in (None, "") else None,
                max_points=Decimal(str(item.get("max_points", 0))),
                veto_cap_stars=item.get("veto_cap_stars", 0),
                evidence_hint=item.get("evidence_hint", ""),
                order=i_order,
            )
            by_code[indicator.code] = indicator
    for band in data.get("bands") or []:
        required = band.get("required_indicator") or ""
        SchemeBand.objects.create(
            scheme=scheme,
            stars=band["stars"],
            label=band.get("label") or ("未定星" if band["stars"] == 0 else f"{band['stars']}星"),
            min_points=Decimal(str(band["min_points"])),
            max_points=Decimal(str(band["max_points"])) if band.get("max_points") not in (None, "") else None,
            required_indicator=by_code.get(required) if required else None,
            quota_percent=Decimal(str(band["quota_percent"])) if band.get("quota_percent") not in (None, "") else None,
        )


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _require_change(user: Any, obj: Any) -> None:
    if not user_can(user, CHANGE, obj):
        raise PermissionDenied("无权修改该组织的星级评定方案")


def scheme_save(
    *, organization: Any, data: dict[str, Any], user: Any, scheme: AssessmentScheme | None = None
) -> AssessmentScheme:
    """Create a scheme for ``organization``, or replace a draft scheme's whole structure, after
    validating it. The user must be able to change the organization (and the scheme)."""
    _require_change(user, organization)
    if scheme is not None:
        _require_change(user, scheme)
    return _scheme_write(organization=organization, data=data, scheme=scheme, user=user)


def scheme_seed(*, organization: Any, data: dict[str, Any]) -> AssessmentScheme:
    """System: create a scheme for ``organization`` with no acting user (the examples that
    ``seed_assessment_schemes`` installs). Trusts its caller: no access check; validated and
    audited like ``scheme_save``."""
    return _scheme_write(organization=organization, data=data, scheme=None, user=None)


@transaction.atomic
def _scheme_write(
    *, organization: Any, data: dict[str, Any], scheme: AssessmentScheme | None, user: Any
) -> AssessmentScheme:
    unknown = set(data) - set(SCHEME_FIELDS) - {"sections", "bands"}
    if unknown:
        raise ValidationError({name: "不支持的字段" for name in sorted(unknown)})
    _raise(scheme_check(data))
    if scheme is not None:
        if scheme.status != SchemeStatus.DRAFT:
            raise ValidationError({"status": "只有草稿状态的方案可以修改；请先复制为新版本"})
        if scheme.rounds.exists():
            raise ValidationError({"status": "该方案已用于星级评定，不能修改；请复制为新版本"})
    else:
        last = (
            AssessmentScheme.objects.filter(organization=organization, year=data["year"], org_type=data["org_type"])
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        scheme = AssessmentScheme(organization=organization, version=(last or 0) + 1)
    for field in SCHEME_FIELDS:
        if field in data:
            setattr(scheme, field, Decimal(str(data[field])) if field == "total_points" else data[field])
    scheme.save()
    _write_structure(scheme, data)
    audit_log(
        event="assessment_scheme_save",
        user=user,
        obj=scheme,
        organization=scheme.organization,
        detail={"name": scheme.name, "year": scheme.year, "version": scheme.version},
    )
    return scheme


def scheme_structure(scheme: AssessmentScheme) -> dict[str, Any]:
    """The editable structure of a scheme (the same shape ``scheme_save`` takes)."""
    sections = list(scheme.sections.prefetch_related("indicators").order_by("order", "pk"))
    codes = {i.pk: i.code for s in sections for i in s.indicators.all()}
    return {
        "name": scheme.name,
        "year": scheme.year,
        "org_type": scheme.org_type,
        "total_points": str(scheme.total_points),
        "publicity_days": scheme.publicity_days,
        "description": scheme.description,
        "is_example": scheme.is_example,
        "sections": [
            {
                "code": s.code,
                "name": s.name,
                "max_points": str(s.max_points),
                "indicators": [
                    {
                        "code": i.code,
                        "name": i.name,
                        "guidance": i.guidance,
                        "kind": i.kind,
                        "method": i.method,
                        "metric_code": i.metric_code,
                        "mapping_type": i.mapping_type,
                        "mapping": i.mapping,
                        "threshold": str(i.threshold) if i.threshold is not None else None,
                        "max_points": str(i.max_points),
                        "veto_cap_stars": i.veto_cap_stars,
                        "evidence_hint": i.evidence_hint,
                    }
                    for i in s.indicators.all()
                ],
            }
            for s in sections
        ],
        "bands": [
            {
                "stars": b.stars,
                "label": b.label,
                "min_points": str(b.min_points),
                "max_points": str(b.max_points) if b.max_points is not None else None,
                "required_indicator": codes.get(b.required_indicator_id, ""),
                "quota_percent": str(b.quota_percent) if b.quota_percent is not None else None,
            }
            for b in scheme.bands.order_by("min_points")
        ],
    }


@transaction.atomic
def scheme_activate(*, scheme: AssessmentScheme, user: Any) -> AssessmentScheme:
    _require_change(user, scheme)
    _raise(scheme_check(scheme_structure(scheme)))
    scheme.status = SchemeStatus.ACTIVE
    scheme.save(update_fields=["status", "updated_at"])
    audit_log(event="assessment_scheme_activate", user=user, obj=scheme, organization=scheme.organization)
    return scheme


@transaction.atomic
def scheme_archive(*, scheme: AssessmentScheme, user: Any) -> AssessmentScheme:
    _require_change(user, scheme)
    scheme.status = SchemeStatus.ARCHIVED
    scheme.save(update_fields=["status", "updated_at"])
    audit_log(event="assessment_scheme_archive", user=user, obj=scheme, organization=scheme.organization)
    return scheme


@transaction.atomic
def scheme_new_version(
    *, scheme: AssessmentScheme, organization: Any, user: Any, year: int | None = None
) -> AssessmentScheme:
    """Copy a scheme the user can read (possibly one issued above) as a new draft version for
    ``organization``, which the user must be able to change."""
    if not AssessmentScheme.objects.visible_to(user, VIEW).filter(pk=scheme.pk).exists():
        raise PermissionDenied("无权复制该方案")
    data = scheme_structure(scheme)
    if year is not None:
        data["year"] = year
    data["is_example"] = False
    new = scheme_save(organization=organization, data=data, user=user)
    new.based_on = scheme
    new.save(update_fields=["based_on"])
    return new
