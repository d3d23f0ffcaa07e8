"""考评督查 landing page: rating counts, 公示 in progress, open rectification items, recent reports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from assessments import selectors
from assessments.choices import RatingStatus, RectificationStatus, ReportStatus
from assessments.models import Rating, RectificationItem
from core.access import VIEW, get_scope
from core.dates import today


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
