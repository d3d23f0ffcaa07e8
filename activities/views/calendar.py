"""The calendar page and the personal iCalendar feed."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from activities.calendar import (
    calendar_entries,
    calendar_feed_create,
    calendar_feed_revoke,
    calendar_feed_user,
    feed_window,
    ical_render,
)
from activities.models import CalendarFeed
from core.dates import today


@login_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("month", "")
    try:
        first = dt.date.fromisoformat(f"{raw}-01") if raw else today().replace(day=1)
    except ValueError:
        return HttpResponseBadRequest("月份格式应为 YYYY-MM")
    if not 2000 <= first.year <= 2100:
        return HttpResponseBadRequest("月份超出范围")
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    entries = calendar_entries(user=request.user, start=first, end=last)
    days: dict[dt.date, list] = {}
    for entry in entries:
        days.setdefault(entry.day, []).append(entry)
    prev_month = (first - dt.timedelta(days=1)).replace(day=1)
    next_month = last + dt.timedelta(days=1)
    feed = CalendarFeed.objects.filter(user=request.user, revoked_at__isnull=True).first()
    token = request.session.pop("pb_new_feed_token", None)
    feed_url = request.build_absolute_uri(reverse("activities:feed", args=[token])) if token else ""
    return render(
        request,
        "activities/calendar.html",
        {
            "first": first,
            "days": sorted(days.items()),
            "prev": prev_month,
            "next": next_month,
            "feed": feed,
            "feed_url": feed_url,
        },
    )


@login_required
@require_POST
def calendar_feed(request: HttpRequest) -> HttpResponse:
    if request.POST.get("action") == "revoke":
        calendar_feed_revoke(user=request.user)
        messages.success(request, "日历订阅链接已停用，旧链接立即失效")
    else:
        _, token = calendar_feed_create(user=request.user)
        request.session["pb_new_feed_token"] = token
        messages.success(request, "已生成新的订阅链接（只显示这一次，请复制保存）；旧链接已失效")
    return redirect("activities:calendar")


def calendar_feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The personal iCalendar feed: public by token on purpose (calendar apps cannot log in).
    A wrong or revoked token is a 404."""
    user = calendar_feed_user(token)
    if user is None:
        raise Http404("订阅不存在")
    start, end = feed_window()
    body = ical_render(calendar_entries(user=user, start=start, end=end))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
