"""Plans (quarterly 计划报备), the calendar, and personal iCalendar feeds.

The feed URL carries a secret token; only its SHA-256 is stored. The feed is the one endpoint
reachable without a session: a wrong or revoked token is a 404.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from activities.choices import MeetingStatus, MeetingType, PlanStatus
from activities.compliance import compliance_items_for, quarter_bounds
from activities.models import Attendance, CalendarFeed, Meeting, Plan, PlanItem
from audit.services import audit_log
from core.access import CHANGE, VIEW, get_scope, user_can
from core.dates import today
from organizations.models import Organization

PLAN_ITEM_FIELDS = ("meeting_type", "planned_on", "start_time", "title", "place")


# --- plans ---------------------------------------------------------------------------------------


@transaction.atomic
def plan_save(
    *,
    user: Any,
    organization: Organization,
    year: int,
    quarter: int,
    items: list[dict[str, Any]],
    note: str = "",
    submit: bool = False,
) -> Plan:
    """Create or replace a branch's plan for one quarter (its items are replaced as a whole). The
    user must record for ``organization``."""
    if not get_scope(user).may_record_for(organization):
        raise PermissionDenied("无权填报该组织的计划")
    if quarter not in (1, 2, 3, 4) or not (2000 <= year <= 2100):
        raise ValidationError({"quarter": "年度或季度无效"})
    start, end = quarter_bounds(year, quarter)
    errors: list[str] = []
    rows: list[PlanItem] = []
    for index, item in enumerate(items, start=1):
        unknown = set(item) - set(PLAN_ITEM_FIELDS)
        if unknown:
            errors.append(f"第 {index} 项：不支持的字段 {', '.join(sorted(unknown))}")
            continue
        meeting_type = item.get("meeting_type")
        planned_on = item.get("planned_on")
        if meeting_type not in MeetingType.values:
            errors.append(f"第 {index} 项：请选择会议类型")
            continue
        if not isinstance(planned_on, dt.date):
            errors.append(f"第 {index} 项：请填写计划日期")
            continue
        if not (start <= planned_on <= end):
            errors.append(f"第 {index} 项：计划日期应在 {year} 年第 {quarter} 季度内")
            continue
        rows.append(
            PlanItem(
                meeting_type=meeting_type,
                planned_on=planned_on,
                start_time=item.get("start_time"),
                title=(item.get("title") or "").strip()[:200],
                place=(item.get("place") or "").strip()[:200],
            )
        )
    if errors:
        raise ValidationError({"items": errors})
    plan, created = Plan.objects.get_or_create(organization=organization, year=year, quarter=quarter)
    plan.note = note.strip()
    if submit and plan.status != PlanStatus.SUBMITTED:
        plan.status = PlanStatus.SUBMITTED
        plan.submitted_at = timezone.now()
    plan.save()
    plan.items.all().delete()
    for row in rows:
        row.plan = plan
    PlanItem.objects.bulk_create(rows)
    audit_log(
        event="plan_save",
        user=user,
        obj=plan,
        organization=organization,
        detail={"year": year, "quarter": quarter, "items": len(rows), "status": plan.status},
    )
    return plan


# --- calendar entries ----------------------------------------------------------------------------


@dataclass
class Entry:
    kind: str  # "meeting", "planned", "deadline"
    day: dt.date
    title: str
    uid: str
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    place: str = ""
    url: str = ""
    organization: str = ""


def calendar_entries(*, user: Any, start: dt.date, end: dt.date) -> list[Entry]:
    """Meetings, planned meetings and compliance deadlines a user cares about, in a date range.

    Managers (secretary, org_admin) get their own organizations' meetings, plans and deadlines
    (org_admins: their organization itself, not the whole subtree, to keep feeds readable);
    members get the meetings they are on the attendance list of. A constant number of queries.
    """
    scope = get_scope(user)
    entries: list[Entry] = []
    recording = scope.recording_paths()
    managed = list(Organization.objects.filter(path__in=recording)) if recording else []
    if managed:
        paths = Q()
        for org in managed:
            paths |= Q(organization__path=org.path) | Q(
                organization__path__startswith=org.path, organization__org_type="group"
            )
        meetings = (
            Meeting.objects.visible_to(user, VIEW)
            .filter(paths, held_on__range=(start, end))
            .select_related("organization")
        )
        entries.extend(_meeting_entry(m) for m in meetings)
        plan_paths = Q()
        for org in managed:
            plan_paths |= Q(plan__organization__path=org.path)
        planned = (
            PlanItem.objects.visible_to(user, VIEW)
            .filter(plan_paths, planned_on__range=(start, end), meeting__isnull=True)
            .select_related("plan__organization")
        )
        entries.extend(_planned_entry(item) for item in planned)
        for year in range(start.year, end.year + 1):
            for org in managed:
                items = compliance_items_for(root=org, orgs=[org], year=year, window=(start, end))[org.pk]
                entries.extend(
                    _deadline_entry(org, item)
                    for item in items
                    if item.status in ("due", "upcoming", "overdue") and start <= item.deadline <= end
                )
    if scope.member_id:
        seen = {e.uid for e in entries}
        rows = (
            Attendance.objects.visible_to(user, VIEW)
            .filter(member_id=scope.member_id, meeting__held_on__range=(start, end))
            .select_related("meeting__organization")
        )
        for row in rows:
            entry = _meeting_entry(row.meeting)
            if entry.uid not in seen:
                entries.append(entry)
    entries.sort(key=lambda e: (e.day, e.start_time or dt.time.min, e.uid))
    return entries


def _planned_entry(item: PlanItem) -> Entry:
    return Entry(
        kind="planned",
        day=item.planned_on,
        start_time=item.start_time,
        title=f"【计划】{item.get_meeting_type_display()} {item.title}".strip(),
        uid=f"plan-{item.pk}",
        place=item.place,
        organization=str(item.plan.organization),
    )


def _deadline_entry(org: Organization, item: Any) -> Entry:
    return Entry(
        kind="deadline",
        day=item.deadline,
        title=f"【截止】{org}：{item.label}（{item.held}/{item.required}）",
        uid=f"due-{org.pk}-{item.kind}-{item.period_start:%Y%m%d}",
        organization=str(org),
    )


def _meeting_entry(meeting: Meeting) -> Entry:
    draft = "（草稿）" if meeting.status == MeetingStatus.DRAFT else ""
    return Entry(
        kind="meeting",
        day=meeting.held_on,
        start_time=meeting.start_time,
        end_time=meeting.end_time,
        title=f"{meeting.type_label} {meeting.title}{draft}".strip(),
        uid=f"meeting-{meeting.pk}",
        url=reverse("activities:meeting", args=[meeting.pk]),
        place=meeting.place,
        organization=str(meeting.organization),
    )


# --- iCalendar (RFC 5545) ------------------------------------------------------------------------


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r", "").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Fold lines longer than 75 octets (RFC 5545 §3.1), never splitting a UTF-8 character."""
    out, current = [], ""
    for char in line:
        if len((current + char).encode("utf-8")) > 75:
            out.append(current)
            current = " " + char
        else:
            current += char
    out.append(current)
    return "\r\n".join(out)


def ical_render(entries: list[Entry], *, name: str = "党建工作日历") -> str:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//partybuilding//activities//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(name)}",
        "X-WR-TIMEZONE:Asia/Shanghai",
        "BEGIN:VTIMEZONE",
        "TZID:Asia/Shanghai",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0800",
        "TZOFFSETTO:+0800",
        "TZNAME:CST",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]
    for entry in entries:
        lines += ["BEGIN:VEVENT", f"UID:{entry.uid}@partybuilding", f"DTSTAMP:{stamp}"]
        if entry.start_time:
            begin = dt.datetime.combine(entry.day, entry.start_time)
            finish = (
                dt.datetime.combine(entry.day, entry.end_time)
                if entry.end_time and entry.end_time > entry.start_time
                else begin + dt.timedelta(hours=1)
            )
            lines += [
                f"DTSTART;TZID=Asia/Shanghai:{begin:%Y%m%dT%H%M%S}",
                f"DTEND;TZID=Asia/Shanghai:{finish:%Y%m%dT%H%M%S}",
            ]
        else:
            lines += [
                f"DTSTART;VALUE=DATE:{entry.day:%Y%m%d}",
                f"DTEND;VALUE=DATE:{entry.day + dt.timedelta(days=1):%Y%m%d}",
            ]
        lines.append(f"SUMMARY:{_escape(entry.title)}")
        if entry.place:
            lines.append(f"LOCATION:{_escape(entry.place)}")
        if entry.organization:
            lines.append(f"DESCRIPTION:{_escape(entry.organization)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


# --- feed tokens ---------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def calendar_feed_create(*, user: Any) -> tuple[CalendarFeed, str]:
    """A new feed for the user; earlier feeds are revoked. Returns (feed, token): the token is
    shown once and never stored. The user acts on their own feed only: there is no organization
    to authorize."""
    CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(user=user, token_hash=_hash(token))
    audit_log(event="calendar_feed_create", user=user, obj=feed, detail={})
    return feed, token


@transaction.atomic
def calendar_feed_revoke(*, user: Any) -> int:
    """Revoke the user's own feeds (every earlier link stops working at once)."""
    count = CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit_log(event="calendar_feed_revoke", user=user, detail={"revoked": count})
    return count


def calendar_feed_user(token: str) -> Any | None:
    """The active user behind a feed token, or None (wrong, revoked, or inactive user)."""
    if not token or len(token) > 100:
        return None
    feed = CalendarFeed.objects.filter(token_hash=_hash(token), revoked_at__isnull=True).select_related("user").first()
    if feed is None or not feed.user.is_active:
        return None
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    return feed.user


def feed_window(on: dt.date | None = None) -> tuple[dt.date, dt.date]:
    on = on or today()
    return on - dt.timedelta(days=90), on + dt.timedelta(days=365)


def can_plan(user: Any, organization: Organization) -> bool:
    return user_can(user, CHANGE, organization)
