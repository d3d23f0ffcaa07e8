"""The development pipeline (members: ``DevelopmentState``, the members app's reading of the
steps): due steps and reviews of applicants, activists, candidates and probationary members."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from core.dates import add_months, add_years
from members.choices import Stage
from members.development.models import DevelopmentStep
from members.development.rules import REVIEW_EVERY_MONTHS, DevelopmentState
from notifications.scan.context import Candidate, ScanContext, cn, url_to
from notifications.scan.members import PIPELINE_STAGES, batch_members


def _development_states(member_ids: list[int]) -> dict[int, DevelopmentState]:
    """One query of steps for many people, read by the members app's ``DevelopmentState``."""
    steps: dict[int, list] = {}
    for step in DevelopmentStep.objects.filter(member_id__in=member_ids).order_by("occurred_on", "number", "pk"):
        steps.setdefault(step.member_id, []).append(step)
    return {member_id: DevelopmentState(steps=rows) for member_id, rows in steps.items()}


def _dev_link(member_id: int) -> str:
    return url_to("development:person", member_id)


DEV_RULES = (
    "dev_application_talk",
    "dev_activist_review",
    "dev_activist_year",
    "dev_approval_pending",
    "dev_probation_ending",
)


def development(ctx: ScanContext) -> Iterator[Candidate]:
    enabled_orgs = set(ctx.org_ids_with(*DEV_RULES))
    rows = [
        (m.pk, m.organization_id, m.name, m.stage, m.joined_on)
        for m in batch_members(ctx)
        if m.stage in PIPELINE_STAGES and m.organization_id in enabled_orgs
    ]
    if not rows:
        return
    states = _development_states([row[0] for row in rows])
    nothing_recorded = DevelopmentState(steps=[])  # read-only: shared by people without steps
    on = ctx.on
    for member_id, org_id, name, stage, joined_on in rows:
        org = ctx.orgs[org_id]
        state = states.get(member_id, nothing_recorded)
        link = _dev_link(member_id)
        if stage == Stage.APPLICANT and state.applied_on and state.talked_on is None:
            setting = ctx.setting(org, "dev_application_talk")
            if setting.enabled and on >= state.applied_on + timedelta(days=setting.offset or 0):
                yield Candidate(
                    "dev_application_talk",
                    org,
                    "member",
                    member_id,
                    state.applied_on.isoformat(),
                    f"{name}的入党申请书（{cn(state.applied_on)}收到）尚未登记谈话",
                    f"党组织应在收到入党申请书后 1 个月内派人谈话，即 {cn(add_months(state.applied_on, 1))} 前。",
                    link,
                )
        if stage == Stage.ACTIVIST and state.activist_on:
            setting = ctx.setting(org, "dev_activist_review")
            reviews = [step.occurred_on for step in state.all("activist_review")]
            due = add_months(max([state.activist_on, *reviews]), REVIEW_EVERY_MONTHS)
            if setting.enabled and on >= due - timedelta(days=setting.offset or 0):
                yield Candidate(
                    "dev_activist_review",
                    org,
                    "member",
                    member_id,
                    due.isoformat(),
                    f"入党积极分子{name}应于 {cn(due)} 前完成半年一次的培养考察",
                    "支部每半年对入党积极分子进行一次考察，请登记考察情况。",
                    link,
                )
            eligible = add_years(state.activist_on, 1)
            if ctx.enabled(org, "dev_activist_year") and on >= eligible:
                yield Candidate(
                    "dev_activist_year",
                    org,
                    "member",
                    member_id,
                    state.activist_on.isoformat(),
                    f"入党积极分子{name}培养已满 1 年",
                    f"{cn(state.activist_on)} 确定为入党积极分子，经 1 年以上培养教育考察，"
                    "可听取意见后由支委会研究是否确定为发展对象。",
                    link,
                )
        vote = state.admission_vote
        if stage in (Stage.CANDIDATE, Stage.PROBATIONARY) and vote is not None and state.admission_approval is None:
            setting = ctx.setting(org, "dev_approval_pending")
            if setting.enabled and on >= vote.occurred_on + timedelta(days=setting.offset or 0):
                yield Candidate(
                    "dev_approval_pending",
                    org,
                    "member",
                    member_id,
                    vote.occurred_on.isoformat(),
                    f"{name}的接收预备党员已于 {cn(vote.occurred_on)}经支部大会通过，上级党委尚未审批",
                    f"上级党委应在 3 个月内（{cn(add_months(vote.occurred_on, 3))} 前）审批；"
                    "超过 6 个月须重新讨论接收。",
                    link,
                )
        if stage == Stage.PROBATIONARY:
            end = state.probation_end or (add_years(joined_on, 1) if joined_on else None)
            setting = ctx.setting(org, "dev_probation_ending")
            if (
                end
                and setting.enabled
                and not state.pending_full_vote
                and on >= end - timedelta(days=setting.offset or 0)
            ):
                yield Candidate(
                    "dev_probation_ending",
                    org,
                    "member",
                    member_id,
                    end.isoformat(),
                    f"预备党员{name}的预备期将于 {cn(end)} 期满",
                    "请督促其提出书面转正申请，并及时召开支部大会讨论转正。",
                    link,
                )
