"""星级评定方案 pages: the list, a scheme with its problems and versions, the structure editor."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render

from assessments import selectors
from assessments.choices import IndicatorKind, SchemeStatus, ScoringMethod
from assessments.forms import NewVersionForm, PageFilter
from assessments.metrics import METRICS, metric_available
from assessments.models import AssessmentScheme
from assessments.services.schemes import (
    scheme_activate,
    scheme_check,
    scheme_new_version,
    scheme_save,
    scheme_structure,
)
from assessments.views.base import bad_query, errors_to_form, flash_errors, paginate
from core.access import CHANGE, VIEW, get_for_user, refuse_read_only, user_can
from core.numbers import is_number
from core.versioning import VersionConflict, changed_values, form_version, page_conflict, page_edit
from organizations.choices import OrgType
from organizations.models import Organization


@login_required
def scheme_list(request: HttpRequest) -> HttpResponse:
    form = PageFilter(request.GET)
    if not form.is_valid():
        return bad_query(form)
    qs = selectors.scheme_list(user=request.user)
    if form.cleaned_data["year"]:
        qs = qs.filter(year=form.cleaned_data["year"])
    page = paginate(request, qs, form.cleaned_data["page"])
    return render(request, "assessments/scheme_list.html", {"page": page, "form": form})


def _scheme_context(request: HttpRequest, scheme: AssessmentScheme, **extra: Any) -> dict[str, Any]:
    sections = list(scheme.sections.prefetch_related("indicators").order_by("order", "pk"))
    problems = scheme_check(scheme_structure(scheme))
    return {
        "scheme": scheme,
        "sections": sections,
        "bands": list(scheme.bands.select_related("required_indicator").order_by("-min_points")),
        "problems": [m for msgs in problems.values() for m in msgs],
        "can_change": user_can(request.user, CHANGE, scheme),
        "metrics": {code: (m, metric_available(code)) for code, m in METRICS.items()},
        "version_form": extra.pop("version_form", None)
        or NewVersionForm(user=request.user, initial={"year": scheme.year}),
        **extra,
    }


@login_required
def scheme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = get_for_user(AssessmentScheme.objects.select_related("organization"), request.user, VIEW, pk=pk)
    version_form = None
    if request.method == "POST":
        refuse_read_only(request.user)
        action = request.POST.get("action")
        try:
            if action == "activate":
                scheme = get_for_user(AssessmentScheme, request.user, CHANGE, pk=pk)
                scheme_activate(scheme=scheme, user=request.user)
                messages.success(request, "方案已启用")
                return redirect("assessments:scheme-detail", pk=pk)
            if action == "new_version":
                version_form = NewVersionForm(request.POST, user=request.user)
                if version_form.is_valid():
                    org = get_for_user(Organization, request.user, CHANGE, pk=version_form.cleaned_data["organization"])
                    new = scheme_new_version(
                        scheme=scheme, organization=org, year=version_form.cleaned_data["year"], user=request.user
                    )
                    messages.success(request, f"已复制为新版本（第{new.version}版，草稿）")
                    return redirect("assessments:scheme-edit", pk=new.pk)
            else:
                return HttpResponseBadRequest("未知操作")
        except ValidationError as exc:
            if version_form is not None:
                errors_to_form(version_form, exc)
            else:
                flash_errors(request, exc)
    return render(
        request, "assessments/scheme_detail.html", _scheme_context(request, scheme, version_form=version_form)
    )


def _count(post: Any, name: str, limit: int = 200) -> int:
    raw = post.get(name, "0") or "0"
    return min(int(raw), limit) if is_number(raw) else 0


def _structure_from_post(post: Any, base: dict[str, Any]) -> dict[str, Any]:
    """Rebuild a scheme structure from the editor's fields (rows marked for deletion dropped,
    blank new rows ignored)."""
    data = {
        "name": post.get("name", "").strip(),
        "year": int(post["year"]) if is_number(post.get("year", "")) else None,
        "org_type": post.get("org_type", ""),
        "total_points": post.get("total_points", "").strip(),
        "publicity_days": int(post["publicity_days"]) if is_number(post.get("publicity_days", "")) else 5,
        "description": post.get("description", ""),
        "is_example": base.get("is_example", False),
        "sections": [],
        "bands": [],
    }
    s_count = _count(post, "section_count")
    for s in range(s_count):
        prefix = f"s{s}"
        if post.get(f"{prefix}-delete") or not post.get(f"{prefix}-name", "").strip():
            continue
        section = {
            "code": post.get(f"{prefix}-code", "").strip() or f"S{s + 1}",
            "name": post.get(f"{prefix}-name", "").strip(),
            "max_points": post.get(f"{prefix}-max_points", "").strip(),
            "indicators": [],
        }
        i_count = _count(post, f"{prefix}-count")
        for i in range(i_count):
            ip = f"{prefix}i{i}"
            if post.get(f"{ip}-delete") or not post.get(f"{ip}-name", "").strip():
                continue
            steps = []
            for part in post.get(f"{ip}-mapping", "").replace("，", ",").replace("：", ":").split(","):
                if ":" in part:
                    low, points = part.split(":", 1)
                    steps.append({"min": low.strip(), "points": points.strip()})
            section["indicators"].append(
                {
                    "code": post.get(f"{ip}-code", "").strip(),
                    "name": post.get(f"{ip}-name", "").strip(),
                    "kind": post.get(f"{ip}-kind", IndicatorKind.SCORE),
                    "method": post.get(f"{ip}-method", ScoringMethod.MANUAL),
                    "metric_code": post.get(f"{ip}-metric_code", ""),
                    "mapping_type": post.get(f"{ip}-mapping_type", "linear"),
                    "mapping": steps,
                    "threshold": post.get(f"{ip}-threshold", "").strip() or None,
                    "max_points": post.get(f"{ip}-max_points", "").strip() or "0",
                    "veto_cap_stars": int(post.get(f"{ip}-veto_cap_stars", "0") or 0)
                    if is_number(post.get(f"{ip}-veto_cap_stars", "0"))
                    else -1,
                    "guidance": post.get(f"{ip}-guidance", ""),
                    "evidence_hint": post.get(f"{ip}-evidence_hint", ""),
                }
            )
        data["sections"].append(section)
    b_count = _count(post, "band_count", limit=10)
    for b in range(b_count):
        bp = f"b{b}"
        if post.get(f"{bp}-delete") or not post.get(f"{bp}-min_points", "").strip():
            continue
        stars = post.get(f"{bp}-stars", "")
        data["bands"].append(
            {
                "stars": int(stars) if is_number(stars) else -1,
                "label": post.get(f"{bp}-label", "").strip(),
                "min_points": post.get(f"{bp}-min_points", "").strip(),
                "max_points": post.get(f"{bp}-max_points", "").strip() or None,
                "required_indicator": post.get(f"{bp}-required_indicator", "").strip(),
                "quota_percent": post.get(f"{bp}-quota_percent", "").strip() or None,
            }
        )
    return data


def _with_blank_rows(data: dict[str, Any]) -> dict[str, Any]:
    blank_indicator = {"code": "", "name": "", "kind": "score", "method": "manual", "max_points": "", "mapping": []}
    for section in data["sections"]:
        section["indicators"] = [*section["indicators"], dict(blank_indicator)]
    data["sections"] = [
        *data["sections"],
        {"code": "", "name": "", "max_points": "", "indicators": [dict(blank_indicator)]},
    ]
    data["bands"] = [
        *data["bands"],
        {"stars": "", "label": "", "min_points": "", "max_points": "", "required_indicator": "", "quota_percent": ""},
    ]
    for section in data["sections"]:
        for indicator in section["indicators"]:
            indicator["mapping_text"] = ", ".join(f"{s['min']}:{s['points']}" for s in indicator.get("mapping") or [])
    return data


SCHEME_LABELS = {
    "name": "方案名称",
    "year": "适用年度",
    "org_type": "适用组织类别",
    "total_points": "满分",
    "publicity_days": "公示天数",
    "description": "说明",
}
INDICATOR_LABELS = {
    "name": "名称",
    "kind": "类型",
    "method": "评分方式",
    "metric_code": "系统指标",
    "mapping_text": "分档",
    "threshold": "阈值",
    "max_points": "分值",
    "veto_cap_stars": "否决后最高星级",
}
BAND_LABELS = {
    "label": "名称",
    "min_points": "最低分",
    "max_points": "最高分",
    "required_indicator": "必备指标",
    "quota_percent": "名额比例",
}


def _by_key(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {str(row.get(key)): row for row in rows}


def _pairs(saved: list[dict[str, Any]], typed: list[dict[str, Any]], key: str) -> list[tuple[str, dict, dict]]:
    """Rows of both lists matched by ``key``, in the saved order, then the typed-only ones."""
    a, b = _by_key(saved, key), _by_key(typed, key)
    return [(k, a.get(k, {}), b.get(k, {})) for k in [*a, *(k for k in b if k not in a)]]


def _shown(row: dict[str, Any], name: str) -> Any:
    value = row.get(name)
    if name == "kind" and value in IndicatorKind.values:
        return IndicatorKind(value).label
    if name == "method" and value in ScoringMethod.values:
        return ScoringMethod(value).label
    if name == "org_type" and value in OrgType.values:
        return OrgType(value).label
    if name == "mapping_text":
        return ", ".join(f"{step['min']}:{step['points']}" for step in row.get("mapping") or [])
    return value


def scheme_changes(saved: dict[str, Any], typed: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(label, saved, typed) for every field of a scheme structure, matched section by section
    and indicator by indicator on their codes and bands on their stars (#17.3 conflict table)."""
    rows = [(label, _shown(saved, name), _shown(typed, name)) for name, label in SCHEME_LABELS.items()]
    for code, a, b in _pairs(saved.get("sections", []), typed.get("sections", []), "code"):
        if not a or not b:
            rows.append((f"板块 {code}", a.get("name", "（无此板块）"), b.get("name", "（无此板块）")))
            continue
        rows += [
            (f"板块 {code} · 名称", a["name"], b["name"]),
            (f"板块 {code} · 分值", a["max_points"], b["max_points"]),
        ]
        for icode, ia, ib in _pairs(a.get("indicators", []), b.get("indicators", []), "code"):
            if not ia or not ib:
                rows.append((f"指标 {icode}", ia.get("name", "（无此指标）"), ib.get("name", "（无此指标）")))
                continue
            rows += [
                (f"指标 {icode} · {label}", _shown(ia, name), _shown(ib, name))
                for name, label in INDICATOR_LABELS.items()
            ]
    for stars, a, b in _pairs(saved.get("bands", []), typed.get("bands", []), "stars"):
        if not a or not b:
            rows.append((f"{stars} 星档次", a.get("min_points", "（无此档次）"), b.get("min_points", "（无此档次）")))
            continue
        rows += [(f"{stars} 星档次 · {label}", a.get(name), b.get(name)) for name, label in BAND_LABELS.items()]
    return rows


@login_required
def scheme_edit(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = get_for_user(AssessmentScheme.objects.select_related("organization"), request.user, CHANGE, pk=pk)
    if scheme.status != SchemeStatus.DRAFT:
        messages.error(request, "只有草稿状态的方案可以修改；请先复制为新版本")
        return redirect("assessments:scheme-detail", pk=pk)
    data = scheme_structure(scheme)
    errors: list[str] = []
    conflict = None
    if request.method == "POST":
        data = _structure_from_post(request.POST, data)
        try:
            with page_edit(request, scheme):  # #17.3: a stale copy never overwrites
                scheme_save(organization=scheme.organization, data=data, scheme=scheme, user=request.user)
        except VersionConflict:
            current = AssessmentScheme.objects.get(pk=pk)
            conflict = page_conflict(current, changed_values(scheme_changes(scheme_structure(current), data)))
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, "方案已保存（校验通过），可以启用")
            return redirect("assessments:scheme-detail", pk=pk)
    return render(
        request,
        "assessments/scheme_edit.html",
        {
            "scheme": scheme,
            "data": _with_blank_rows(data),
            "errors": errors,
            "conflict": conflict,
            "row_version": form_version(request, scheme, conflict),
            "org_types": OrgType.choices,
            "kinds": IndicatorKind.choices,
            "methods": ScoringMethod.choices,
            "metrics": list(METRICS.values()),
        },
        status=409 if conflict else 200,
    )
