"""Reads for 发展党员: a branch's pipeline (who is at which stage, what is due, what is overdue)
and one person's step timeline. Fixed query counts whatever the number of people."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from core import dates
from core.access import VIEW
from members.choices import MembershipStatus, Stage
from members.development.models import STAGE_NAMES, STAGE_OF_STEP, DevelopmentStep, StepCode
from members.development.rules import Action, DevelopmentState, next_actions
from members.models import Member
from organizations.choices import OrgType
from organizations.models import Organization

PIPELINE_STAGES = [Stage.APPLICANT, Stage.ACTIVIST, Stage.CANDIDATE, Stage.PROBATIONARY]


@dataclass
class PipelineEntry:
    member: Member
    state: DevelopmentState
    actions: list[Action]

    @property
    def last_step(self) -> DevelopmentStep | None:
        return self.state.steps[-1] if self.state.steps else None

    @property
    def level(self) -> str:
        levels = {a.level for a in self.actions}
        return "danger" if "danger" in levels else "warning" if "warning" in levels else ""

    @property
    def stage_since(self) -> date | None:
        code = {
            Stage.APPLICANT: StepCode.APPLICATION,
            Stage.ACTIVIST: StepCode.ACTIVIST,
            Stage.CANDIDATE: StepCode.CANDIDATE,
        }.get(self.member.stage)
        if code:
            return self.state.date_of(code)
        return self.member.joined_on


def _steps_queryset() -> QuerySet[DevelopmentStep]:
    return DevelopmentStep.objects.order_by("occurred_on", "number", "pk")


def development_pipeline(*, organization: Organization, on: date | None = None, stage: str = "") -> list[PipelineEntry]:
    """People of a branch (and its 党小组) in the pipeline, with their next steps (2 queries)."""
    on = on or dates.today()
    stages = [stage] if stage else PIPELINE_STAGES
    members = list(
        Member.objects.filter(
            Q(organization=organization)
            | Q(organization__path__startswith=organization.path, organization__org_type=OrgType.GROUP),
            stage__in=stages,
            membership_status=MembershipStatus.NORMAL,
        ).order_by("name", "pk")
    )
    steps: dict[int, list[DevelopmentStep]] = defaultdict(list)
    for step in _steps_queryset().filter(member__in=[m.pk for m in members]):
        steps[step.member_id].append(step)
    entries = []
    for member in members:
        state = DevelopmentState(steps=steps.get(member.pk, []))
        entries.append(
            PipelineEntry(member=member, state=state, actions=next_actions(state, stage=member.stage, on=on))
        )
    order = {s: i for i, s in enumerate(PIPELINE_STAGES)}
    entries.sort(key=lambda e: (order.get(e.member.stage, 9), e.member.name, e.member.pk))
    return entries


def development_pipeline_counts(*, user: Any, root: Organization) -> dict[str, int]:
    """People at each stage in a subtree (one query), for dashboards."""
    from django.db.models import Count

    rows = (
        Member.objects.visible_to(user, VIEW)
        .filter(organization__path__startswith=root.path, membership_status=MembershipStatus.NORMAL)
        .values("stage")
        .annotate(n=Count("pk"))
    )
    counts = {s.value: 0 for s in Stage}
    for row in rows:
        counts[row["stage"]] = row["n"]
    return counts


def member_development_steps(member: Member) -> QuerySet[DevelopmentStep]:
    """A person's development steps in order, with the members named in them (two queries)."""
    return (
        DevelopmentStep.objects.filter(member=member)
        .prefetch_related(Prefetch("people", queryset=Member.objects.order_by("name")))
        .order_by("occurred_on", "number", "pk")
    )


def development_timeline(member: Member, *, on: date | None = None) -> dict[str, Any]:
    """One person's steps grouped by the 5 stages, their key dates and what is due next (2 queries)."""
    on = on or dates.today()
    steps = list(
        _steps_queryset()
        .filter(member=member)
        .select_related("recorded_by")
        .prefetch_related(Prefetch("people", queryset=Member.objects.order_by("name")))
    )
    state = DevelopmentState(steps=steps)
    by_stage: dict[int, list[DevelopmentStep]] = defaultdict(list)
    for step in steps:
        by_stage[STAGE_OF_STEP[step.step]].append(step)
    done = {s.step for s in steps if s.decision != "rejected"}
    return {
        "member": member,
        "state": state,
        "stages": [(number, STAGE_NAMES[number], by_stage.get(number, [])) for number in range(1, 6)],
        "actions": next_actions(state, stage=member.stage, on=on),
        "done_codes": done,
        "key_dates": [
            ("递交入党申请书", state.applied_on),
            ("确定为入党积极分子", state.activist_on),
            ("确定为发展对象", state.candidate_on),
            ("支部大会通过接收", state.admission_vote.occurred_on if state.admission_vote else None),
            ("预备期满", state.probation_end),
            ("转为正式党员", member.full_on),
        ],
    }
