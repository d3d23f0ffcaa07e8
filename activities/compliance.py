"""The compliance calendar: rules (§14, editable, versioned) → each organization's due items per
period → a status computed from the meetings recorded.

Decisions (documented in the README):

- **Which rule applies.** A period is judged by the rule versions in force on its first day; for
  each kind the most specific scope wins (an override for an ancestor organization beats the
  system default). Changing a rule closes the old version and adds a new one from a date not in
  the past, so periods that already started keep their rule.
- **What counts.** Finished meetings held inside the period, of the kind or marked "also counts
  as" the kind (``MeetingCredit``). Drafts never count. A 党员大会 that missed its quorum still
  counts as held (the meeting took place); its votes are invalid. A 支委会 with half or fewer of
  the committee present may not proceed (ZB §12): its record is kept and marked, but it earns no
  支委会 credit (``Meeting.credited_types``).
- **Deadline** = the period's last day plus ``PB_COMPLIANCE_GRACE_DAYS`` (default 0).
- **Status**: ``waived`` (approved exemption) › ``done`` (enough meetings, and the record that
  completed the requirement was finished by the deadline) › ``late`` (completed, but that record
  was finished after the deadline) › ``overdue`` (not done and the deadline has passed) › ``due``
  (the period has started) › ``upcoming``.
- **Share done on time** (roll-up) = done ÷ (done + late + overdue); items not yet judged
  (upcoming/due) and waived items are left out.

Every function here reads (a constant number of queries, whatever the size of the subtree); rule
changes and waivers are written by ``activities.services.compliance``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from activities.choices import MEETING_KINDS, ComplianceKind, ComplianceStatus, MeetingType, Period
from activities.models import ComplianceRule, ComplianceWaiver, MeetingCredit, StudyRecord, Talk
from activities.selectors import COMMITTEE_MIN_SIZE
from core.access import get_scope
from core.dates import today
from members.choices import MembershipStatus, Stage
from members.models import OrganizationMembership
from members.selectors import in_good_standing_q
from organizations.choices import COMMITTEE_POSITIONS, OrgType, PositionCode
from organizations.models import Organization, Position

KIND_ORDER = list(ComplianceKind.values)
MEMBER_WIDE_TYPES = (OrgType.COMMITTEE, OrgType.GENERAL_BRANCH)


# --- periods --------------------------------------------------------------------------------------


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, 3 * quarter - 2, 1)
    return start, month_bounds(year, 3 * quarter)[1]


def window_bounds(*, year: int, quarter: int | None = None, month: int | None = None) -> tuple[dt.date, dt.date]:
    if month:
        return month_bounds(year, month)
    if quarter:
        return quarter_bounds(year, quarter)
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _periods(rule: ComplianceRule, year: int) -> list[tuple[dt.date, dt.date]]:
    if rule.period == Period.MONTH:
        return [month_bounds(year, m) for m in range(1, 13)]
    if rule.period == Period.QUARTER:
        return [quarter_bounds(year, q) for q in range(1, 5)]
    if rule.quarter:
        return [quarter_bounds(year, rule.quarter)]
    return [(dt.date(year, 1, 1), dt.date(year, 12, 31))]


def grace_days() -> int:
    return int(getattr(settings, "PB_COMPLIANCE_GRACE_DAYS", 0))


# --- rules ----------------------------------------------------------------------------------------


def _scope_depth(rule: ComplianceRule, paths: dict[int, str]) -> int:
    return len(paths[rule.organization_id]) if rule.organization_id else 0


class RuleBook:
    """All rule versions, loaded once (the table is small), resolved per organization and date."""

    def __init__(self, rules: list[ComplianceRule], scope_paths: dict[int, str]) -> None:
        self.scope_paths = scope_paths
        self.by_type: dict[str, list[ComplianceRule]] = defaultdict(list)
        for rule in rules:
            self.by_type[rule.org_type].append(rule)

    @classmethod
    def load(cls) -> RuleBook:
        rules = list(ComplianceRule.objects.select_related("organization").order_by("effective_from", "pk"))
        paths = {r.organization_id: r.organization.path for r in rules if r.organization_id}
        return cls(rules, paths)

    def in_force(self, org: Organization, on: dt.date) -> dict[str, ComplianceRule]:
        """kind → the rule version in force for ``org`` on ``on`` (most specific scope wins)."""
        best: dict[str, ComplianceRule] = {}
        for rule in self.by_type.get(org.org_type, ()):
            if rule.effective_from > on or (rule.effective_until is not None and rule.effective_until <= on):
                continue
            if rule.organization_id and not org.path.startswith(self.scope_paths[rule.organization_id]):
                continue
            current = best.get(rule.kind)
            if current is None or _scope_depth(rule, self.scope_paths) >= _scope_depth(current, self.scope_paths):
                best[rule.kind] = rule
        return {kind: rule for kind, rule in best.items() if rule.is_active}

    def items_for(self, org: Organization, year: int) -> list[tuple[ComplianceRule, dt.date, dt.date]]:
        """(rule, period_start, period_end) for every period of the year, by the rules in force on
        each period's first day."""
        out: list[tuple[ComplianceRule, dt.date, dt.date]] = []
        seen: set[tuple[str, dt.date]] = set()
        # Every rule version that could apply to this org type during the year.
        candidates = [
            r
            for r in self.by_type.get(org.org_type, ())
            if (not r.organization_id or org.path.startswith(self.scope_paths[r.organization_id]))
        ]
        shapes = {(r.kind, r.period, r.quarter) for r in candidates}
        for kind, period, quarter in sorted(shapes, key=lambda s: (KIND_ORDER.index(s[0]), s[1], s[2] or 0)):
            probe = ComplianceRule(kind=kind, period=period, quarter=quarter)
            for start, end in _periods(probe, year):
                if (kind, start) in seen:
                    continue
                rule = self.in_force(org, start).get(kind)
                if rule is None or (rule.period, rule.quarter) != (period, quarter):
                    continue
                seen.add((kind, start))
                out.append((rule, start, end))
        out.sort(key=lambda item: (KIND_ORDER.index(item[0].kind), item[1]))
        return out


# --- items ----------------------------------------------------------------------------------------


@dataclass
class Item:
    organization_id: int
    kind: str
    period: str
    period_start: dt.date
    period_end: dt.date
    deadline: dt.date
    required: int
    held: int
    status: str
    done_on: dt.date | None = None
    waiver_reason: str = ""
    rule_id: int | None = None
    note: str = ""

    @property
    def label(self) -> str:
        return ComplianceKind(self.kind).label

    @property
    def status_label(self) -> str:
        return ComplianceStatus(self.status).label

    def as_dict(self) -> dict[str, Any]:
        return {
            "organization_id": self.organization_id,
            "meeting_type": self.kind,
            "label": self.label,
            "period": self.period,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "deadline": self.deadline.isoformat(),
            "required": self.required,
            "held": self.held,
            "status": self.status,
            "status_label": self.status_label,
            "done_on": self.done_on.isoformat() if self.done_on else None,
            "waiver_reason": self.waiver_reason,
            "note": self.note,
        }


def item_status(
    *,
    required: int,
    held: int,
    done_on: dt.date | None,
    start: dt.date,
    deadline: dt.date,
    on: dt.date,
    waived: bool = False,
) -> str:
    if waived:
        return ComplianceStatus.WAIVED
    if held >= required:
        if done_on is None or done_on <= deadline:
            return ComplianceStatus.DONE
        return ComplianceStatus.LATE
    if on > deadline:
        return ComplianceStatus.OVERDUE
    if on >= start:
        return ComplianceStatus.DUE
    return ComplianceStatus.UPCOMING


@dataclass
class _Facts:
    """Everything the items of a set of organizations need, loaded in a fixed number of queries."""

    credits: dict[tuple[int, str], list[tuple[dt.date, dt.date]]] = field(default_factory=dict)
    waivers: dict[tuple[int, str, dt.date], str] = field(default_factory=dict)
    committee_seats: dict[int, list[Position]] = field(default_factory=dict)
    rosters: dict[int, set[int]] = field(default_factory=dict)
    hours: dict[int, Decimal] = field(default_factory=dict)
    talks: dict[int, dict[tuple[int, int], dt.date]] = field(default_factory=dict)
    secretary_lectures: dict[int, list[tuple[dt.date, dt.date]]] = field(default_factory=dict)


def _committee_members(seats: list[Position], on: dt.date) -> list[Position]:
    return [
        p
        for p in seats
        if p.start_on <= on
        and (p.end_on is None or p.end_on > on)
        and p.term.elected_on <= on
        and (p.term.ended_on is None or p.term.ended_on > on)
    ]


def _committee_size(seats: list[Position], on: dt.date) -> int:
    return len({p.member_id or f"p{p.pk}" for p in _committee_members(seats, on)})


def _load_facts(*, root: Organization, orgs: list[Organization], year: int, roster_on: dt.date) -> _Facts:
    facts = _Facts()
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    in_subtree = Q(organization__path__startswith=root.path)
    credits: dict[tuple[int, str], list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for org_id, kind, held_on, recorded_on in MeetingCredit.objects.filter(
        in_subtree, held_on__range=(start, end)
    ).values_list("organization_id", "kind", "held_on", "recorded_on"):
        credits[(org_id, kind)].append((held_on, recorded_on))
    facts.credits = credits
    facts.waivers = {
        (w.organization_id, w.kind, w.period_start): w.reason
        for w in ComplianceWaiver.objects.filter(in_subtree, period_start__range=(start, end))
    }
    seats: dict[int, list[Position]] = defaultdict(list)
    for position in Position.objects.filter(
        Q(term__ended_on__isnull=True) | Q(term__ended_on__gt=start),
        Q(end_on__isnull=True) | Q(end_on__gt=start),
        term__organization__path__startswith=root.path,
        position__in=list(COMMITTEE_POSITIONS),
        start_on__lte=end,
    ).select_related("term"):
        seats[position.term.organization_id].append(position)
    facts.committee_seats = seats
    # Rosters on ``roster_on`` (for per-member rules), one query over the subtree.
    by_path = {o.path: o for o in orgs}
    rosters: dict[int, set[int]] = defaultdict(set)
    rows = (
        OrganizationMembership.objects.filter(
            Q(end_on__isnull=True) | Q(end_on__gt=roster_on),
            in_subtree,
            start_on__lte=roster_on,
            member__joined_on__isnull=False,
            member__joined_on__lte=roster_on,
            member__stage__in=[Stage.PROBATIONARY, Stage.FULL],
        )
        .filter(in_good_standing_q(roster_on, "member__"))
        .exclude(
            member__membership_status__in=[
                MembershipStatus.REMOVED,
                MembershipStatus.EXPELLED,
                MembershipStatus.DECEASED,
            ]
        )
        .values_list("member_id", "organization__path", "organization__org_type", "member__party_group_id")
    )
    step = Organization.steplen
    org_ids = {o.pk for o in orgs}
    for member_id, path, org_type, party_group_id in rows:
        if party_group_id in org_ids:  # 党小组 assignment inside the member's branch
            rosters[party_group_id].add(member_id)
        own = by_path.get(path)
        if own is not None:
            rosters[own.pk].add(member_id)
        # A branch's roster includes its 党小组; a 党委/党总支 counts its whole subtree.
        for depth in range(len(path) // step - 1, 0, -1):
            ancestor = by_path.get(path[: depth * step])
            if ancestor is None:
                continue
            if ancestor.org_type in MEMBER_WIDE_TYPES or (org_type == OrgType.GROUP and depth == len(path) // step - 1):
                rosters[ancestor.pk].add(member_id)
    facts.rosters = rosters
    all_members = set().union(*rosters.values()) if rosters else set()
    if all_members:
        facts.hours = {
            row["member_id"]: row["total"] or Decimal("0")
            for row in StudyRecord.objects.filter(member_id__in=all_members, studied_on__range=(start, end))
            .values("member_id")
            .annotate(total=Sum("hours"))
        }
    talks: dict[int, dict[tuple[int, int], dt.date]] = defaultdict(dict)
    for org_id, a, b, created in Talk.objects.filter(in_subtree, held_on__range=(start, end)).values_list(
        "organization_id", "initiator_id", "counterpart_id", "created_at"
    ):
        pair = (min(a, b), max(a, b))
        recorded = timezone.localdate(created)
        previous = talks[org_id].get(pair)
        if previous is None or recorded < previous:
            talks[org_id][pair] = recorded
    facts.talks = talks
    # 党委书记讲党课: lectures anywhere in the committee's subtree given by its 书记.
    secretaries = {
        o.pk: {p.member_id for p in facts.committee_seats.get(o.pk, []) if p.position == PositionCode.SECRETARY}
        for o in orgs
        if o.org_type in MEMBER_WIDE_TYPES
    }
    lecturer_ids = set().union(*secretaries.values()) - {None} if secretaries else set()
    if lecturer_ids:
        lectures = list(
            MeetingCredit.objects.filter(
                in_subtree, kind=MeetingType.LECTURE, held_on__range=(start, end), meeting__lecturer_id__in=lecturer_ids
            ).values_list("organization__path", "meeting__lecturer_id", "held_on", "recorded_on")
        )
        for org in orgs:
            wanted = secretaries.get(org.pk)
            if wanted:
                facts.secretary_lectures[org.pk] = [
                    (held, rec)
                    for path, lecturer, held, rec in lectures
                    if path.startswith(org.path) and lecturer in wanted
                ]
    return facts


def _meeting_item(
    *, org: Organization, rule: ComplianceRule, start: dt.date, end: dt.date, facts: _Facts, on: dt.date
) -> Item | None:
    kind = rule.kind
    deadline = end + dt.timedelta(days=grace_days())
    if rule.requires_committee:
        probe = start if start <= on else on
        if _committee_size(facts.committee_seats.get(org.pk, []), probe) < COMMITTEE_MIN_SIZE:
            return None
    required = rule.minimum
    note = ""
    if kind in MEETING_KINDS:
        dates = sorted(
            (recorded, held) for held, recorded in facts.credits.get((org.pk, kind), []) if start <= held <= end
        )
        held = len(dates)
        done_on = dates[required - 1][0] if held >= required and required else None
    elif kind == ComplianceKind.SECRETARY_LECTURE:
        seats = facts.secretary_lectures.get(org.pk)
        dates = sorted(rec for held_on, rec in (seats or []) if start <= held_on <= end)
        held = len(dates)
        done_on = dates[required - 1] if held >= required and required else None
    elif kind == ComplianceKind.TALK:
        roster_date = min(end, on)
        seats = _committee_members(facts.committee_seats.get(org.pk, []), roster_date)
        committee = {p.member_id for p in seats if p.member_id}
        members = facts.rosters.get(org.pk, set()) | committee
        pairs = {(min(c, m), max(c, m)) for c in committee for m in members if c != m}
        if not pairs:
            return None
        talked = facts.talks.get(org.pk, {})
        covered = [talked[p] for p in pairs if p in talked]
        required, held = len(pairs), len(covered)
        done_on = max(covered) if held == required else None
        note = f"委员与党员谈话 {held}/{required} 对"
    elif kind == ComplianceKind.STUDY_HOURS:
        members = facts.rosters.get(org.pk, set())
        if not members:
            return None
        target = Decimal(rule.minimum)
        reached = sum(1 for m in members if facts.hours.get(m, Decimal("0")) >= target)
        required, held = len(members), reached
        done_on = None
        note = f"{reached}/{len(members)} 名党员达到 {rule.minimum} 学时"
    else:  # pragma: no cover - every kind is handled above
        return None
    waiver = facts.waivers.get((org.pk, kind, start))
    status = item_status(
        required=required,
        held=held,
        done_on=done_on,
        start=start,
        deadline=deadline,
        on=on,
        waived=waiver is not None,
    )
    return Item(
        organization_id=org.pk,
        kind=kind,
        period=rule.period if not rule.quarter else Period.QUARTER,
        period_start=start,
        period_end=end,
        deadline=deadline,
        required=required,
        held=held,
        status=status,
        done_on=done_on,
        waiver_reason=waiver or "",
        rule_id=rule.pk,
        note=note,
    )


def _overlaps(start: dt.date, end: dt.date, window: tuple[dt.date, dt.date]) -> bool:
    return start <= window[1] and end >= window[0]


def compliance_items_for(
    *,
    root: Organization,
    orgs: list[Organization],
    year: int,
    window: tuple[dt.date, dt.date] | None = None,
    on: dt.date | None = None,
    book: RuleBook | None = None,
) -> dict[int, list[Item]]:
    """Items of the year (or of the periods overlapping ``window``) for each organization in
    ``orgs`` (all inside ``root``'s subtree). A constant number of queries."""
    on = on or today()
    book = book or RuleBook.load()
    roster_on = min(dt.date(year, 12, 31), on)
    facts = _load_facts(root=root, orgs=orgs, year=year, roster_on=roster_on)
    out: dict[int, list[Item]] = {}
    for org in orgs:
        items = []
        for rule, start, end in book.items_for(org, year):
            if window and not _overlaps(start, end, window):
                continue
            item = _meeting_item(org=org, rule=rule, start=start, end=end, facts=facts, on=on)
            if item is not None:
                items.append(item)
        out[org.pk] = items
    return out


def compliance_items(
    *,
    organization: Organization,
    year: int,
    quarter: int | None = None,
    month: int | None = None,
    on: dt.date | None = None,
) -> list[Item]:
    window = window_bounds(year=year, quarter=quarter, month=month)
    return compliance_items_for(root=organization, orgs=[organization], year=year, window=window, on=on)[
        organization.pk
    ]


def party_group_items(
    *, branch: Organization, year: int, on: dt.date | None = None
) -> list[tuple[Organization, list[Item]]]:
    """The items of a branch's 党小组s (its children of type 党小组), per 党小组 in tree order:
    the branch's own pages list them under each 党小组. A constant number of queries."""
    groups = list(Organization.objects.children_of(branch).filter(org_type=OrgType.GROUP).order_by("path"))
    if not groups:
        return []
    items = compliance_items_for(root=branch, orgs=groups, year=year, on=on)
    return [(group, items[group.pk]) for group in groups]


# --- roll-up ---------------------------------------------------------------------------------------

JUDGED = (ComplianceStatus.DONE, ComplianceStatus.LATE, ComplianceStatus.OVERDUE)


@dataclass
class Tally:
    done: int = 0
    late: int = 0
    overdue: int = 0
    due: int = 0
    upcoming: int = 0
    waived: int = 0

    def add(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)

    @property
    def judged(self) -> int:
        return self.done + self.late + self.overdue

    @property
    def share(self) -> int | None:
        """Percent done on time among judged items (None when nothing has been judged yet)."""
        return round(self.done * 100 / self.judged) if self.judged else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "late": self.late,
            "overdue": self.overdue,
            "due": self.due,
            "upcoming": self.upcoming,
            "waived": self.waived,
            "judged": self.judged,
            "share_on_time": self.share,
        }


@dataclass
class Rollup:
    total: Tally
    by_kind: list[tuple[str, str, Tally]]
    by_child: list[tuple[Organization, Tally]]
    org_count: int
    overdue_items: list[tuple[Organization, Item]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "organizations": self.org_count,
            "total": self.total.as_dict(),
            "by_type": [{"meeting_type": k, "label": label, **t.as_dict()} for k, label, t in self.by_kind],
            "by_child": [
                {"organization_id": o.pk, "name": o.name, "org_type": o.org_type, **t.as_dict()}
                for o, t in self.by_child
            ],
        }


def compliance_rollup(
    *,
    organization: Organization,
    year: int,
    quarter: int | None = None,
    month: int | None = None,
    on: dt.date | None = None,
) -> Rollup:
    """Share of items done on time over the organization's subtree, by type and by child
    organization. A constant number of queries."""
    orgs = list(Organization.objects.filter(path__startswith=organization.path).order_by("path"))
    window = window_bounds(year=year, quarter=quarter, month=month)
    items = compliance_items_for(root=organization, orgs=orgs, year=year, window=window, on=on)
    children = [o for o in orgs if o.depth == organization.depth + 1]
    total = Tally()
    kinds: dict[str, Tally] = {}
    by_child = {c.pk: Tally() for c in children}
    child_of = {}
    for org in orgs:
        for child in children:
            if org.path.startswith(child.path):
                child_of[org.pk] = child.pk
                break
    by_pk = {o.pk: o for o in orgs}
    overdue: list[tuple[Organization, Item]] = []
    for org_id, org_items in items.items():
        for item in org_items:
            total.add(item.status)
            kinds.setdefault(item.kind, Tally()).add(item.status)
            if org_id in child_of:
                by_child[child_of[org_id]].add(item.status)
            if item.status == ComplianceStatus.OVERDUE:
                overdue.append((by_pk[org_id], item))
    by_kind = [(k, ComplianceKind(k).label, kinds[k]) for k in KIND_ORDER if k in kinds]
    return Rollup(
        total=total,
        by_kind=by_kind,
        by_child=[(c, by_child[c.pk]) for c in children],
        org_count=len(orgs),
        overdue_items=overdue,
    )


# --- year at a glance ------------------------------------------------------------------------------


@dataclass
class GridCell:
    span: int
    item: Item | None = None


def year_grid(items: list[Item]) -> list[tuple[str, str, list[GridCell]]]:
    """Rules × months: one row per kind, cells spanning the months of each period."""
    rows: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        rows[item.kind].append(item)
    grid = []
    for kind in KIND_ORDER:
        if kind not in rows:
            continue
        cells: list[GridCell] = []
        month = 1
        for item in sorted(rows[kind], key=lambda i: i.period_start):
            first, last = item.period_start.month, item.period_end.month
            if first > month:
                cells.append(GridCell(span=first - month))
            cells.append(GridCell(span=last - first + 1, item=item))
            month = last + 1
        if month <= 12:
            cells.append(GridCell(span=13 - month))
        grid.append((kind, ComplianceKind(kind).label, cells))
    return grid


# --- who may change the rules ---------------------------------------------------------------------


def user_is_org_admin_over(user: Any, organization: Organization) -> bool:
    """The organization department (org_admin) of ``organization`` or above: it changes the rules
    for that subtree and approves waivers for the organizations below it."""
    if getattr(user, "is_superuser", False):
        return True
    scope = get_scope(user)
    return scope.manages(organization)
