"""星级评定公示 for everyone who may read it (party members included): the ratings in 公示 and a
comment form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from assessments import selectors
from assessments.forms import CommentForm
from assessments.models import RatingComment
from assessments.services.ratings import rating_comment
from assessments.views.base import errors_to_form
from core.dates import today
from core.numbers import as_id, is_number


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
                errors_to_form(form, exc)
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
