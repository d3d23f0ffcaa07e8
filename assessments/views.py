"""考评督查 pages: star ratings, schemes, 述职评议, inspection reports, rectification.

Views are thin: fetch through the gate (404 for foreign objects), parse a form, call a service,
re-display the form with Chinese errors when the service refuses.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from assessments import selectors
from assessments.api.views import report_download_response
from assessments.choices import (
    DutyReportStatus,
    IndicatorKind,
    RatingStatus,
    RectificationStatus,
    ReportStatus,
    SchemeStatus,
    ScoringMethod,
)
from assessments.forms import (
    ORG_SELECT_LIMIT,
    AppraiseForm,
    CommentForm,
    DirectRatingForm,
    DutyReportForm,
    EvidenceForm,
    NewVersionForm,
    PageFilter,
    PublicityForm,
    RatingFilter,
    ReasonForm,
    RectificationFilter,
    RectificationForm,
    RectificationSubmitForm,
    ReportRequestForm,
    RoundOpenForm,
    SignOffForm,
    YearQuarterFilter,
)
from assessments.metrics import METRICS, metric_available
from assessments.models import (
    AssessmentRound,
    AssessmentScheme,
    DutyReport,
    Evidence,
    InspectionReport,
    Rating,
    RatingComment,
    RatingEntry,
    RectificationItem,
    ReportBatch,
)
from assessments.scoring import fmt_points
from assessments.services_duty import (
    can_appraise,
    duty_report_appraise,
    duty_report_save,
    duty_report_submit,
    open_questions_for,
)
from assessments.services_evidence import evidence_add, evidence_path
from assessments.services_ratings import (
    is_org_editor,
    is_round_reviewer,
    rating_comment,
    rating_direct,
    rating_finalize,
    rating_refresh_computed,
    rating_return,
    rating_review,
    rating_self_score,
    rating_start_publicity,
    rating_submit,
    round_open,
)
from assessments.services_rectification import (
    can_sign_off,
    rectification_create,
    rectification_sign_off,
    rectification_submit,
)
from assessments.services_reports import inspection_report_retry, report_batch_request
from assessments.services_schemes import (
    scheme_activate,
    scheme_check,
    scheme_new_version,
    scheme_save,
    scheme_structure,
)
from audit.services import audit_log
from core.access import CHANGE, VIEW, get_for_user, get_scope, refuse_read_only, user_can
from core.dates import today
from core.numbers import as_id, is_number
from organizations.choices import OrgType
from organizations.models import Organization

PAGE_SIZE = 50


def _errors_to_form(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _flash_errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _page(request: HttpRequest, qs: Any, number: int | None) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(number or 1)


def _bad(form: Any) -> HttpResponse:
    return HttpResponseBadRequest("查询参数无效：" + "；".join(f"{k}" for k in form.errors))


# --- index -------------------------------------------------------------------------------------------


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    scope = get_scope(user)
    if scope.is_empty:
        raise Http404
    ratings = Rating.objects.visible_to(user, VIEW)
    context = {
        "rating_counts": dict(ratings.values_list("status").annotate(n=Count("pk")).values_list("status", "n")),
        "publicity_count": selectors.publicity_ratings(user=user, on=today()).count(),
        "open_rectifications": RectificationItem.objects.visible_to(user, VIEW)
        .exclude(status=RectificationStatus.CLOSED)
        .count(),
        "recent_reports": list(
            selectors.report_list(user=user).filter(status=ReportStatus.DONE).order_by("-generated_at")[:5]
        ),
        "can_request_reports": scope.is_org_admin,
        "statuses": RatingStatus,
    }
    return render(request, "assessments/index.html", context)


# --- schemes -----------------------------------------------------------------------------------------


@login_required
def scheme_list(request: HttpRequest) -> HttpResponse:
    form = PageFilter(request.GET)
    if not form.is_valid():
        return _bad(form)
    qs = selectors.scheme_list(user=request.user)
    if form.cleaned_data["year"]:
        qs = qs.filter(year=form.cleaned_data["year"])
    page = _page(request, qs, form.cleaned_data["page"])
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
                _errors_to_form(version_form, exc)
            else:
                _flash_errors(request, exc)
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


@login_required
def scheme_edit(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = get_for_user(AssessmentScheme.objects.select_related("organization"), request.user, CHANGE, pk=pk)
    if scheme.status != SchemeStatus.DRAFT:
        messages.error(request, "只有草稿状态的方案可以修改；请先复制为新版本")
        return redirect("assessments:scheme-detail", pk=pk)
    data = scheme_structure(scheme)
    errors: list[str] = []
    if request.method == "POST":
        data = _structure_from_post(request.POST, data)
        try:
            scheme_save(organization=scheme.organization, data=data, scheme=scheme, user=request.user)
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
            "org_types": OrgType.choices,
            "kinds": IndicatorKind.choices,
            "methods": ScoringMethod.choices,
            "metrics": list(METRICS.values()),
        },
    )


# --- rounds and ratings --------------------------------------------------------------------------------


def _scheme_choices(user: Any) -> list[tuple[int, str]]:
    qs = AssessmentScheme.objects.visible_to(user, VIEW).filter(status=SchemeStatus.ACTIVE).order_by("-year", "name")
    return [(s.pk, f"{s.name}（{s.year}，{OrgType(s.org_type).label}，第{s.version}版）") for s in qs[:200]]


@login_required
def round_list(request: HttpRequest) -> HttpResponse:
    form = RatingFilter(request.GET)
    if not form.is_valid():
        return _bad(form)
    open_form = None
    can_open = get_scope(request.user).is_org_admin
    if can_open:
        open_form = RoundOpenForm(request.POST or None, user=request.user, schemes=_scheme_choices(request.user))
        if request.method == "POST" and open_form.is_valid():
            data = open_form.cleaned_data
            org = get_for_user(Organization, request.user, CHANGE, pk=data["organization"])
            scheme = get_for_user(AssessmentScheme, request.user, VIEW, pk=data["scheme"])
            try:
                round_ = round_open(
                    organization=org,
                    scheme=scheme,
                    year=data["year"],
                    user=request.user,
                    publicity_days=data["publicity_days"],
                    self_assessment_due=data["self_assessment_due"],
                    enforce_quotas=data["enforce_quotas"],
                )
            except ValidationError as exc:
                _errors_to_form(open_form, exc)
            else:
                messages.success(request, f"已开启 {round_.year} 年度星级评定，共 {round_.ratings.count()} 个组织")
                return redirect("assessments:round-detail", pk=round_.pk)
    elif request.method == "POST":
        raise PermissionDenied
    rounds = selectors.round_list(user=request.user)
    ratings = selectors.rating_list(
        user=request.user, year=form.cleaned_data["year"], status=form.cleaned_data["status"]
    )
    page = _page(request, ratings, form.cleaned_data["page"])
    return render(
        request,
        "assessments/round_list.html",
        {"rounds": list(rounds[:20]), "page": page, "form": form, "open_form": open_form},
    )


@login_required
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_for_user(AssessmentRound.objects.select_related("organization", "scheme"), request.user, VIEW, pk=pk)
    reviewer = is_round_reviewer(request.user, round_)
    ratings = list(round_.ratings.select_related("organization").order_by("organization__path"))
    direct_form = None
    if reviewer:
        choices = [(r.organization_id, r.organization.name) for r in ratings if r.status != RatingStatus.FINAL]
        direct_form = DirectRatingForm(request.POST or None, organizations=choices)
        if request.method == "POST" and direct_form.is_valid():
            org = get_for_user(Organization, request.user, VIEW, pk=direct_form.cleaned_data["organization"])
            try:
                rating_direct(
                    round_=round_,
                    organization=org,
                    stars=direct_form.cleaned_data["stars"],
                    reason=direct_form.cleaned_data["reason"],
                    user=request.user,
                )
            except ValidationError as exc:
                _errors_to_form(direct_form, exc)
            else:
                messages.success(request, f"已直接评定 {org}")
                return redirect("assessments:round-detail", pk=pk)
    elif request.method == "POST":
        raise PermissionDenied
    return render(
        request,
        "assessments/round_detail.html",
        {
            "round": round_,
            "ratings": ratings,
            "distribution": selectors.star_distribution(round_=round_),
            "reviewer": reviewer,
            "direct_form": direct_form,
        },
    )


def _parse_scores(post: Any, entries: list[RatingEntry], *, review: bool) -> dict[int, dict[str, Any]]:
    scores: dict[int, dict[str, Any]] = {}
    for entry in entries:
        key = f"points-{entry.indicator_id}"
        if key not in post:
            continue
        values: dict[str, Any] = {"points": post.get(key, "").strip() or None}
        if review:
            values["reason"] = post.get(f"reason-{entry.indicator_id}", "")
        else:
            values["note"] = post.get(f"note-{entry.indicator_id}", "")
            values["evidence_text"] = post.get(f"evidence-{entry.indicator_id}", "")
        scores[entry.indicator_id] = values
    return scores


RATING_ACTIONS = {
    "self_score",
    "submit",
    "refresh",
    "return",
    "review",
    "publicity",
    "comment",
    "finalize",
    "evidence",
}


def _rating_post(request: HttpRequest, rating: Rating, entries: list[RatingEntry], forms: dict[str, Any]) -> bool:
    """Run one action; True when it succeeded (then the page redirects)."""
    action = request.POST.get("action", "")
    if action not in RATING_ACTIONS:
        raise ValidationError({"action": "未知操作"})
    user = request.user
    if action == "self_score":
        rating_self_score(rating=rating, user=user, scores=_parse_scores(request.POST, entries, review=False))
        messages.success(request, "自评已保存")
    elif action == "submit":
        rating_submit(rating=rating, user=user)
        messages.success(request, "自评已提交上级党组织审核")
    elif action == "refresh":
        rating_refresh_computed(rating=rating, user=user)
        messages.success(request, "已重新计算系统得分")
    elif action == "review":
        rating_review(rating=rating, user=user, scores=_parse_scores(request.POST, entries, review=True))
        messages.success(request, "审核分数已保存")
    elif action == "return":
        form = forms["return"] = ReasonForm(request.POST)
        if not form.is_valid():
            return False
        rating_return(rating=rating, user=user, reason=form.cleaned_data["reason"])
        messages.success(request, "已退回自评")
    elif action == "publicity":
        form = forms["publicity"] = PublicityForm(request.POST)
        if not form.is_valid():
            return False
        rating_start_publicity(rating=rating, user=user, start=form.cleaned_data["start"])
        messages.success(request, "已开始公示")
    elif action == "comment":
        form = forms["comment"] = CommentForm(request.POST)
        if not form.is_valid():
            return False
        rating_comment(rating=rating, user=user, text=form.cleaned_data["text"])
        messages.success(request, "意见已提交")
    elif action == "finalize":
        rating_finalize(rating=rating, user=user)
        messages.success(request, "星级已确定")
    elif action == "evidence":
        form = forms["evidence"] = EvidenceForm(request.POST, request.FILES)
        if not form.is_valid():
            return False
        entry = next((e for e in entries if str(e.indicator_id) == request.POST.get("indicator")), None)
        if entry is None:
            raise ValidationError({"indicator": "指标不属于本评定"})
        upload = form.cleaned_data["file"]
        evidence_add(
            user=user,
            target=entry,
            title=form.cleaned_data["title"],
            name=upload.name if upload else "",
            content=upload.read() if upload else None,
            meeting_id=form.cleaned_data["meeting_id"],
        )
        messages.success(request, "佐证材料已添加")
    return True


@login_required
def publicity(request: HttpRequest) -> HttpResponse:
    """星级评定公示: the ratings in 公示 this user may read (party members see their committee's
    round), with the proposed stars and a comment form. Nobody is ranked: organizations are listed
    in tree order."""
    on = today()
    ratings = list(selectors.publicity_ratings(user=request.user, on=on))
    form = CommentForm(request.POST or None)
    chosen = None
    if request.method == "POST":
        raw = request.POST.get("rating", "")
        chosen = next((r for r in ratings if is_number(raw) and r.pk == as_id(raw)), None)
        if chosen is None:
            raise Http404("没有这项公示")
        if form.is_valid():
            try:
                rating_comment(rating=chosen, user=request.user, text=form.cleaned_data["text"], on=on)
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, f"已提交对“{chosen.organization}”的意见")
                return redirect("assessments:publicity")
    mine = {c.rating_id for c in RatingComment.objects.filter(author=request.user, rating__in=ratings)}
    return render(
        request,
        "assessments/publicity.html",
        {"ratings": ratings, "form": form, "chosen": chosen, "commented": mine, "on": on},
        status=400 if form.errors else 200,
    )


@login_required
def rating_detail(request: HttpRequest, pk: int) -> HttpResponse:
    qs = Rating.objects.select_related("organization", "round__organization", "round__scheme")
    rating = get_for_user(qs, request.user, VIEW, pk=pk)
    entries = list(
        rating.entries.select_related("indicator__section")
        .prefetch_related(Prefetch("evidence", queryset=Evidence.objects.order_by("pk")))
        .order_by("indicator__section__order", "indicator__order", "pk")
    )
    forms: dict[str, Any] = {}
    if request.method == "POST":
        try:
            if _rating_post(request, rating, entries, forms):
                return redirect("assessments:rating-detail", pk=pk)
        except ValidationError as exc:
            _flash_errors(request, exc)
            target = forms.get(request.POST.get("action", ""))
            if target is not None:
                _errors_to_form(target, exc)
        rating.refresh_from_db()
        entries = list(
            rating.entries.select_related("indicator__section")
            .prefetch_related("evidence")
            .order_by("indicator__section__order", "indicator__order", "pk")
        )
    editor = is_org_editor(request.user, rating.organization)
    reviewer = is_round_reviewer(request.user, rating.round)
    posted = request.POST if request.method == "POST" else {}
    for entry in entries:
        entry.posted_points = posted.get(f"points-{entry.indicator_id}")
        entry.posted_note = posted.get(f"note-{entry.indicator_id}") or posted.get(f"reason-{entry.indicator_id}")
        entry.max_display = (
            "1（是）" if entry.indicator.kind == IndicatorKind.VETO else fmt_points(entry.indicator.max_points)
        )
    today_ = today()
    context = {
        "rating": rating,
        "entries": entries,
        "editor": editor and rating.status == RatingStatus.DRAFT,
        "reviewer": reviewer,
        "can_review": reviewer and rating.status == RatingStatus.SUBMITTED,
        "can_comment": rating.status == RatingStatus.PUBLICITY
        and rating.publicity_end is not None
        and today_ <= rating.publicity_end,
        "can_finalize": reviewer and rating.status == RatingStatus.PUBLICITY,
        "publicity_over": rating.publicity_end is not None and today_ > rating.publicity_end,
        "comments": list(rating.comments.order_by("pk")),
        "steps": list(rating.steps.order_by("pk")),
        "history": selectors.rating_history(organization=rating.organization),
        "return_form": forms.get("return") or ReasonForm(),
        "publicity_form": forms.get("publicity") or PublicityForm(initial={"start": today_}),
        "comment_form": forms.get("comment") or CommentForm(),
        "evidence_form": forms.get("evidence") or EvidenceForm(),
        "bands": list(rating.round.scheme.bands.order_by("-min_points")),
    }
    return render(request, "assessments/rating_detail.html", context)


@login_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    evidence = get_for_user(Evidence.objects.select_related("organization"), request.user, VIEW, pk=pk)
    if not evidence.file:
        raise Http404
    path = evidence_path(evidence)
    if not path.is_file():
        raise Http404
    audit_log(event="assessment_evidence_download", obj=evidence, organization=evidence.organization)
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=evidence.original_name or path.name,
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


# --- 述职评议 ---------------------------------------------------------------------------------------------


@login_required
def duty_list(request: HttpRequest) -> HttpResponse:
    form = PageFilter(request.GET)
    if not form.is_valid():
        return _bad(form)
    qs = selectors.duty_report_list(user=request.user, year=form.cleaned_data["year"])
    page = _page(request, qs, form.cleaned_data["page"])
    return render(
        request, "assessments/duty_list.html", {"page": page, "form": form, "editable": _editor_orgs(request.user)}
    )


def _editor_orgs(user: Any) -> list[tuple[int, str]]:
    """Organizations the user works in directly (a read-write role on the organization itself)."""
    paths = {rule.path for rule in get_scope(user).rules[CHANGE]}
    qs = Organization.objects.filter(path__in=paths).exclude(org_type=OrgType.GROUP).order_by("path")
    return list(qs.values_list("pk", "name"))


@login_required
def duty_edit(request: HttpRequest, org_pk: int) -> HttpResponse:
    org = get_for_user(Organization, request.user, CHANGE, pk=org_pk)
    if not is_org_editor(request.user, org):
        raise PermissionDenied
    year = request.GET.get("year") or request.POST.get("year") or str(today().year)
    if not is_number(year) or not 2000 <= int(year) <= 2100:
        return HttpResponseBadRequest("年度无效")
    existing = DutyReport.objects.filter(organization=org, year=int(year)).first()
    questions = open_questions_for(organization=org, year=int(year))
    initial = {"year": int(year)}
    if existing:
        initial.update(secretary_name=existing.secretary_name, text=existing.text)
    form = DutyReportForm(request.POST or None, initial=initial, questions=questions)
    if request.method == "POST" and form.is_valid():
        try:
            report = duty_report_save(
                organization=org,
                year=form.cleaned_data["year"],
                user=request.user,
                secretary_name=form.cleaned_data["secretary_name"],
                text=form.cleaned_data["text"],
                answers=form.answers(),
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, "述职报告已保存")
            return redirect("assessments:duty-detail", pk=report.pk)
    return render(request, "assessments/duty_form.html", {"form": form, "org": org, "report": existing})


@login_required
def duty_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_for_user(DutyReport.objects.select_related("organization"), request.user, VIEW, pk=pk)
    editor = is_org_editor(request.user, report.organization)
    appraiser = can_appraise(request.user, report)
    appraise_form = AppraiseForm(request.POST if request.POST.get("action") == "appraise" else None)
    evidence_form = (
        EvidenceForm(request.POST or None, request.FILES or None)
        if request.POST.get("action") == "evidence"
        else EvidenceForm()
    )
    if request.method == "POST":
        refuse_read_only(request.user)
        action = request.POST.get("action")
        try:
            if action == "submit":
                duty_report_submit(report=report, user=request.user)
                messages.success(request, "述职报告已提交")
                return redirect("assessments:duty-detail", pk=pk)
            if action == "appraise":
                if appraise_form.is_valid():
                    data = appraise_form.cleaned_data
                    duty_report_appraise(
                        report=report,
                        user=request.user,
                        counts={k: data[f"count_{k}"] for k in ("good", "fairly_good", "average", "poor")},
                        score=data["score"],
                        note=data["note"],
                        questions=[data["question_1"], data["question_2"]],
                    )
                    messages.success(request, "评议结果已保存")
                    return redirect("assessments:duty-detail", pk=pk)
            elif action == "evidence":
                if evidence_form.is_valid():
                    upload = evidence_form.cleaned_data["file"]
                    evidence_add(
                        user=request.user,
                        target=report,
                        title=evidence_form.cleaned_data["title"],
                        name=upload.name if upload else "",
                        content=upload.read() if upload else None,
                        meeting_id=evidence_form.cleaned_data["meeting_id"],
                    )
                    messages.success(request, "附件已添加")
                    return redirect("assessments:duty-detail", pk=pk)
            else:
                return HttpResponseBadRequest("未知操作")
        except ValidationError as exc:
            _errors_to_form(evidence_form if action == "evidence" else appraise_form, exc)
            _flash_errors(request, exc)
    history = list(
        DutyReport.objects.filter(organization=report.organization).exclude(pk=report.pk).order_by("-year")[:5]
    )
    return render(
        request,
        "assessments/duty_detail.html",
        {
            "report": report,
            "questions": list(report.questions.order_by("pk")),
            "answered": list(report.answered_questions.order_by("pk")),
            "attachments": list(report.attachments.order_by("pk")),
            "editor": editor and report.status != DutyReportStatus.APPRAISED,
            "can_submit": editor and report.status == DutyReportStatus.DRAFT,
            "appraiser": appraiser and report.status == DutyReportStatus.SUBMITTED,
            "appraise_form": appraise_form,
            "evidence_form": evidence_form,
            "history": history,
            "ratings": selectors.rating_history(organization=report.organization),
        },
    )


# --- reports -------------------------------------------------------------------------------------------


def _admin_org_choices(user: Any) -> list[tuple[int, str]]:
    """Organizations under the user's org_admin roles (reports are requested per subtree)."""
    paths = get_scope(user).managed_paths()
    if not paths:
        return []
    q = Q()
    for path in paths:
        q |= Q(path__startswith=path)
    qs = Organization.objects.filter(q).exclude(org_type=OrgType.GROUP).order_by("path")
    return list(qs.values_list("pk", "name")[:ORG_SELECT_LIMIT])


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    form = YearQuarterFilter(request.GET)
    if not form.is_valid():
        return _bad(form)
    data = form.cleaned_data
    qs = selectors.report_list(user=request.user, year=data["year"], quarter=data["quarter"], kind=data["kind"])
    if data["status"]:
        qs = qs.filter(status=data["status"])
    page = _page(request, qs, data["page"])
    scope = get_scope(request.user)
    request_form = None
    if scope.is_org_admin:
        request_form = ReportRequestForm(
            request.POST or None, user=request.user, choices=_admin_org_choices(request.user)
        )
        if request.method == "POST" and request_form.is_valid():
            cleaned = request_form.cleaned_data
            org = get_for_user(Organization, request.user, VIEW, pk=cleaned["organization"])
            try:
                batch = report_batch_request(
                    organization=org,
                    year=cleaned["year"],
                    quarter=cleaned["quarter"],
                    user=request.user,
                    force=cleaned["force"],
                )
            except ValidationError as exc:
                _errors_to_form(request_form, exc)
            else:
                messages.success(request, "已开始生成报告")
                return redirect("assessments:batch-detail", pk=batch.pk)
    elif request.method == "POST":
        raise PermissionDenied
    batches = list(selectors.batch_list(user=request.user)[:5])
    return render(
        request,
        "assessments/report_list.html",
        {"page": page, "form": form, "request_form": request_form, "batches": batches},
    )


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_for_user(ReportBatch.objects.select_related("organization"), request.user, VIEW, pk=pk)
    template = "assessments/_batch_progress.html" if request.htmx else "assessments/batch_detail.html"
    failed = list(batch.reports.filter(status=ReportStatus.FAILED).select_related("organization")[:50])
    return render(request, template, {"batch": batch, "failed": failed})


@login_required
def report_download(request: HttpRequest, pk: int, fmt: str) -> FileResponse:
    if fmt not in ("pdf", "xlsx"):
        raise Http404
    report = get_for_user(InspectionReport.objects.select_related("organization"), request.user, VIEW, pk=pk)
    return report_download_response(report, fmt, request)


@login_required
@require_POST
def report_retry(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_for_user(InspectionReport.objects.select_related("organization"), request.user, VIEW, pk=pk)
    try:
        inspection_report_retry(report=report, user=request.user)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, "已重新排队生成")
    return redirect("assessments:report-list")


# --- rectification ---------------------------------------------------------------------------------------


@login_required
def rectification_list(request: HttpRequest) -> HttpResponse:
    form = RectificationFilter(request.GET)
    if not form.is_valid():
        return _bad(form)
    qs = selectors.rectification_list(
        user=request.user, status=form.cleaned_data["status"], search=form.cleaned_data["q"] or ""
    )
    page = _page(request, qs, form.cleaned_data["page"])
    can_create = bool(get_scope(request.user).rules[CHANGE])
    return render(
        request,
        "assessments/rectification_list.html",
        {"page": page, "form": form, "can_create": can_create, "today": today()},
    )


@login_required
def rectification_new(request: HttpRequest) -> HttpResponse:
    if not get_scope(request.user).rules[CHANGE]:
        raise PermissionDenied
    initial: dict[str, Any] = {}
    report_id = request.GET.get("report", "")
    source_report = None
    if report_id:
        if not is_number(report_id):
            return HttpResponseBadRequest("report 参数无效")
        source_report = get_for_user(InspectionReport, request.user, VIEW, pk=as_id(report_id))
        initial["organization"] = source_report.organization_id
    form = RectificationForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        org = get_for_user(Organization, request.user, VIEW, pk=data["organization"])
        try:
            item = rectification_create(
                organization=org,
                user=request.user,
                problem=data["problem"],
                requirement=data["requirement"],
                owner_name=data["owner_name"],
                deadline=data["deadline"],
                source=data["source"],
                source_report=source_report,
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, "整改事项已登记")
            return redirect("assessments:rectification-detail", pk=item.pk)
    return render(request, "assessments/rectification_form.html", {"form": form, "source_report": source_report})


@login_required
def rectification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_for_user(
        RectificationItem.objects.select_related("organization", "source_report"), request.user, VIEW, pk=pk
    )
    action = request.POST.get("action", "")
    submit_form = RectificationSubmitForm(request.POST if action == "submit" else None)
    sign_form = SignOffForm(request.POST if action == "sign_off" else None)
    evidence_form = EvidenceForm(request.POST, request.FILES) if action == "evidence" else EvidenceForm()
    if request.method == "POST":
        refuse_read_only(request.user)
        try:
            if action == "submit" and submit_form.is_valid():
                rectification_submit(
                    item=item,
                    user=request.user,
                    completion_note=submit_form.cleaned_data["completion_note"],
                    completed_on=submit_form.cleaned_data["completed_on"],
                )
                messages.success(request, "整改情况已报送")
                return redirect("assessments:rectification-detail", pk=pk)
            if action == "sign_off" and sign_form.is_valid():
                rectification_sign_off(
                    item=item,
                    user=request.user,
                    accept=sign_form.cleaned_data["accept"],
                    note=sign_form.cleaned_data["note"],
                )
                messages.success(request, "验收结果已保存")
                return redirect("assessments:rectification-detail", pk=pk)
            if action == "evidence" and evidence_form.is_valid():
                upload = evidence_form.cleaned_data["file"]
                evidence_add(
                    user=request.user,
                    target=item,
                    title=evidence_form.cleaned_data["title"],
                    name=upload.name if upload else "",
                    content=upload.read() if upload else None,
                    meeting_id=evidence_form.cleaned_data["meeting_id"],
                )
                messages.success(request, "整改材料已添加")
                return redirect("assessments:rectification-detail", pk=pk)
            if action not in ("submit", "sign_off", "evidence"):
                return HttpResponseBadRequest("未知操作")
        except ValidationError as exc:
            target = {"submit": submit_form, "sign_off": sign_form, "evidence": evidence_form}[action]
            _errors_to_form(target, exc)
    can_edit = user_can(request.user, CHANGE, item)
    return render(
        request,
        "assessments/rectification_detail.html",
        {
            "item": item,
            "evidence": list(item.evidence.order_by("pk")),
            "can_submit": can_edit and item.status == RectificationStatus.OPEN,
            "can_sign_off": can_sign_off(request.user, item) and item.status == RectificationStatus.SUBMITTED,
            "can_add_evidence": can_edit and item.status != RectificationStatus.CLOSED,
            "submit_form": submit_form,
            "sign_form": sign_form,
            "evidence_form": evidence_form,
            "overdue": item.status == RectificationStatus.OPEN and item.deadline < today(),
        },
    )
