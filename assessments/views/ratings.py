"""星级评定 pages: rounds (opening one, direct ratings for honours) and a rating's whole process
(self-assessment, review, 公示, comment, finalize, evidence) on one page."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from assessments import selectors
from assessments.choices import IndicatorKind, RatingStatus, SchemeStatus
from assessments.forms import (
    CommentForm,
    DirectRatingForm,
    EvidenceForm,
    PublicityForm,
    RatingFilter,
    ReasonForm,
    RoundOpenForm,
)
from assessments.models import AssessmentRound, AssessmentScheme, Evidence, Rating, RatingEntry
from assessments.scoring import fmt_points
from assessments.services.evidence import evidence_add
from assessments.services.ratings import (
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
from assessments.views.base import bad_query, errors_to_form, flash_errors, paginate
from core.access import CHANGE, VIEW, get_for_user, get_scope
from core.dates import today
from core.versioning import VersionConflict, changed_values, form_version, page_conflict, page_edit
from organizations.choices import OrgType
from organizations.models import Organization


def _scheme_choices(user: Any) -> list[tuple[int, str]]:
    qs = AssessmentScheme.objects.visible_to(user, VIEW).filter(status=SchemeStatus.ACTIVE).order_by("-year", "name")
    return [(s.pk, f"{s.name}（{s.year}，{OrgType(s.org_type).label}，第{s.version}版）") for s in qs[:200]]


@login_required
def round_list(request: HttpRequest) -> HttpResponse:
    form = RatingFilter(request.GET)
    if not form.is_valid():
        return bad_query(form)
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
                errors_to_form(open_form, exc)
            else:
                messages.success(request, f"已开启 {round_.year} 年度星级评定，共 {round_.ratings.count()} 个组织")
                return redirect("assessments:round-detail", pk=round_.pk)
    elif request.method == "POST":
        raise PermissionDenied
    rounds = selectors.round_list(user=request.user)
    ratings = selectors.rating_list(
        user=request.user, year=form.cleaned_data["year"], status=form.cleaned_data["status"]
    )
    page = paginate(request, ratings, form.cleaned_data["page"])
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
                errors_to_form(direct_form, exc)
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
            if f"evidence-{entry.indicator_id}" in post:  # the page has no such field: keep what the API wrote
                values["evidence_text"] = post[f"evidence-{entry.indicator_id}"]
        scores[entry.indicator_id] = values
    return scores


def score_changes(entries: list[RatingEntry], post: Any, *, review: bool) -> list[tuple[str, Any, Any]]:
    """(label, saved, typed) of the scores a self-assessment or review form posted (#17.3)."""
    rows: list[tuple[str, Any, Any]] = []
    for entry in entries:
        key = f"points-{entry.indicator_id}"
        if key not in post:
            continue
        name = f"{entry.indicator.code} {entry.indicator.name}"
        if review:
            rows.append((f"{name} · 审核分", entry.review_points, post.get(key)))
            rows.append((f"{name} · 调整理由", entry.review_reason, post.get(f"reason-{entry.indicator_id}")))
        else:
            rows.append((f"{name} · 自评分", entry.self_points, post.get(key)))
            rows.append((f"{name} · 说明", entry.self_note, post.get(f"note-{entry.indicator_id}")))
    return rows


# The actions that edit the scores carry the version (#17.3); the others are steps guarded by the status.
VERSIONED_ACTIONS = {"self_score", "review"}
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
def rating_detail(request: HttpRequest, pk: int) -> HttpResponse:
    qs = Rating.objects.select_related("organization", "round__organization", "round__scheme")
    rating = get_for_user(qs, request.user, VIEW, pk=pk)
    entries = list(
        rating.entries.select_related("indicator__section")
        .prefetch_related(Prefetch("evidence", queryset=Evidence.objects.order_by("pk")))
        .order_by("indicator__section__order", "indicator__order", "pk")
    )
    forms: dict[str, Any] = {}
    conflict = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            with page_edit(request, rating) if action in VERSIONED_ACTIONS else nullcontext():
                done = _rating_post(request, rating, entries, forms)
            if done:
                return redirect("assessments:rating-detail", pk=pk)
        except VersionConflict:
            current = Rating.objects.get(pk=pk)
            fresh = list(
                current.entries.select_related("indicator").order_by(
                    "indicator__section__order", "indicator__order", "pk"
                )
            )
            changes = changed_values(score_changes(fresh, request.POST, review=action == "review"))
            conflict = page_conflict(current, changes, note="分数相同；评定的状态可能已变化，请核对。")
        except ValidationError as exc:
            flash_errors(request, exc)
            target = forms.get(request.POST.get("action", ""))
            if target is not None:
                errors_to_form(target, exc)
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
        "conflict": conflict,
        "row_version": form_version(request, rating, conflict),
    }
    return render(request, "assessments/rating_detail.html", context, status=409 if conflict else 200)
