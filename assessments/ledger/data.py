"""What a branch's 组织生活台账 for a year holds, as plain data read from activities, members,
dues and organizations (all below this app), rendered by ``pdf.py`` and ``xlsx.py``.

A constant number of queries per branch (meetings with their attendance and resolutions are
prefetched), so a batch over 1,000 branches keeps one branch's year in memory at a time. Only
finished meetings (``status = final``) appear; drafts never do. Study hours are listed per
member in roster order, never ranked.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, Sum

from activities.choices import AttendanceStatus, MeetingStatus, MeetingType
from activities.compliance import compliance_items_for
from activities.models import AppraisalEntry, Attendance, Meeting, StudyRecord, Talk
from core.dates import today
from members.dues.models import DuesMonth
from members.models import OrganizationMembership
from organizations.choices import OrgType, PositionCode
from organizations.models import CommitteeTerm, Organization, Position


@dataclass
class MeetingRecord:
    pk: int
    organization: str
    type_label: str
    held_on: dt.date
    time_text: str
    place: str
    chair: str
    recorder: str
    lecturer: str
    expected: int
    present: int
    on_leave: list[tuple[str, str]]
    absent: list[tuple[str, str]]
    nonvoting: list[str]
    topic: str
    agenda: str
    minutes: str
    resolutions: list[tuple[str, str, str]]  # title, votes, outcome
    follow_ups: list[tuple[str, str, str, str]]  # title, owner, due, status


@dataclass
class Ledger:
    organization: str
    org_type: str
    parent: str
    year: int
    secretary: str
    contact: str
    generated: str
    terms: list[list[Any]] = field(default_factory=list)
    committee: list[list[Any]] = field(default_factory=list)
    groups: list[list[Any]] = field(default_factory=list)
    roster_start: list[str] = field(default_factory=list)
    roster_end: list[str] = field(default_factory=list)
    changes: list[list[Any]] = field(default_factory=list)
    meetings: list[MeetingRecord] = field(default_factory=list)
    talks: list[list[Any]] = field(default_factory=list)
    appraisals: list[list[Any]] = field(default_factory=list)
    study: list[list[Any]] = field(default_factory=list)
    dues: list[list[Any]] = field(default_factory=list)
    dues_totals: list[list[Any]] = field(default_factory=list)  # 实交合计, 应交合计 rows
    calendar: list[list[Any]] = field(default_factory=list)


def _d(day: dt.date | None) -> str:
    return f"{day:%Y-%m-%d}" if day else "—"


def _orgs(org: Organization) -> list[Organization]:
    """The branch and its 党小组, in tree order."""
    return list(
        Organization.objects.filter(
            Q(pk=org.pk) | Q(path__startswith=org.path, depth=org.depth + 1, org_type=OrgType.GROUP)
        ).order_by("path")
    )


def _votes(resolution: Any) -> str:
    parts = [f"赞成 {resolution.votes_for}", f"反对 {resolution.votes_against}", f"弃权 {resolution.votes_abstain}"]
    written = resolution.written_for + resolution.written_against + resolution.written_abstain
    if written:
        parts.append(
            f"书面 赞成 {resolution.written_for}/反对 {resolution.written_against}/弃权 {resolution.written_abstain}"
        )
    return "，".join(parts)


def _meetings(orgs: list[Organization], year: int) -> list[MeetingRecord]:
    names = {o.pk: o.name for o in orgs}
    qs = Meeting.objects.filter(
        organization_id__in=list(names),
        status=MeetingStatus.FINAL,
        held_on__gte=dt.date(year, 1, 1),
        held_on__lte=dt.date(year, 12, 31),
    ).order_by("held_on", "start_time", "pk")
    return meeting_records(qs, names)


def meeting_record(meeting: Meeting) -> MeetingRecord:
    """One finished meeting's record, as the 台账 prints it (for the print page)."""
    qs = Meeting.objects.filter(pk=meeting.pk, status=MeetingStatus.FINAL)
    records = meeting_records(qs, {meeting.organization_id: str(meeting.organization)})
    if not records:
        raise Meeting.DoesNotExist
    return records[0]


def meeting_records(qs: Any, names: dict[int, str]) -> list[MeetingRecord]:
    labels = dict(MeetingType.choices)
    qs = qs.prefetch_related(
        Prefetch("attendance", queryset=Attendance.objects.order_by("pk")),
        "resolutions",
        "follow_ups",
    )
    records = []
    for m in qs:
        rows = list(m.attendance.all())
        time_text = ""
        if m.start_time:
            time_text = f"{m.start_time:%H:%M}" + (f"—{m.end_time:%H:%M}" if m.end_time else "")
        records.append(
            MeetingRecord(
                pk=m.pk,
                organization=names[m.organization_id],
                type_label=labels.get(m.meeting_type, m.meeting_type),
                held_on=m.held_on,
                time_text=time_text,
                place=m.place,
                chair=m.chair_name,
                recorder=m.recorder_name,
                lecturer=m.lecturer_name,
                expected=m.expected_count,
                present=m.present_count,
                on_leave=[(r.name, r.reason) for r in rows if r.status == AttendanceStatus.LEAVE],
                absent=[(r.name, r.reason) for r in rows if r.status == AttendanceStatus.ABSENT],
                nonvoting=[r.name for r in rows if r.status == AttendanceStatus.ATTENDING_NONVOTING or r.is_guest],
                topic=m.title or m.first_topic or labels.get(m.meeting_type, ""),
                agenda=m.agenda,
                minutes=m.minutes,
                resolutions=[
                    (r.title, _votes(r), r.get_outcome_display())
                    for r in sorted(m.resolutions.all(), key=lambda r: (r.order, r.pk))
                ],
                follow_ups=[
                    (f.title, f.owner_name or "—", _d(f.due_on), f.get_status_display()) for f in m.follow_ups.all()
                ],
            )
        )
    return records


def _roster(org: Organization, day: dt.date) -> list[tuple[int, str]]:
    rows = (
        OrganizationMembership.objects.filter(
            Q(end_on__isnull=True) | Q(end_on__gt=day),
            organization=org,
            start_on__lte=day,
            member__joined_on__isnull=False,
            member__joined_on__lte=day,
        )
        .order_by("member__name", "member_id")
        .values_list("member_id", "member__name")
    )
    seen: dict[int, str] = {}
    for member_id, name in rows:
        seen.setdefault(member_id, name)
    return list(seen.items())


def _changes(org: Organization, year: int) -> list[list[Any]]:
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    rows: list[list[Any]] = []
    memberships = (
        OrganizationMembership.objects.filter(organization=org)
        .filter(Q(start_on__range=(start, end)) | Q(end_on__range=(start, end)))
        .select_related("member")
        .order_by("start_on", "pk")
    )
    for ms in memberships:
        member = ms.member
        if start <= ms.start_on <= end:
            joined = member.joined_on is not None and abs((member.joined_on - ms.start_on).days) <= 31
            rows.append([_d(ms.start_on), member.name, "接收预备党员" if joined else "转入"])
        if ms.end_on and start <= ms.end_on <= end:
            rows.append([_d(ms.end_on), member.name, "转出"])
    for _member_id, name, full_on in (
        OrganizationMembership.objects.filter(organization=org, member__full_on__range=(start, end))
        .values_list("member_id", "member__name", "member__full_on")
        .distinct()
    ):
        rows.append([_d(full_on), name, "预备党员转为正式党员"])
    return sorted(rows, key=lambda r: r[0])


def _dues(org: Organization, year: int, roster: list[tuple[int, str]]) -> tuple[list[list[Any]], list[list[Any]]]:
    grid: dict[int, dict[int, tuple[Decimal, Decimal, bool]]] = defaultdict(dict)
    names: dict[int, str] = dict(roster)
    for member_id, name, month, due, paid, paid_on in DuesMonth.objects.filter(
        organization=org, month__year=year
    ).values_list("member_id", "member__name", "month", "amount_due", "amount_paid", "paid_on"):
        grid[member_id][month.month] = (due, paid, paid_on is not None)
        names.setdefault(member_id, name)
    rows = []
    month_due = [Decimal(0)] * 12
    month_paid = [Decimal(0)] * 12
    for member_id, name in sorted(names.items(), key=lambda kv: (kv[1], kv[0])):
        months = grid.get(member_id, {})
        if not months:
            continue
        cells = []
        for m in range(1, 13):
            due, paid, done = months.get(m, (None, None, False))
            if due is None:
                cells.append("")
                continue
            month_due[m - 1] += due
            month_paid[m - 1] += paid if done else 0
            cells.append(f"{paid:.2f}" if done else ("免" if due == 0 else f"欠{due:.2f}"))
        total_due = sum((v[0] for v in months.values()), Decimal(0))
        total_paid = sum((v[1] for v in months.values() if v[2]), Decimal(0))
        rows.append([name, *cells, f"{total_due:.2f}", f"{total_paid:.2f}"])
    totals = [
        ["实交合计", *[f"{p:.2f}" for p in month_paid], "", f"{sum(month_paid):.2f}"],
        ["应交合计", *[f"{d:.2f}" for d in month_due], f"{sum(month_due):.2f}", ""],
    ]
    return rows, totals


def _study(org: Organization, year: int, roster: list[tuple[int, str]]) -> list[list[Any]]:
    sums = {
        row["member_id"]: row
        for row in StudyRecord.objects.filter(member_id__in=[pk for pk, _n in roster], studied_on__year=year)
        .values("member_id")
        .annotate(n=Count("pk"), hours=Sum("hours"))
    }
    return [
        [name, sums.get(pk, {}).get("n", 0), f"{sums.get(pk, {}).get('hours') or Decimal(0):.1f}"]
        for pk, name in roster
    ]


def _secretary(org: Organization, on: dt.date) -> str:
    position = (
        Position.objects.filter(term__organization=org, position="secretary", start_on__lte=on)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=on))
        .order_by("-start_on")
        .first()
    )
    return position.person_name if position else "—"


def build_ledger(org: Organization, year: int, *, generated: str = "") -> Ledger:
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    orgs = _orgs(org)
    parent = Organization.objects.parent_of(org)
    as_of = min(end, today())
    ledger = Ledger(
        organization=org.name,
        org_type=org.get_org_type_display(),
        parent=parent.name if parent else "—",
        year=year,
        secretary=_secretary(org, as_of),
        contact=org.contact_name or "—",
        generated=generated,
    )
    for term in (
        CommitteeTerm.objects.filter(organization=org, elected_on__lte=end)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=start))
        .order_by("number")
    ):
        ledger.terms.append(
            [f"第{term.number}届", term.get_kind_display(), _d(term.elected_on), _d(term.expires_on), _d(term.ended_on)]
        )
    rank = {code: i for i, code in enumerate(PositionCode.values)}  # 书记, 副书记, … in rank order
    positions = (
        Position.objects.filter(term__organization=org, start_on__lte=end)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=start))
        .select_related("term")
    )
    for position in sorted(positions, key=lambda p: (p.term.number, rank.get(p.position, 99), p.start_on, p.pk)):
        ledger.committee.append(
            [position.get_position_display(), position.person_name, _d(position.start_on), _d(position.end_on)]
        )
    group_counts = dict(
        OrganizationMembership.objects.filter(
            Q(end_on__isnull=True) | Q(end_on__gt=as_of), organization=org, member__party_group__in=orgs[1:]
        )
        .values("member__party_group")
        .annotate(n=Count("member", distinct=True))
        .values_list("member__party_group", "n")
    )
    ledger.groups = [[g.name, group_counts.get(g.pk, 0)] for g in orgs if g.pk != org.pk]
    first, last = _roster(org, start), _roster(org, as_of)
    ledger.roster_start = [name for _pk, name in first]
    ledger.roster_end = [name for _pk, name in last]
    ledger.changes = _changes(org, year)
    ledger.meetings = _meetings(orgs, year)
    ledger.talks = [
        [_d(t.held_on), t.initiator.name, t.counterpart.name, t.topic]
        for t in Talk.objects.filter(organization__in=orgs, held_on__range=(start, end))
        .select_related("initiator", "counterpart")
        .order_by("held_on", "pk")
    ]
    ledger.appraisals = [
        [
            _d(e.meeting.held_on),
            e.member.name,
            "预备党员（不评定等次）" if e.is_probationary else e.get_grade_display() or "—",
        ]
        for e in AppraisalEntry.objects.filter(
            meeting__organization__in=orgs, meeting__status=MeetingStatus.FINAL, meeting__held_on__range=(start, end)
        )
        .select_related("meeting", "member")
        .order_by("meeting__held_on", "member__name")
    ]
    members = sorted({*first, *last}, key=lambda kv: (kv[1], kv[0]))
    ledger.study = _study(org, year, members)
    ledger.dues, ledger.dues_totals = _dues(org, year, members)
    items = compliance_items_for(root=org, orgs=orgs, year=year, on=as_of)
    for o in orgs:
        for item in sorted(items.get(o.pk, []), key=lambda i: (i.period_start, i.kind)):
            ledger.calendar.append(
                [
                    o.name if o.pk != org.pk else "本支部",
                    item.label,
                    f"{item.period_start:%m-%d}至{item.period_end:%m-%d}",
                    _d(item.deadline),
                    _d(item.done_on),
                    item.status_label,
                ]
            )
    return ledger
