"""Reads for 换届选举: one election with everything its page shows (fixed number of queries), the
guided next step with what the rules require, and the org_admin's list of the subtree by stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import DateField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from activities.elections import rules
from activities.elections.models import (
    OPEN_STAGES,
    BallotCount,
    BallotRound,
    Candidate,
    Election,
    ElectionStage,
)
from activities.elections.services.voting import PostState, post_state
from core.access import VIEW, get_scope
from core.dates import add_months, today
from organizations.models import CommitteeTerm, Organization


def election_detail_queryset(user: Any) -> QuerySet[Election]:
    """An election with its organization, terms, meeting, officers, candidates and rounds: 4 queries."""
    return (
        Election.objects.visible_to(user, VIEW)
        .select_related("organization", "old_term", "new_term", "meeting", "secretary", "deputy")
        .prefetch_related(
            Prefetch("candidates", queryset=Candidate.objects.select_related("member").order_by("post", "order", "pk")),
            Prefetch(
                "rounds",
                queryset=BallotRound.objects.order_by("number").prefetch_related(
                    Prefetch("counts", queryset=BallotCount.objects.order_by("-votes_for", "pk"))
                ),
            ),
        )
    )


def post_states(election: Election) -> list[PostState]:
    """Per post, where the vote stands (from the prefetched rounds: no query)."""
    rounds = list(election.rounds.all())
    candidates = list(election.candidates.all())
    return [post_state(election, post, rounds, candidates) for post in election.posts]


@dataclass(frozen=True)
class Step:
    """What the secretary (or the organization above) does next, and what the rules require."""

    code: str
    title: str
    who: str  # "branch" or "upper" or ""
    requires: list[str] = field(default_factory=list)


def election_next_step(election: Election) -> Step:
    stage = election.stage
    seats = election.committee_seats
    if stage == ElectionStage.PREPARING:
        extra = (
            []
            if election.timing == "on_time"
            else [f"{election.get_timing_display()}须经上级党组织批准，一般不超过 1 年"]
        )
        return Step(
            "request",
            "向上级党组织报送换届请示",
            "branch",
            ["请示写明届满时间、应选名额和选举方式", *extra],
        )
    if stage == ElectionStage.REQUEST_PENDING:
        return Step("request_approval", "等待上级党组织批复换届请示", "upper", ["批复须登记日期和文号"])
    if stage == ElectionStage.CANDIDATES:
        need = (
            [f"委员候选人至少 {rules.min_candidates(seats)} 名（应选 {seats} 名 × 1.2 向上取整，差额不少于 20%）"]
            if seats
            else []
        )
        return Step(
            "candidates",
            "酝酿候选人预备人选并报上级审查",
            "branch",
            [
                "候选人须为正式党员，党籍状态正常，未受留党察看、未被停止党员权利",
                *need,
                "书记一般应有 1 年以上党龄",
            ],
        )
    if stage == ElectionStage.CANDIDATES_PENDING:
        return Step("candidates_approval", "等待上级党组织批复候选人预备人选", "upper", ["批复须登记日期和文号"])
    if stage == ElectionStage.READY:
        return Step(
            "assembly",
            "召开支部党员大会进行选举，登记到会情况",
            "branch",
            ["有选举权的党员到会超过应到会人数的五分之四，选举方为有效", "预备党员参加大会，但没有选举权"],
        )
    if stage == ElectionStage.VOTING:
        return Step(
            "rounds",
            "无记名投票，登记每轮发出、收回选票和计票结果",
            "branch",
            [
                "收回选票多于发出选票，本轮无效，应重新投票；少于发出选票有效",
                f"赞成票超过到会有选举权党员（{election.voters_present} 人）半数，始得当选",
                "得票超过半数的多于应选名额时，以得票多少为序；得票相等不能确定时，就得票相等的再次投票",
                "当选不足应选名额时，不足名额另行选举，或经大会决定空缺",
            ],
        )
    if stage == ElectionStage.ELECTED:
        if election.has_committee and election.secretary_id is None:
            return Step(
                "officers",
                "召开新一届委员会第一次会议，选举书记（副书记）",
                "branch",
                ["到会委员超过半数", "书记、副书记得票须超过全体委员半数", "书记一般应有 1 年以上党龄"],
            )
        return Step("report", "将选举结果报上级党组织", "branch", ["书记、副书记报上级批准，委员报上级备案"])
    if stage == ElectionStage.REPORT_PENDING:
        return Step("result_approval", "等待上级党组织批复选举结果", "upper", ["批复后自动建立新一届委员会及职务"])
    return Step("done", "换届选举已完成", "", [])


# --- the org_admin's list ------------------------------------------------------------------------

LIST_STAGES = [
    ("request_pending", "请示待批", [ElectionStage.REQUEST_PENDING]),
    ("candidates_pending", "候选人待批", [ElectionStage.CANDIDATES_PENDING]),
    ("report_pending", "已选举待批复", [ElectionStage.REPORT_PENDING]),
    (
        "in_progress",
        "办理中",
        [
            ElectionStage.PREPARING,
            ElectionStage.CANDIDATES,
            ElectionStage.READY,
            ElectionStage.VOTING,
            ElectionStage.ELECTED,
        ],
    ),
    ("completed", "已完成", [ElectionStage.COMPLETED]),
]


def election_list(*, user: Any, organization: Organization | None = None, group: str = "") -> QuerySet[Election]:
    """Elections the user sees (an org_admin: the subtree), overdue terms first, then by expiry."""
    qs = Election.objects.visible_to(user, VIEW).select_related("organization", "old_term")
    if organization is not None:
        qs = qs.filter(organization__path__startswith=organization.path)
    stages = next((s for code, _, s in LIST_STAGES if code == group), None)
    if stages is not None:
        qs = qs.filter(stage__in=stages)
    return qs.annotate(
        term_expiry=Coalesce("old_term__extended_until", "old_term__expires_on", output_field=DateField())
    ).order_by("term_expiry", "organization__path", "-pk")


@dataclass
class ListGroup:
    code: str
    label: str
    rows: list[Election]


def election_overview(*, user: Any, organization: Organization | None = None, on: date | None = None) -> dict[str, Any]:
    """The org_admin's page: elections grouped by stage (overdue terms first in each group) and the
    organizations whose term ends within the reminder window, or has ended, with no election open.
    Three queries."""
    on = on or today()
    elections = list(election_list(user=user, organization=organization))
    for e in elections:
        e.is_overdue = e.stage != ElectionStage.COMPLETED and e.term_expiry is not None and e.term_expiry < on
    groups = []
    for code, label, stages in LIST_STAGES:
        rows = [e for e in elections if e.stage in stages]
        rows.sort(key=lambda e: (not e.is_overdue, e.term_expiry or date.max))
        groups.append(ListGroup(code, label, rows))
    scope = get_scope(user)
    orgs = Organization.objects.visible_to(user, VIEW).filter(
        org_type__in=["branch", "joint_branch", "general_branch", "committee"]
    )
    if organization is not None:
        orgs = orgs.filter(path__startswith=organization.path)
    current = CommitteeTerm.objects.filter(organization=OuterRef("pk"), ended_on__isnull=True)
    window_end = add_months(on, settings.PB_TERM_WARNING_MONTHS)
    due = list(
        orgs.annotate(
            term_expiry=Subquery(
                current.annotate(e=Coalesce("extended_until", "expires_on", output_field=DateField())).values("e")[:1]
            ),
        )
        .exclude(elections__stage__in=OPEN_STAGES)
        .filter(term_expiry__isnull=False, term_expiry__lte=window_end)
        .order_by("term_expiry", "path")
        .distinct()
    )
    for org in due:
        org.is_overdue = org.term_expiry < on
        org.may_open = scope.may_record_for(org)
    return {"groups": groups, "due": due, "on": on}
