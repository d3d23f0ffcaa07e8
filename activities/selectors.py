"""Reads for organizational life: who is expected at a meeting, lists, follow-ups, study hours,
talk coverage, committee study summaries. Every function takes a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from activities.choices import (
    OPEN_FOLLOW_UP,
    MeetingStatus,
    MeetingType,
)
from activities.models import (
    Attendance,
    FollowUp,
    Meeting,
    Resolution,
    StudyRecord,
    Talk,
)
from core.access import VIEW, get_scope
from core.compiled import compiled_rows
from members.choices import MembershipStatus, Stage
from members.discipline.selectors import with_vote_withheld_on
from members.models import Member, OrganizationMembership
from members.selectors import in_good_standing_q, member_can_vote_on, member_roster_on
from organizations.choices import COMMITTEE_POSITIONS, OrgType, PositionCode
from organizations.models import POSITION_RANK, Organization, Position

# An organization "has a committee" when at least this many committee positions are filled.
COMMITTEE_MIN_SIZE = 3


@dataclass
class Person:
    """Someone who may appear on a meeting's attendance list."""

    key: str  # "m<member id>" or "p<position id>" (a committee seat with no member record)
    name: str
    member: Member | None = None
    position: Position | None = None
    is_expected: bool = False
    is_voter: bool = False
    roles: list[str] = field(default_factory=list)  # position labels, for display

    @property
    def member_id(self) -> int | None:
        return self.member.pk if self.member else None


def person_key(*, member_id: int | None = None, position_id: int | None = None) -> str:
    return f"m{member_id}" if member_id else f"p{position_id}"


def _subtree_roster_on(*, organization: Organization, on: date) -> QuerySet[Member]:
    """Party members anywhere in the subtree on ``on`` (for meetings of a 党委/党总支), using the
    same dated membership rows and exclusions as ``members.selectors.member_roster_on``."""
    member_ids = OrganizationMembership.objects.filter(
        Q(end_on__isnull=True) | Q(end_on__gt=on), organization__path__startswith=organization.path, start_on__lte=on
    ).values("member_id")
    return (
        Member.objects.filter(pk__in=member_ids, joined_on__isnull=False, joined_on__lte=on)
        .exclude(membership_status__in=[MembershipStatus.REMOVED, MembershipStatus.EXPELLED, MembershipStatus.DECEASED])
        .filter(in_good_standing_q(on), stage__in=[Stage.PROBATIONARY, Stage.FULL])
        .order_by("name", "pk")
    )


def organization_roster_on(*, organization: Organization, on: date) -> list[Member]:
    """Party members of the organization on ``on``: a branch with its 党小组, a 党委/党总支 with its
    whole subtree (one query), a 党小组 as the members of its branch that day who are assigned to
    it (``Member.party_group``, the current assignment, or a roster row in the group; two queries)."""
    return list(_roster_queryset(organization=organization, on=on))


def _roster_queryset(*, organization: Organization, on: date) -> QuerySet[Member]:
    if organization.org_type in (OrgType.COMMITTEE, OrgType.GENERAL_BRANCH):
        return _subtree_roster_on(organization=organization, on=on)
    if organization.org_type == OrgType.GROUP:
        parent = Organization.objects.parent_of(organization)
        if parent is not None:
            in_group = OrganizationMembership.objects.filter(
                Q(end_on__isnull=True) | Q(end_on__gt=on), organization=organization, start_on__lte=on
            ).values("member_id")
            return member_roster_on(organization=parent, on=on).filter(Q(party_group=organization) | Q(pk__in=in_group))
    return member_roster_on(organization=organization, on=on)


POSITION_ORDER = POSITION_RANK  # 书记, 副书记, 组织委员, …


def committee_positions_on(*, organization: Organization, on: date) -> list[Position]:
    """Committee seats held on ``on``: positions in COMMITTEE_POSITIONS whose start_on ≤ date and
    (end_on null or > date), in the term covering that date; 书记 first. One query."""
    positions = list(
        Position.objects.filter(
            Q(term__ended_on__isnull=True) | Q(term__ended_on__gt=on),
            Q(end_on__isnull=True) | Q(end_on__gt=on),
            term__organization=organization,
            term__elected_on__lte=on,
            position__in=list(COMMITTEE_POSITIONS),
            start_on__lte=on,
        )
        .select_related("member")
        .order_by("start_on", "pk")
    )
    return sorted(positions, key=lambda p: POSITION_ORDER.get(p.position, 99))


def committee_members_on(*, organization: Organization, on: date) -> list[Person]:
    """One Person per committee member (a person holding two seats counts once)."""
    people: dict[str, Person] = {}
    for position in committee_positions_on(organization=organization, on=on):
        key = person_key(member_id=position.member_id, position_id=position.pk)
        person = people.get(key)
        if person is None:
            person = people[key] = Person(
                key=key,
                name=position.member.name if position.member else position.person_name,
                member=position.member,
                position=None if position.member_id else position,
                is_expected=True,
                is_voter=True,
            )
        person.roles.append(position.get_position_display())
    return list(people.values())


def organization_has_committee_on(*, organization: Organization, on: date) -> bool:
    return len(committee_members_on(organization=organization, on=on)) >= COMMITTEE_MIN_SIZE


@dataclass
class MeetingRoster:
    """Who is expected (应到) at a meeting and who else from the organization may attend (列席)."""

    expected: list[Person]
    others: list[Person]
    committee_size: int | None = None  # for committee meetings / 中心组

    def by_key(self) -> dict[str, Person]:
        return {p.key: p for p in (*self.expected, *self.others)}


def meeting_roster(
    *,
    organization: Organization,
    on: date,
    meeting_type: str,
    also_counts_as: list[str] | tuple = (),
    is_center_group: bool = False,
) -> MeetingRoster:
    """The attendance list a meeting starts from, for the organization's roster on ``on``.

    - 支委会/党委会 and 理论学习中心组: the committee members are expected and vote; other party
      members of the organization may attend as 列席.
    - every other type: the party members on the roster that day are expected (not those under
      停止党籍); only 正式党员 in normal standing vote: not 预备党员 (they attend without a vote),
      nor members under 留党察看 or with rights suspended (留置/逮捕) that day (§2, XJ §5).
    """
    if meeting_type == MeetingType.COMMITTEE or is_center_group:
        roster = organization_roster_on(organization=organization, on=on)
        expected = committee_members_on(organization=organization, on=on)
        taken = {p.key for p in expected}
        others = [Person(key=f"m{m.pk}", name=m.name, member=m) for m in roster if f"m{m.pk}" not in taken]
        return MeetingRoster(expected=expected, others=others, committee_size=len(expected))
    roster = _roster_with_votes_on(organization=organization, on=on)
    expected = [
        Person(
            key=f"m{m.pk}",
            name=m.name,
            member=m,
            is_expected=True,
            is_voter=member_can_vote_on(m, on) and not m.vote_withheld,
        )
        for m in roster
    ]
    return MeetingRoster(expected=expected, others=[])


def _roster_with_votes_on(*, organization: Organization, on: date) -> list[Member]:
    """The roster with each member's 留党察看 / suspended rights of the day (``vote_withheld``), in
    one query. A branch's or a 党委's roster depends only on the path and the day: its SQL is
    compiled once per process (``core.compiled``; every meeting recorded reads it, #20.3)."""
    if organization.org_type == OrgType.GROUP:
        return list(with_vote_withheld_on(_roster_queryset(organization=organization, on=on), on))
    subtree = organization.org_type in (OrgType.COMMITTEE, OrgType.GENERAL_BRANCH)

    def build(path: str, on: date) -> QuerySet[Member]:
        shape = Organization(path=path, org_type=organization.org_type)
        return with_vote_withheld_on(_roster_queryset(organization=shape, on=on), on)

    key = "activities.roster.subtree" if subtree else "activities.roster.branch"
    return compiled_rows(key, build, path=organization.path, on=on)


def lecturer_candidates_on(*, organization: Organization, on: date) -> list[Position]:
    """书记/副书记 of the organization and its ancestors on ``on`` (a 党委书记 lecturing at a branch)."""
    step = Organization.steplen
    paths = [organization.path[: step * i] for i in range(1, organization.depth + 1)]
    return list(
        Position.objects.filter(
            Q(term__ended_on__isnull=True) | Q(term__ended_on__gt=on),
            Q(end_on__isnull=True) | Q(end_on__gt=on),
            term__organization__path__in=paths,
            term__elected_on__lte=on,
            position__in=[PositionCode.SECRETARY, PositionCode.DEPUTY_SECRETARY],
            start_on__lte=on,
            member__isnull=False,
        )
        .select_related("member", "term__organization")
        .order_by("-term__organization__depth", "position")
    )


# --- lists ------------------------------------------------------------------------------------


def meeting_list(
    *, user: Any, organization: Organization, meeting_type: str = "", year: int | None = None, status: str = ""
) -> QuerySet[Meeting]:
    qs = Meeting.objects.visible_to(user, VIEW).filter(organization=organization).select_related("organization")
    if meeting_type:
        qs = qs.filter(Q(meeting_type=meeting_type) | Q(credits__kind=meeting_type)).distinct()
    if year:
        qs = qs.filter(held_on__year=year)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-held_on", "-start_time", "-pk")


def meeting_detail_queryset(user: Any) -> QuerySet[Meeting]:
    return (
        Meeting.objects.visible_to(user, VIEW)
        .select_related("organization", "chair", "recorder", "lecturer")
        .prefetch_related(
            Prefetch(
                "attendance",
                queryset=Attendance.objects.select_related("member").order_by("-is_expected", "is_guest", "name", "pk"),
            ),
            Prefetch("resolutions", queryset=Resolution.objects.select_related("subject_member", "follow_up")),
            "attachments",
        )
    )


def follow_ups_for_meeting(*, meeting: Meeting) -> list[FollowUp]:
    """Follow-up items from earlier meetings of the same body, still open on this meeting's day
    (or closed at it). Shown on the meeting until closed."""
    bodies = {meeting.meeting_type}
    if meeting.acts_as_general_assembly:
        bodies.add(MeetingType.GENERAL_ASSEMBLY)
    return list(
        FollowUp.objects.filter(organization_id=meeting.organization_id, body_type__in=bodies)
        .filter(Q(status__in=list(OPEN_FOLLOW_UP)) | Q(closed_on__gte=meeting.held_on))
        .filter(Q(meeting__isnull=True) | Q(meeting__held_on__lt=meeting.held_on))
        .exclude(meeting_id=meeting.pk)
        .select_related("meeting")
        .order_by("due_on", "pk")
    )


def follow_up_list(*, user: Any, organization: Organization | None = None, status: str = "") -> QuerySet[FollowUp]:
    qs = FollowUp.objects.visible_to(user, VIEW).select_related("organization", "meeting", "owner")
    if organization is not None:
        qs = qs.filter(organization=organization)
    if status == "open":
        qs = qs.filter(status__in=list(OPEN_FOLLOW_UP))
    elif status:
        qs = qs.filter(status=status)
    return qs.order_by("status", "due_on", "pk")


def open_follow_ups(*, organization: Organization, bodies: set[str] | None = None) -> list[FollowUp]:
    qs = FollowUp.objects.filter(organization=organization, status__in=list(OPEN_FOLLOW_UP))
    if bodies is not None:
        qs = qs.filter(body_type__in=bodies)
    return list(qs.select_related("meeting").order_by("due_on", "pk"))


# --- study hours ------------------------------------------------------------------------------


def study_target_hours() -> Decimal:
    return Decimal(str(settings.PB_STUDY_TARGET_HOURS))


def member_study_hours(*, member_ids: list[int], year: int) -> dict[int, Decimal]:
    """学时 per member in a year. One query."""
    rows = (
        StudyRecord.objects.filter(member_id__in=member_ids, studied_on__year=year)
        .values("member_id")
        .annotate(total=Sum("hours"))
    )
    return {row["member_id"]: row["total"] or Decimal("0") for row in rows}


@dataclass
class StudyProgress:
    member: Member
    hours: Decimal
    target: Decimal

    @property
    def percent(self) -> int:
        if not self.target:
            return 100
        return min(100, int(self.hours * 100 / self.target))

    @property
    def reached(self) -> bool:
        return self.hours >= self.target


def branch_study_progress(*, organization: Organization, year: int, on: date) -> list[StudyProgress]:
    """Each member's hours against the yearly target, in roster (name) order: progress, not a
    ranking. Two queries."""
    roster = organization_roster_on(organization=organization, on=on)
    hours = member_study_hours(member_ids=[m.pk for m in roster], year=year)
    target = study_target_hours()
    return [StudyProgress(member=m, hours=hours.get(m.pk, Decimal("0")), target=target) for m in roster]


def advisory_summary(progress: list[StudyProgress]) -> list[tuple[str, int]]:
    """A private advisory summary: how many members are in each band of the target. Counts only,
    no names, no order (enabled per organization; default off)."""
    bands = [("未开始", 0), ("不足 1/4", 0), ("1/4 至 1/2", 0), ("1/2 至达标", 0), ("已达标", 0)]
    counts = [0] * len(bands)
    for row in progress:
        if row.hours <= 0:
            counts[0] += 1
        elif row.reached:
            counts[4] += 1
        elif row.hours * 4 < row.target:
            counts[1] += 1
        elif row.hours * 2 < row.target:
            counts[2] += 1
        else:
            counts[3] += 1
    return [(label, counts[i]) for i, (label, _) in enumerate(bands)]


# --- 谈心谈话 coverage --------------------------------------------------------------------------


@dataclass
class TalkCoverage:
    """Required pairs are unordered: {committee member, member} for every committee member and
    every other party member (委员↔委员 included once)."""

    committee: list[Person]
    members: list[Member]
    covered: set[tuple[int, int]]  # unordered pairs (min id, max id) that talked this year
    unlinked: list[Person]  # committee seats without a member record (cannot be matched)

    def __post_init__(self) -> None:
        self.required_pairs = {
            _pair(person.member_id, member.pk)
            for person in self.committee
            for member in self.members
            if member.pk != person.member_id
        }

    def is_covered(self, a: int, b: int) -> bool:
        return _pair(a, b) in self.covered

    @property
    def required(self) -> int:
        return len(self.required_pairs)

    @property
    def done(self) -> int:
        return len(self.required_pairs & self.covered)

    @property
    def complete(self) -> bool:
        return self.done == self.required

    def rows(self) -> list[tuple[Person, list[tuple[Member, bool]], int]]:
        """For each committee member: every other member, whether they talked this year, and how many did."""
        out = []
        for person in self.committee:
            pairs = [(m, self.is_covered(person.member_id, m.pk)) for m in self.members if m.pk != person.member_id]
            out.append((person, pairs, sum(1 for _, ok in pairs if ok)))
        return out


def _pair(a: int, b: int) -> tuple[int, int]:
    return (min(a, b), max(a, b))


def talk_coverage(*, organization: Organization, year: int, on: date) -> TalkCoverage:
    """The year's 谈心谈话 coverage against the rule: each committee member with each member at
    least once a year (ZB). Committee and roster are taken on ``on`` (the year's end, or today
    when the year is current). Three queries."""
    committee_all = committee_members_on(organization=organization, on=on)
    committee = [p for p in committee_all if p.member is not None]
    unlinked = [p for p in committee_all if p.member is None]
    members = organization_roster_on(organization=organization, on=on)
    on_roster = {m.pk for m in members}
    members += [p.member for p in committee if p.member_id not in on_roster]
    covered = {
        _pair(a, b)
        for a, b in Talk.objects.filter(organization=organization, held_on__year=year).values_list(
            "initiator_id", "counterpart_id"
        )
    }
    return TalkCoverage(committee=committee, members=members, covered=covered, unlinked=unlinked)


# --- committee study (第一议题, 理论学习中心组) --------------------------------------------------


def committee_study_report(*, organization: Organization, start: date, end: date) -> dict[str, Any]:
    """The quarterly 学习通报 of a committee: its meetings' 第一议题 and its 中心组 sessions with
    attendance, speakers and hours. Three queries."""
    meetings = list(
        Meeting.objects.filter(organization=organization, status=MeetingStatus.FINAL, held_on__range=(start, end))
        .filter(Q(meeting_type=MeetingType.COMMITTEE) | Q(is_center_group=True))
        .order_by("held_on", "start_time", "pk")
    )
    ids = [m.pk for m in meetings]
    speakers: dict[int, list[Attendance]] = defaultdict(list)
    for row in Attendance.objects.filter(meeting_id__in=ids, is_speaker=True).order_by("pk"):
        speakers[row.meeting_id].append(row)
    hours = dict(
        StudyRecord.objects.filter(meeting_id__in=ids)
        .values_list("meeting_id")
        .annotate(total=Sum("hours"))
        .values_list("meeting_id", "total")
    )
    first_topics = [m for m in meetings if m.meeting_type == MeetingType.COMMITTEE]
    sessions = [m for m in meetings if m.is_center_group]
    for session in sessions:
        session.speaker_rows = speakers.get(session.pk, [])
        session.total_hours = hours.get(session.pk) or Decimal("0")
        session.attendance_rate = (
            round(session.present_count * 100 / session.expected_count) if session.expected_count else None
        )
    return {
        "committee_meetings": first_topics,
        "with_first_topic": sum(1 for m in first_topics if m.first_topic),
        "sessions": sessions,
        "session_hours": sum((s.total_hours for s in sessions), Decimal("0")),
        "speaker_count": sum(len(s.speaker_rows) for s in sessions),
    }


# --- member's own records ---------------------------------------------------------------------


def my_attendance(*, user: Any, member: Member, limit: int | None = 20) -> list[Attendance]:
    """A member's own attendance rows (finished meetings), newest first (all with ``limit=None``). One query."""
    return list(
        Attendance.objects.visible_to(user, VIEW)
        .filter(member=member, meeting__status=MeetingStatus.FINAL)
        .select_related("meeting", "meeting__organization")
        .order_by("-meeting__held_on", "-meeting_id")[:limit]
    )


def my_study_records(*, user: Any, member: Member) -> QuerySet[StudyRecord]:
    """All of a member's study records, newest first. One query."""
    return StudyRecord.objects.visible_to(user, VIEW).filter(member=member).order_by("-studied_on", "-pk")


def my_study(*, user: Any, member: Member, year: int, limit: int = 20) -> dict[str, Any]:
    records = StudyRecord.objects.visible_to(user, VIEW).filter(member=member, studied_on__year=year)
    total = records.aggregate(total=Sum("hours"))["total"] or Decimal("0")
    target = study_target_hours()
    return {
        "records": list(records.order_by("-studied_on", "-pk")[:limit]),
        "total": total,
        "target": target,
        "percent": min(100, int(total * 100 / target)) if target else 100,
        "year": year,
    }


def attendance_summary_counts(meeting_ids: list[int]) -> dict[int, dict[str, int]]:
    rows = Attendance.objects.filter(meeting_id__in=meeting_ids).values("meeting_id", "status").annotate(n=Count("pk"))
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        out[row["meeting_id"]][row["status"]] = row["n"]
    return out


def managed_organizations(*, user: Any) -> list[Organization]:
    """Organizations the user records meetings for (secretary, org_admin, auditor roles), with
    their branches and groups for org_admins. One query (plus the cached scope)."""
    return list(Organization.objects.filter(path__in=get_scope(user).reading_paths()).order_by("path"))
