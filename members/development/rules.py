"""The 发展党员 timing rules (FZ 2014, domain-rules §6) as pure functions over a person's steps.

``DevelopmentState`` reads the key dates out of the dated step records; ``next_actions`` says
what is due next and what is overdue. No database access here, so the pipeline list computes
every person's state from one query of steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings

from core.dates import add_months, add_years
from members.development.models import Decision, FullOutcome, StepCode

# Steps that may be recorded more than once (reviews every 6 months; a failed vote is repeated;
# after an extension the 转正 steps come again; an approval past the limit restarts the vote).
REPEATABLE = frozenset(
    {
        StepCode.ACTIVIST_REVIEW,
        StepCode.POLITICAL_REVIEW,
        StepCode.TRAINING,
        StepCode.ADMISSION_VOTE,
        StepCode.APPROVAL_TALK,
        StepCode.ADMISSION_APPROVAL,
        StepCode.PROBATION_REVIEW,
        StepCode.FULL_APPLICATION,
        StepCode.FULL_VOTE,
        StepCode.FULL_APPROVAL,
    }
)

# What must be on record (not refused) before a step, and not dated after it.
PREREQUISITES: dict[str, tuple[str, ...]] = {
    StepCode.APPLICATION: (),
    StepCode.TALK: (StepCode.APPLICATION,),
    StepCode.ACTIVIST: (StepCode.APPLICATION,),
    StepCode.ACTIVIST_FILED: (StepCode.ACTIVIST,),
    StepCode.CONTACTS: (StepCode.ACTIVIST,),
    StepCode.ACTIVIST_REVIEW: (StepCode.ACTIVIST,),
    StepCode.CANDIDATE: (StepCode.ACTIVIST,),
    StepCode.CANDIDATE_FILED: (StepCode.CANDIDATE,),
    StepCode.INTRODUCERS: (StepCode.CANDIDATE,),
    StepCode.POLITICAL_REVIEW: (StepCode.CANDIDATE,),
    StepCode.TRAINING: (StepCode.CANDIDATE,),
    StepCode.COMMITTEE_REVIEW: (StepCode.INTRODUCERS, StepCode.POLITICAL_REVIEW, StepCode.TRAINING),
    StepCode.PRE_REVIEW: (StepCode.COMMITTEE_REVIEW,),
    StepCode.APPLICATION_FORM: (StepCode.PRE_REVIEW,),
    StepCode.ADMISSION_VOTE: (StepCode.APPLICATION_FORM,),
    StepCode.APPROVAL_TALK: (StepCode.ADMISSION_VOTE,),
    StepCode.ADMISSION_APPROVAL: (StepCode.ADMISSION_VOTE, StepCode.APPROVAL_TALK),
    StepCode.ADMISSION_FILED: (StepCode.ADMISSION_APPROVAL,),
    StepCode.PLACEMENT: (StepCode.ADMISSION_APPROVAL,),
    StepCode.OATH: (StepCode.ADMISSION_APPROVAL,),
    StepCode.PROBATION_REVIEW: (StepCode.ADMISSION_APPROVAL,),
    StepCode.FULL_APPLICATION: (StepCode.ADMISSION_APPROVAL,),
    StepCode.FULL_VOTE: (StepCode.FULL_APPLICATION,),
    StepCode.FULL_APPROVAL: (StepCode.FULL_VOTE,),
    StepCode.ARCHIVE: (StepCode.FULL_APPROVAL,),
}

# Steps whose record carries votes of the 支部大会.
VOTE_STEPS = frozenset({StepCode.ADMISSION_VOTE, StepCode.FULL_VOTE})
# Steps that record a yes/no decision (the others are "done").
DECISION_STEPS = frozenset(
    {
        StepCode.POLITICAL_REVIEW,
        StepCode.COMMITTEE_REVIEW,
        StepCode.PRE_REVIEW,
        StepCode.ADMISSION_VOTE,
        StepCode.ADMISSION_APPROVAL,
        StepCode.FULL_VOTE,
        StepCode.FULL_APPROVAL,
    }
)

MIN_AGE_YEARS = 18  # 党章 §1
TALK_WITHIN_MONTHS = 1  # FZ: 派人谈话 within 1 month of the application
ACTIVIST_MIN_YEARS = 1  # FZ: ≥1 year of training before becoming a 发展对象
REVIEW_EVERY_MONTHS = 6  # FZ: the branch reviews an activist every 6 months
CONTACTS_MIN, CONTACTS_MAX = 1, 2  # 培养联系人
INTRODUCERS_COUNT = 2  # 入党介绍人
TRAINING_MIN_DAYS, TRAINING_MIN_HOURS = 3, 24  # 短期集中培训
PROBATION_YEARS = 1  # 预备期, from the 支部大会 vote
EXTENSION_MIN_MONTHS, EXTENSION_MAX_MONTHS = 6, 12  # 延长预备期
FULL_APPROVAL_WITHIN_MONTHS = 3  # 转正 审批


def approval_warn_months() -> int:
    return settings.PB_DEV_APPROVAL_WARN_MONTHS


def approval_restart_months() -> int:
    return settings.PB_DEV_APPROVAL_RESTART_MONTHS


@dataclass
class DevelopmentState:
    """Key dates read from one person's steps (ordered by date)."""

    steps: list = field(default_factory=list)

    def latest(self, code: str, *, ok_only: bool = False):
        found = None
        for step in self.steps:
            if step.step == code and (not ok_only or step.decision != Decision.REJECTED):
                found = step
        return found

    def all(self, code: str) -> list:
        return [s for s in self.steps if s.step == code]

    def date_of(self, code: str) -> date | None:
        step = self.latest(code, ok_only=True)
        return step.occurred_on if step else None

    @property
    def applied_on(self) -> date | None:
        return self.date_of(StepCode.APPLICATION)

    @property
    def talked_on(self) -> date | None:
        return self.date_of(StepCode.TALK)

    @property
    def activist_on(self) -> date | None:
        return self.date_of(StepCode.ACTIVIST)

    @property
    def candidate_on(self) -> date | None:
        return self.date_of(StepCode.CANDIDATE)

    @property
    def admission_vote(self):
        """The latest 支部大会 vote that passed the admission."""
        return self.latest_passed(StepCode.ADMISSION_VOTE)

    def latest_passed(self, code: str):
        found = None
        for step in self.steps:
            if step.step == code and step.decision == Decision.APPROVED:
                found = step
        return found

    @property
    def admission_approval(self):
        vote = self.admission_vote
        approval = self.latest_passed(StepCode.ADMISSION_APPROVAL)
        if vote is None or approval is None or approval.occurred_on < vote.occurred_on:
            return None
        return approval

    @property
    def joined_on(self) -> date | None:
        """党籍 dates from the 支部大会 vote once the committee has approved it (JY §24)."""
        return self.admission_vote.occurred_on if self.admission_approval else None

    @property
    def extension_months(self) -> int:
        """Months of 延长预备期 approved so far."""
        total = 0
        for approval in self.all(StepCode.FULL_APPROVAL):
            if approval.decision == Decision.APPROVED and approval.outcome == FullOutcome.EXTEND:
                total += approval.extension_months or 0
        return total

    @property
    def probation_end(self) -> date | None:
        """预备期满: 1 year from the vote (FZ), plus any approved extension."""
        joined = self.joined_on
        if joined is None:
            return None
        return add_months(add_years(joined, PROBATION_YEARS), self.extension_months)

    @property
    def pending_full_vote(self):
        """A passed 转正 vote not yet followed by a 审批."""
        vote = self.latest_passed(StepCode.FULL_VOTE)
        if vote is None:
            return None
        for approval in self.all(StepCode.FULL_APPROVAL):
            if approval.occurred_on >= vote.occurred_on and approval.pk != vote.pk:
                return None
        return vote

    @property
    def full_on(self) -> date | None:
        for approval in self.all(StepCode.FULL_APPROVAL):
            if approval.decision == Decision.APPROVED and approval.outcome == FullOutcome.FULL:
                return self._probation_end_before(approval)
        return None

    def _probation_end_before(self, approval) -> date | None:
        joined = self.joined_on
        if joined is None:
            return None
        months = sum(
            (a.extension_months or 0)
            for a in self.all(StepCode.FULL_APPROVAL)
            if a.decision == Decision.APPROVED
            and a.outcome == FullOutcome.EXTEND
            and a.occurred_on <= approval.occurred_on
            and a.pk != approval.pk
        )
        return add_months(add_years(joined, PROBATION_YEARS), months)

    @property
    def cancelled(self) -> bool:
        return any(
            a.decision == Decision.APPROVED and a.outcome == FullOutcome.CANCEL
            for a in self.all(StepCode.FULL_APPROVAL)
        )

    def reviews_between(self, start: date, end: date) -> int:
        return sum(1 for s in self.all(StepCode.ACTIVIST_REVIEW) if start < s.occurred_on <= end)


def reviews_required(activist_on: date, on: date) -> int:
    """Completed 6-month periods of an activist's training by ``on`` (each needs a review)."""
    count = 0
    while add_months(activist_on, REVIEW_EVERY_MONTHS * (count + 1)) <= on:
        count += 1
    return count


@dataclass(frozen=True)
class Action:
    label: str
    due: date | None
    level: str  # "" (upcoming), "warning" (due soon / late but allowed), "danger" (overdue / blocked)


def next_actions(state: DevelopmentState, *, stage: str, on: date) -> list[Action]:
    """What the branch should do next for one person, with due dates and overdue warnings."""
    actions: list[Action] = []
    if state.cancelled:
        return actions
    applied = state.applied_on
    if stage == "applicant" and applied:
        if state.talked_on is None:
            due = add_months(applied, TALK_WITHIN_MONTHS)
            level = "danger" if on > due else "warning" if on >= due - timedelta(days=7) else ""
            actions.append(Action("派人谈话（收到申请后一个月内）", due, level))
        else:
            actions.append(Action("可确定为入党积极分子（支委会研究）", None, ""))
    elif stage == "activist" and state.activist_on:
        reviews = state.all(StepCode.ACTIVIST_REVIEW)
        last = max([state.activist_on] + [r.occurred_on for r in reviews])
        due = add_months(last, REVIEW_EVERY_MONTHS)
        actions.append(
            Action(
                "半年一次培养考察", due, "danger" if on > due else "warning" if on >= due - timedelta(days=30) else ""
            )
        )
        eligible = add_years(state.activist_on, ACTIVIST_MIN_YEARS)
        actions.append(Action("满一年后可确定为发展对象", eligible, ""))
    elif stage == "candidate":
        vote = state.admission_vote
        if vote is not None and state.admission_approval is None:
            due = add_months(vote.occurred_on, approval_warn_months())
            limit = add_months(vote.occurred_on, approval_restart_months())
            level = "danger" if on > due else "warning" if on >= due - timedelta(days=14) else ""
            label = "上级党委审批（支部大会通过后三个月内）"
            if on > limit:
                label = f"超过 {approval_restart_months()} 个月未审批，须重新讨论接收"
            actions.append(Action(label, due, level))
        else:
            missing = [
                label
                for code, label in (
                    (StepCode.INTRODUCERS, "确定入党介绍人"),
                    (StepCode.POLITICAL_REVIEW, "政治审查"),
                    (StepCode.TRAINING, "短期集中培训"),
                )
                if state.latest(code, ok_only=True) is None
            ]
            actions.extend(Action(label, None, "") for label in missing)
            if not missing:
                actions.append(Action("支委会审查、预审后提交支部大会讨论", None, ""))
    elif stage == "probationary":
        pending = state.pending_full_vote
        end = state.probation_end
        if pending is not None:
            due = add_months(pending.occurred_on, FULL_APPROVAL_WITHIN_MONTHS)
            actions.append(Action("上级党委审批转正（三个月内）", due, "danger" if on > due else ""))
        elif end is not None:
            level = "danger" if on > end else "warning" if on >= end - timedelta(days=30) else ""
            actions.append(Action("预备期满，支部大会讨论转正", end, level))
    return actions
