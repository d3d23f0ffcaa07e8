"""Families fed by the other apps: organizational life, dues, development, ratings, rectification
and follow-up items.

Each family uses the owning app's own definitions:

- organizational life: ``activities.compliance`` items and statuses (done / late / waived / not
  done). Share done on time = done ÷ (done + late + overdue) as in ``activities.compliance.Tally``.
  Items are filed under the month their period ends; an item not done is *overdue* once its
  deadline (period end + ``PB_COMPLIANCE_GRACE_DAYS``) has passed, which the dashboard works out at
  read time, so the stored rows do not go stale when a deadline passes;
- dues: ``members.dues.selectors`` (rate by people = paid ÷ owing members of the month, amount rate
  = paid ÷ due; arrears flags ``warning`` and ``lapse`` of ``ArrearsStatus``);
- development: ``members.development.rules.next_actions`` (an action at level ``danger`` is past
  its legal timing);
- ratings: final ``assessments.Rating`` rows (stars and 升星/降星); rectification: items not closed,
  overdue when still open after the deadline (``assessments.selectors.rectification_open_items``);
- follow-up items: ``activities.FollowUp`` in ``OPEN_FOLLOW_UP``; overdue when past ``due_on``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date

from django.conf import settings
from django.db.models import CharField, Count, DecimalField, F, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, Substr

from activities.choices import OPEN_FOLLOW_UP, ComplianceStatus
from activities.compliance import RuleBook, compliance_items_for
from activities.models import FollowUp
from assessments.choices import RatingStatus, RectificationStatus
from assessments.models import Rating, RectificationItem
from dashboard.facts import ZERO, PythonSource, QuerySource, Row, family_register, grouped
from dashboard.signals import watch
from members.choices import MembershipStatus, Stage
from members.development.models import DevelopmentStep
from members.development.rules import DevelopmentState, next_actions
from members.dues.models import DuesMonth
from members.dues.selectors import arrears_by_member
from members.models import Member
from organizations.models import Organization

NOW = "now"
MONEY = DecimalField(max_digits=16, decimal_places=2)


def _text(value: str) -> Value:
    return Value(value, output_field=CharField())


def _org_q(org_ids: list[int] | None, field: str = "organization_id") -> Q:
    return Q() if org_ids is None else Q(**{f"{field}__in": org_ids})


def life_years(on: date) -> list[int]:
    history = int(getattr(settings, "PB_DASHBOARD_LIFE_YEARS", 2))
    return list(range(on.year - history + 1, on.year + 1))


# --- organizational life -------------------------------------------------------------------------


def _life_rows(org_ids: list[int] | None, on: date) -> Iterator[Row]:
    book = RuleBook.load()
    if org_ids is None:
        groups = [
            (root, list(Organization.objects.filter(path__startswith=root.path).order_by("path")))
            for root in Organization.objects.filter(depth=1)
        ]
    else:
        groups = [(org, [org]) for org in Organization.objects.filter(pk__in=org_ids)]
    stored = {ComplianceStatus.DONE: "done", ComplianceStatus.LATE: "late", ComplianceStatus.WAIVED: "waived"}
    for root, orgs in groups:
        for year in life_years(on):
            items = compliance_items_for(root=root, orgs=orgs, year=year, on=on, book=book)
            for org_id, org_items in items.items():
                counts: dict[tuple[str, str], int] = defaultdict(int)
                for item in org_items:
                    status = stored.get(item.status, "open")
                    counts[(f"{item.period_end:%Y-%m}", f"{item.kind}|{status}")] += 1
                for (period, dim), n in counts.items():
                    yield (org_id, period, "life", dim, n, ZERO)


def _register_life() -> None:
    family_register("life", "组织生活", [PythonSource(_life_rows)])
    # A committee's own items read its whole subtree (rosters, 书记讲党课); every refresh runs in
    # the worker after the commit (dashboard.outbox), never in the request.
    watch("activities.Meeting", ("organization_id",), ("life",))
    watch("activities.ComplianceWaiver", ("organization_id",), ("life",))
    watch("activities.Talk", ("organization_id",), ("life",))
    watch("members.Member", ("organization_id",), ("life",))
    watch("organizations.Position", ("term.organization_id",), ("life",))


# --- dues ---------------------------------------------------------------------------------------


def _month_key(field: str) -> Substr:
    return Substr(Cast(field, CharField()), 1, 7)


def _dues_source(dim: str, value, amount) -> QuerySource:
    def build(org_ids: list[int] | None, on: date):
        qs = DuesMonth.objects.filter(_org_q(org_ids))
        return grouped(
            qs,
            org=F("organization_id"),
            period=_month_key("month"),
            metric=_text("dues"),
            dimension=_text(dim),
            value=value,
            amount=amount,
        )

    return QuerySource(build)


def _arrears_rows(org_ids: list[int] | None, on: date) -> Iterator[Row]:
    status = arrears_by_member(_org_q(org_ids), on=on)
    if not status:
        return
    # A member's arrears belong to the branch that collects (the ledger's organization).
    owner = dict(
        DuesMonth.objects.filter(_org_q(org_ids), member_id__in=list(status), amount_due__gt=0, paid_on__isnull=True)
        .order_by("member_id", "-month")
        .values_list("member_id", "organization_id")
    )
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for member_id, arrears in status.items():
        org_id = owner.get(member_id)
        if org_id is None:
            continue
        if arrears.unpaid_count:
            counts[(org_id, "any")] += 1
        if arrears.warning:
            counts[(org_id, "warning")] += 1
        if arrears.lapse:
            counts[(org_id, "lapse")] += 1
    for (org_id, dim), n in counts.items():
        yield (org_id, NOW, "arrears", dim, n, ZERO)


def _register_dues() -> None:
    zero = Value(ZERO, output_field=MONEY)
    family_register(
        "dues",
        "党费",
        [
            _dues_source("due", Count("pk", filter=Q(amount_due__gt=0)), Coalesce(Sum("amount_due"), zero)),
            _dues_source(
                "paid",
                Count("pk", filter=Q(amount_due__gt=0, paid_on__isnull=False)),
                Coalesce(Sum("amount_paid"), zero),
            ),
            PythonSource(_arrears_rows),
        ],
    )
    watch("members.DuesMonth", ("organization_id",), ("dues",))
    watch("members.DuesPayment", ("organization_id",), ("dues",))
    watch("members.DuesApproval", ("organization_id",), ("dues",))


# --- development pipeline -------------------------------------------------------------------------


def _pipeline_rows(org_ids: list[int] | None, on: date) -> Iterator[Row]:
    stages = [Stage.APPLICANT, Stage.ACTIVIST, Stage.CANDIDATE, Stage.PROBATIONARY]
    people = dict(
        Member.objects.filter(_org_q(org_ids), stage__in=stages, membership_status=MembershipStatus.NORMAL).values_list(
            "pk", "organization_id"
        )
    )
    if not people:
        return
    stage_of = dict(Member.objects.filter(pk__in=list(people)).values_list("pk", "stage"))
    steps: dict[int, list] = defaultdict(list)
    qs = DevelopmentStep.objects.filter(member_id__in=list(people)).order_by("member_id", "occurred_on", "number", "pk")
    for step in qs.iterator(chunk_size=5000):
        steps[step.member_id].append(step)
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for member_id, org_id in people.items():
        actions = next_actions(DevelopmentState(steps=steps.get(member_id, [])), stage=stage_of[member_id], on=on)
        if any(action.level == "danger" for action in actions):
            counts[(org_id, stage_of[member_id])] += 1
    for (org_id, stage), n in counts.items():
        yield (org_id, NOW, "pipeline_overdue", stage, n, ZERO)


def _register_pipeline() -> None:
    family_register("pipeline", "发展党员", [PythonSource(_pipeline_rows)])
    watch("members.DevelopmentStep", ("organization_id",), ("pipeline",))
    watch("members.Member", ("organization_id",), ("pipeline",))


# --- ratings and rectification ------------------------------------------------------------------


def _ratings_source(metric: str, dimension) -> QuerySource:
    def build(org_ids: list[int] | None, on: date):
        qs = Rating.objects.filter(_org_q(org_ids), status=RatingStatus.FINAL)
        return grouped(
            qs,
            org=F("organization_id"),
            period=Cast("year", CharField(max_length=4)),
            metric=_text(metric),
            dimension=dimension,
            value=Count("pk"),
        )

    return QuerySource(build)


def _rectification_source(dim: str, extra_q) -> QuerySource:
    def build(org_ids: list[int] | None, on: date):
        qs = RectificationItem.objects.filter(_org_q(org_ids)).exclude(status=RectificationStatus.CLOSED)
        qs = qs.filter(extra_q(on))
        return grouped(
            qs,
            org=F("organization_id"),
            period=_text(NOW),
            metric=_text("rectification"),
            dimension=_text(dim),
            value=Count("pk"),
        )

    return QuerySource(build)


def _register_assessments() -> None:
    family_register(
        "ratings",
        "星级评定与整改",
        [
            _ratings_source("stars", Coalesce(Cast("stars", CharField(max_length=2)), _text(""))),
            _ratings_source("star_change", F("change")),
            _rectification_source("open", lambda on: Q()),
            _rectification_source("overdue", lambda on: Q(status=RectificationStatus.OPEN, deadline__lt=on)),
        ],
    )
    watch("assessments.Rating", ("organization_id",), ("ratings",))
    watch("assessments.RectificationItem", ("organization_id",), ("ratings",))


# --- follow-up items ----------------------------------------------------------------------------


def _followup_source(dim: str, extra_q) -> QuerySource:
    def build(org_ids: list[int] | None, on: date):
        qs = FollowUp.objects.filter(_org_q(org_ids), extra_q(on), status__in=list(OPEN_FOLLOW_UP))
        return grouped(
            qs,
            org=F("organization_id"),
            period=_text(NOW),
            metric=_text("followup"),
            dimension=_text(dim),
            value=Count("pk"),
        )

    return QuerySource(build)


def _register_followups() -> None:
    family_register(
        "followups",
        "决议落实",
        [
            _followup_source("open", lambda on: Q()),
            _followup_source("overdue", lambda on: Q(due_on__lt=on)),
        ],
    )
    watch("activities.FollowUp", ("organization_id",), ("followups",))
    # meeting_save writes follow-up items in bulk (no signals): a saved meeting refreshes them too.
    watch("activities.Meeting", ("organization_id",), ("followups",))


def register() -> None:
    """Register the families fed by the domain apps (called once from ``DashboardConfig.ready``)."""
    _register_life()
    _register_dues()
    _register_pipeline()
    _register_assessments()
    _register_followups()
