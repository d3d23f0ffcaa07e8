"""Demo organizational life: a year of meetings for the demo tree, so the compliance calendar,
roll-ups and study records have something to show. Deterministic for a seed; goes through the
meeting service (``meeting_save_system``: no acting user) so every count, credit and study hour is
computed as in real use."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from activities.choices import MeetingType
from activities.models import (
    ActivitySettings,
    AppraisalEntry,
    Attachment,
    Attendance,
    ComplianceWaiver,
    FollowUp,
    Meeting,
    MeetingCredit,
    Plan,
    Resolution,
    StudyPoints,
    StudyRecord,
    Talk,
)
from activities.selectors import committee_members_on, meeting_roster
from activities.services.inputs import AttendanceInput, MeetingInput, ResolutionInput
from activities.services.meetings import meeting_save_system
from activities.services.talks import talk_create_system
from core.dates import today
from organizations.choices import BRANCH_TYPES
from organizations.models import Organization, RoleAssignment

TOPICS = {
    MeetingType.THEME_DAY: [
        "学习党的二十届四中全会精神",
        "重温入党誓词",
        "走进社区志愿服务",
        "学习党章党规",
        "观看红色教育片",
    ],
    MeetingType.GENERAL_ASSEMBLY: ["通报支部工作，讨论发展党员", "研究评先评优推荐人选", "学习传达上级会议精神"],
    MeetingType.COMMITTEE: ["研究本月支部工作安排", "讨论入党积极分子培养", "研究党费收缴与使用"],
    MeetingType.LECTURE: ["书记讲党课：弘扬伟大建党精神", "专题党课：全面从严治党", "微党课：学习身边榜样"],
}
PLACES = ["党员活动室", "三楼会议室", "红色教育基地", "社区服务中心"]
REASONS = ["出差", "病假", "工作冲突", "外出学习"]


@dataclass
class DemoActivities:
    meetings: int
    talks: int
    branches: int


def _attendance(rng: random.Random, roster) -> list[AttendanceInput]:
    rows = []
    for person in roster.expected:
        roll = rng.random()
        status = "present" if roll < 0.86 else ("leave" if roll < 0.96 else "absent")
        who = {"member_id": person.member_id} if person.member_id else {"position_id": person.position.pk}
        rows.append(AttendanceInput(**who, status=status, reason=rng.choice(REASONS) if status != "present" else ""))
    return rows


def _record(
    rng: random.Random, org: Organization, meeting_type: str, held_on: dt.date, *, also=(), resolutions=()
) -> Meeting | None:
    roster = meeting_roster(organization=org, on=held_on, meeting_type=meeting_type)
    if not roster.expected:
        return None
    start = dt.time(rng.choice([9, 14, 15]), rng.choice([0, 30]))
    end = (dt.datetime.combine(held_on, start) + dt.timedelta(minutes=rng.choice([60, 90, 120]))).time()
    data = MeetingInput(
        meeting_type=meeting_type,
        also_counts_as=list(also),
        title=rng.choice(TOPICS.get(meeting_type, TOPICS[MeetingType.THEME_DAY])),
        held_on=held_on,
        start_time=start,
        end_time=end,
        place=rng.choice(PLACES),
        minutes="一、传达学习有关精神；二、结合实际讨论交流；三、部署下阶段工作。",
    )
    attendance = _attendance(rng, roster)
    present = sum(1 for row in attendance if row.status == "present")
    voters_present = sum(
        1
        for row, person in zip(attendance, roster.expected, strict=True)
        if row.status == "present" and person.is_voter
    )
    votes = present if meeting_type == MeetingType.COMMITTEE else voters_present
    items = [ResolutionInput(**r, votes_for=votes) for r in resolutions]
    meeting = meeting_save_system(organization=org, data=data, attendance=attendance, resolutions=items, finish=True)
    # Demo records were "entered" the day after the meeting (so past periods are on time).
    recorded = timezone.make_aware(dt.datetime.combine(held_on + dt.timedelta(days=1), dt.time(10, 0)))
    Meeting.objects.filter(pk=meeting.pk).update(finalized_at=recorded)
    MeetingCredit.objects.filter(meeting=meeting).update(recorded_on=held_on + dt.timedelta(days=1))
    return meeting


def record_demo_meeting(rng: random.Random, org: Organization, held_on: dt.date) -> Meeting:
    """One finished 支部党员大会 with its roster's attendance (drills and benches)."""
    meeting = _record(rng, org, MeetingType.GENERAL_ASSEMBLY, held_on)
    if meeting is None:
        raise ValueError(f"{org} has nobody to expect at a meeting")
    return meeting


@transaction.atomic
def seed_activities_demo(*, seed: int = 1, max_branches: int = 30) -> DemoActivities:
    """Meetings for this year up to last week in the demo secretary's branch and up to
    ``max_branches`` others; about one in ten due meetings is skipped so the calendar shows
    overdue items too."""
    rng = random.Random(seed)
    on = today()
    secretary_orgs = list(RoleAssignment.objects.filter(role="secretary").values_list("organization_id", flat=True))
    branches = list(Organization.objects.filter(org_type__in=list(BRANCH_TYPES)).order_by("path")[:max_branches])
    branches += list(Organization.objects.filter(pk__in=secretary_orgs).exclude(pk__in=[b.pk for b in branches]))
    count = talks = 0
    last = on - dt.timedelta(days=7)
    for org in branches:
        for month in range(1, last.month + 1):
            first_day = dt.date(on.year, month, 1)
            quarter_first = month % 3 == 1
            day = first_day + dt.timedelta(days=rng.randrange(5, 20))
            if day > last:
                continue
            if rng.random() > 0.1:
                also = ["lecture"] if quarter_first and rng.random() < 0.5 else []
                count += bool(_record(rng, org, MeetingType.THEME_DAY, day, also=also))
            if len(committee_members_on(organization=org, on=day)) >= 3 and rng.random() > 0.15:
                count += bool(_record(rng, org, MeetingType.COMMITTEE, day - dt.timedelta(days=2)))
            if month % 3 == 2 and rng.random() > 0.1:
                ga_day = min(day + dt.timedelta(days=3), last)
                resolutions = [
                    {
                        "title": "同意本季度支部工作安排",
                        "action_required": rng.random() < 0.5,
                        "follow_up_owner_name": "支部书记",
                        "follow_up_due_on": ga_day + dt.timedelta(days=30),
                    }
                ]
                count += bool(_record(rng, org, MeetingType.GENERAL_ASSEMBLY, ga_day, resolutions=resolutions))
            if month % 3 == 0 and rng.random() > 0.3:
                count += bool(_record(rng, org, MeetingType.LECTURE, day, also=[]))
        committee = [p for p in committee_members_on(organization=org, on=last) if p.member is not None]
        members = [p.member for p in meeting_roster(organization=org, on=last, meeting_type="other").expected]
        for person in committee[:2]:
            for member in members[:6]:
                if member.pk != person.member_id and rng.random() < 0.6:
                    try:
                        talk_create_system(
                            organization=org,
                            held_on=last - dt.timedelta(days=rng.randrange(1, 200)),
                            initiator=person.member,
                            counterpart=member,
                            topic="谈心谈话：思想和工作情况",
                        )
                    except ValidationError:
                        continue  # a day before one of them joined the branch or the committee
                    talks += 1
    return DemoActivities(meetings=count, talks=talks, branches=len(branches))


@transaction.atomic
def activities_demo_reset() -> None:
    """Remove all organizational-life rows (before the demo tree itself is removed)."""
    for model in (
        Attachment,
        AppraisalEntry,
        FollowUp,
        Resolution,
        Attendance,
        MeetingCredit,
        StudyRecord,
        StudyPoints,
        Talk,
        Plan,
        ComplianceWaiver,
        ActivitySettings,
    ):
        model.objects.all().delete()
    Meeting.objects.all().delete()
