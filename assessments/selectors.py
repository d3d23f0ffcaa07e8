"""Reads for assessments: lists through the gate, rating history, open rectifications."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, F, Q, QuerySet, Value, When
from django.db.models.fields import BooleanField

from assessments.choices import DutyReportStatus, RatingStatus, RectificationStatus
from assessments.models import (
    AssessmentRound,
    AssessmentScheme,
    DutyReport,
    InspectionReport,
    Rating,
    RectificationItem,
    ReportBatch,
    ReportHeading,
    member_ancestor_paths,
)
from core.access import VIEW, get_scope
from organizations.models import Organization


def _subtree_q(org: Organization, prefix: str = "organization__") -> Q:
    return Q(**{f"{prefix}path__startswith": org.path})


# --- rectification --------------------------------------------------------------------------------


def rectification_open_items(org_subtree: Organization, on: date) -> QuerySet[RectificationItem]:
    """Items not yet signed off in ``org_subtree`` (the organization and everything below it), with
    ``is_overdue`` annotated for ``on``. For reminders and the next quarterly report."""
    return (
        RectificationItem.objects.filter(_subtree_q(org_subtree))
        .exclude(status=RectificationStatus.CLOSED)
        .annotate(
            is_overdue=Case(
                When(Q(status=RectificationStatus.OPEN, deadline__lt=on), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .select_related("organization")
        .order_by("deadline", "pk")
    )


def rectification_due_counts(*, org: Organization, start: date, end: date) -> dict[str, int]:
    """Items whose deadline falls in [start, end], and how many were closed on time."""
    return RectificationItem.objects.filter(_subtree_q(org), deadline__gte=start, deadline__lte=end).aggregate(
        due=Count("pk"),
        closed_on_time=Count("pk", filter=Q(status=RectificationStatus.CLOSED, completed_on__lte=F("deadline"))),
    )


def rectification_list(
    *, user: Any, organization: Organization | None = None, status: str = "", search: str = ""
) -> QuerySet[RectificationItem]:
    qs = RectificationItem.objects.visible_to(user, VIEW).select_related("organization")
    if organization is not None:
        qs = qs.filter(_subtree_q(organization))
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(Q(problem__icontains=search) | Q(organization__name__icontains=search))
    return qs.order_by("status", "deadline", "pk")


# --- 述职评议 ----------------------------------------------------------------------------------------


def duty_appraisal_rate(*, org: Organization, year: int) -> Decimal | None:
    """Share of 好 + 较好 votes (or score / 100) of the organization's appraised report that year."""
    report = DutyReport.objects.filter(organization=org, year=year, status=DutyReportStatus.APPRAISED).first()
    if report is None:
        return None
    total = report.votes_total
    if total:
        return Decimal((report.count_good or 0) + (report.count_fairly_good or 0)) / Decimal(total)
    if report.score is not None:
        return report.score / Decimal(100)
    return None


def duty_report_list(*, user: Any, year: int | None = None) -> QuerySet[DutyReport]:
    qs = DutyReport.objects.visible_to(user, VIEW).select_related("organization")
    if year:
        qs = qs.filter(year=year)
    return qs.order_by("-year", "organization__path")


# --- schemes and ratings ----------------------------------------------------------------------------


def scheme_list(*, user: Any) -> QuerySet[AssessmentScheme]:
    return (
        AssessmentScheme.objects.visible_to(user, VIEW)
        .select_related("organization")
        .annotate(section_count=Count("sections", distinct=True))
        .order_by("-year", "org_type", "-version", "pk")
    )


def round_list(*, user: Any) -> QuerySet[AssessmentRound]:
    return (
        AssessmentRound.objects.visible_to(user, VIEW)
        .select_related("organization", "scheme")
        .annotate(
            rating_count=Count("ratings", distinct=True),
            final_count=Count("ratings", filter=Q(ratings__status=RatingStatus.FINAL), distinct=True),
        )
        .order_by("-year", "-pk")
    )


def rating_list(
    *,
    user: Any,
    year: int | None = None,
    status: str = "",
    round_id: int | None = None,
    organization: Organization | None = None,
) -> QuerySet[Rating]:
    qs = Rating.objects.visible_to(user, VIEW).select_related("organization", "round__organization", "round__scheme")
    if year:
        qs = qs.filter(year=year)
    if status:
        qs = qs.filter(status=status)
    if round_id:
        qs = qs.filter(round_id=round_id)
    if organization is not None:
        qs = qs.filter(_subtree_q(organization))
    return qs.order_by("-year", "organization__path")


def rating_history(*, organization: Organization) -> list[Rating]:
    """Final ratings of an organization, newest first (升星/降星 with ``change``)."""
    return list(
        Rating.objects.filter(organization=organization, status=RatingStatus.FINAL)
        .select_related("round__scheme")
        .order_by("-year", "-finalized_at")
    )


def star_distribution(*, round_: AssessmentRound) -> list[dict[str, Any]]:
    rows = round_.ratings.filter(status=RatingStatus.FINAL).values("stars").annotate(n=Count("pk"))
    counts = {row["stars"]: row["n"] for row in rows}
    total = round_.ratings.count()
    bands = list(round_.scheme.bands.order_by("-stars"))
    return [
        {
            "stars": band.stars,
            "label": band.label,
            "count": counts.get(band.stars, 0),
            "quota_percent": band.quota_percent,
            "total": total,
        }
        for band in bands
    ]


# --- reports ----------------------------------------------------------------------------------------


def report_list(
    *,
    user: Any,
    year: int | None = None,
    quarter: int | None = None,
    organization: Organization | None = None,
    kind: str = "",
) -> QuerySet[InspectionReport]:
    qs = InspectionReport.objects.visible_to(user, VIEW).select_related("organization")
    if year:
        qs = qs.filter(year=year)
    if quarter:
        qs = qs.filter(quarter=quarter)
    if organization is not None:
        qs = qs.filter(_subtree_q(organization))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-year", "-quarter", "organization__path", "kind")


def batch_list(*, user: Any) -> QuerySet[ReportBatch]:
    return ReportBatch.objects.visible_to(user, VIEW).select_related("organization").order_by("-pk")


def report_heading_list(*, user: Any) -> QuerySet[ReportHeading]:
    return ReportHeading.objects.visible_to(user, VIEW).select_related("organization").order_by("organization__path")


def publicity_ratings(*, user: Any, on: date) -> QuerySet[Rating]:
    """Ratings in 公示 that this user may read and comment on: those the access gate opens (the
    organization's own people and the reviewing committee), and, for a party member, every rating
    of a round that covers the member's own organization — a 公示 is published to the party
    members of the committee that runs the round. Only the result is shown to members (stars and
    dates), never the scores by indicator."""
    in_publicity = Q(status=RatingStatus.PUBLICITY, publicity_start__lte=on)
    visible = Rating.objects.visible_to(user, VIEW).filter(in_publicity).values("pk")
    condition = Q(pk__in=visible)
    scope = get_scope(user)
    if scope.member_id:
        condition |= in_publicity & Q(round__organization__path__in=member_ancestor_paths(scope))
    return (
        Rating.objects.filter(condition)
        .select_related("organization", "round__organization")
        .order_by("round__organization__path", "organization__path")
    )
