"""Rule evaluation: which reminders are due on a date for a batch of organizations.

Each evaluator reads through the owning app's models or selectors with a few bulk queries for the
whole batch (never one query per organization or member) and yields ``Candidate`` reminders.
Writing them exactly once is ``services.reminders.reminder_candidates_write``.

Trigger semantics ("catch-up"): a reminder fires on the first scan on or after its trigger date
while its condition still holds, and its dedupe key (rule, target, period) keeps it to one. A day
the scan did not run therefore loses nothing.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from django.urls import reverse

from activities.choices import ComplianceStatus
from activities.compliance import RuleBook, compliance_items_for, grace_days
from activities.selectors import member_study_hours, study_target_hours
from assessments.choices import RectificationStatus
from assessments.models import RectificationItem
from core.dates import add_months, add_years
from members.choices import MembershipStatus, Stage
from members.development.models import DevelopmentStep
from members.development.rules import REVIEW_EVERY_MONTHS, DevelopmentState
from members.dues.selectors import dues_arrears_flags
from members.models import Member, MemberTransfer
from notifications.rules import LAST_DAY, RuleDef, get_rule
from notifications.selectors import EffectiveSetting, SettingsResolver
from organizations.choices import OrgType
from organizations.models import CommitteeTerm, Organization

BIRTHDAY_CATCH_UP_DAYS = 6  # a missed greeting is still sent within a week, never months late


@dataclass(frozen=True)
class OrgInfo:
    pk: int
    path: str
    org_type: str
    name: str  # the short name where there is one: reminders are read on phones

    @classmethod
    def from_row(cls, row: tuple) -> OrgInfo:
        pk, path, org_type, name, short_name = row
        return cls(pk, path, org_type, short_name or name)

    @property
    def link(self) -> str:
        return url_to("organizations:detail", self.pk)


@dataclass
class Candidate:
    rule: str
    org: OrgInfo
    target_type: str
    target_id: int
    period: str
    title: str
    body: str
    link: str = ""
    member_user_id: int | None = None
    extra_recipients: list[int] = field(default_factory=list)

    @property
    def dedupe_key(self) -> str:
        return f"{self.rule}:{self.target_type}:{self.target_id}:{self.period}"

    @property
    def definition(self) -> RuleDef:
        return get_rule(self.rule)


def cn(day: date) -> str:
    """2027年3月10日 (no leading zeros, as Chinese documents write dates)."""
    return f"{day.year}年{day.month}月{day.day}日"


_SENTINEL = 987654321


@lru_cache(maxsize=256)
def _link_template(name: str, arity: int) -> str:
    """The URL of ``name`` with a sentinel in place of its integer argument (reverse() once per
    route, not once per member: it costs about half a millisecond). Every app's routes are
    installed: a missing route is an error, not an empty link."""
    return reverse(name, args=[_SENTINEL] * arity)


def url_to(name: str, *args: int) -> str:
    template = _link_template(name, len(args))
    if args:
        return template.replace(str(_SENTINEL), str(args[0]), 1)
    return template


def member_link(member_id: int) -> str:
    return url_to("members:detail", member_id)


def anniversary(day: date, year: int) -> date:
    """``day`` in ``year`` (29 February falls on the 28th in other years)."""
    return date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


def monthly_trigger_day(on: date, day_of_month: str | None) -> int:
    last = calendar.monthrange(on.year, on.month)[1]
    if not day_of_month or day_of_month == LAST_DAY:
        return last
    return min(int(day_of_month), last)


class ScanContext:
    """One batch of organizations, their effective settings, and the scan date."""

    def __init__(
        self,
        *,
        orgs: Iterable[OrgInfo],
        on: date,
        settings: SettingsResolver | None = None,
        root: Organization | None = None,
    ) -> None:
        self.orgs = {org.pk: org for org in orgs}
        self.on = on
        self.root = root  # set for "tree" scans: the root whose whole subtree is in ``orgs``
        self._members: list | None = None  # the batch's members, fetched once (_batch_members)
        self.settings = settings or SettingsResolver.for_paths(org.path for org in self.orgs.values())

    @classmethod
    def for_org_ids(cls, org_ids: Iterable[int], on: date) -> ScanContext:
        rows = (
            Organization.objects.filter(pk__in=list(org_ids))
            .order_by()
            .values_list("pk", "path", "org_type", "name", "short_name")
        )
        return cls(orgs=[OrgInfo.from_row(row) for row in rows], on=on)

    @classmethod
    def for_subtree(cls, root: Organization, on: date) -> ScanContext:
        rows = (
            Organization.objects.filter(path__startswith=root.path)
            .order_by()
            .values_list("pk", "path", "org_type", "name", "short_name")
        )
        return cls(orgs=[OrgInfo.from_row(row) for row in rows], on=on, root=root)

    def setting(self, org: OrgInfo, code: str) -> EffectiveSetting:
        return self.settings.get(org.path, code)

    def enabled(self, org: OrgInfo, code: str) -> bool:
        return self.setting(org, code).enabled

    def org_ids_with(self, *codes: str) -> list[int]:
        return [org.pk for org in self.orgs.values() if any(self.enabled(org, code) for code in codes)]


Evaluator = Callable[[ScanContext], Iterator[Candidate]]
# Scopes: "orgs" evaluators run per batch of organizations; "tree" evaluators run once per root
# organization over its whole subtree (the compliance calendar loads a subtree's facts at once:
# one call per root is far cheaper than one per batch).
ORGS = "orgs"
TREE = "tree"
EVALUATORS: dict[str, list[Evaluator]] = {ORGS: [], TREE: []}


def evaluator(fn: Evaluator | None = None, *, scope: str = ORGS):  # noqa: ANN201 - decorator
    def register(fn: Evaluator) -> Evaluator:
        EVALUATORS[scope].append(fn)
        return fn

    return register(fn) if fn is not None else register


def evaluate(ctx: ScanContext, scope: str = ORGS) -> list[Candidate]:
    found: dict[str, Candidate] = {}
    for fn in EVALUATORS[scope]:
        for candidate in fn(ctx):
            found.setdefault(candidate.dedupe_key, candidate)
    return list(found.values())


# --- committee terms (organizations) ---------------------------------------------------------


@evaluator
def terms(ctx: ScanContext) -> Iterator[Candidate]:
    org_ids = ctx.org_ids_with("term_ending", "term_overdue")
    if not org_ids:
        return
    rows = (
        CommitteeTerm.objects.filter(organization_id__in=org_ids, ended_on__isnull=True)
        .order_by()
        .values_list("pk", "organization_id", "number", "expires_on", "extended_until")
    )
    for term_id, org_id, number, expires_on, extended_until in rows:
        org = ctx.orgs[org_id]
        if org.org_type == OrgType.GROUP:
            continue
        expiry = extended_until or expires_on
        ending = ctx.setting(org, "term_ending")
        if ending.enabled and add_months(expiry, -(ending.offset or 0)) <= ctx.on <= expiry:
            yield Candidate(
                "term_ending",
                org,
                "term",
                term_id,
                expiry.isoformat(),
                f"{org.name}（第{number}届）任期将于 {cn(expiry)} 届满",
                "请提前做好换届准备（一般提前 1–2 个月向上级党组织报告换届事项）。",
                org.link,
            )
        if ctx.on > expiry and ctx.enabled(org, "term_overdue"):
            yield Candidate(
                "term_overdue",
                org,
                "term",
                term_id,
                expiry.isoformat(),
                f"{org.name}（第{number}届）任期已于 {cn(expiry)} 届满，尚未换届",
                "请及时换届；确需延期的，应报上级党组织批准（一般不超过 1 年）。",
                org.link,
            )


# --- member records (members) ----------------------------------------------------------------


class MemberRow(NamedTuple):
    pk: int
    organization_id: int
    user_id: int | None
    user_active: bool | None
    name: str
    stage: str
    joined_on: date | None
    is_lost_contact: bool
    lost_contact_since: date | None
    is_mobile: bool
    mobile_since: date | None
    mobile_destination: str

    @property
    def is_party_member(self) -> bool:
        return self.stage in PARTY_STAGES

    @property
    def login(self) -> int | None:
        return self.user_id if self.user_id and self.user_active else None


PARTY_STAGES = frozenset({Stage.PROBATIONARY, Stage.FULL})
PIPELINE_STAGES = frozenset({Stage.APPLICANT, Stage.ACTIVIST, Stage.CANDIDATE, Stage.PROBATIONARY})


def _batch_members(ctx: ScanContext) -> list[MemberRow]:
    """Every member in normal standing of the batch's organizations: one query shared by all the
    member rules (never one query per rule, organization or member)."""
    cached = ctx._members
    if cached is None:
        rows = (
            Member.objects.filter(organization_id__in=list(ctx.orgs), membership_status=MembershipStatus.NORMAL)
            .order_by()
            .values_list(
                "pk", "organization_id", "user_id", "user__is_active", "name", "stage", "joined_on",
                "is_lost_contact", "lost_contact_since", "is_mobile", "mobile_since", "mobile_destination",
            )
        )  # fmt: skip
        cached = ctx._members = [MemberRow(*row) for row in rows]
    return cached


def _members_for(ctx: ScanContext, code: str) -> Iterator[tuple[MemberRow, OrgInfo]]:
    for member in _batch_members(ctx):
        org = ctx.orgs[member.organization_id]
        if ctx.enabled(org, code):
            yield member, org


@evaluator
def political_birthdays(ctx: ScanContext) -> Iterator[Candidate]:
    on = ctx.on
    for member, org in _members_for(ctx, "political_birthday"):
        joined_on = member.joined_on
        if not (member.login and joined_on and member.is_party_member):
            continue
        for year in (on.year, on.year - 1):
            day = anniversary(joined_on, year)
            if year > joined_on.year and day <= on <= day + timedelta(days=BIRTHDAY_CATCH_UP_DAYS):
                yield Candidate(
                    "political_birthday",
                    org,
                    "member",
                    member.pk,
                    str(year),
                    f"{member.name}同志，祝您政治生日快乐！",
                    f"{cn(joined_on)}，您光荣加入中国共产党，至今已 {year - joined_on.year} 年。"
                    "不忘初心、牢记使命，感谢您的坚守与奉献。",
                    "",
                    member_user_id=member.login,
                )
                break


@evaluator
def lost_contact(ctx: ScanContext) -> Iterator[Candidate]:
    for member, org in _members_for(ctx, "member_lost_contact"):
        since = member.lost_contact_since
        if not (member.is_lost_contact and since):
            continue
        months = ctx.setting(org, "member_lost_contact").offset or 0
        if add_months(since, months) <= ctx.on:
            yield Candidate(
                "member_lost_contact",
                org,
                "member",
                member.pk,
                since.isoformat(),
                f"党员{member.name}自 {cn(since)} 失去联系已满 {months} 个月",
                "失联满 6 个月、经多方查找仍无法取得联系的，应按规定研究停止党籍（由党组织讨论决定）。",
                member_link(member.pk),
            )


@evaluator
def away_without_transfer(ctx: ScanContext) -> Iterator[Candidate]:
    due = []
    for member, org in _members_for(ctx, "member_away"):
        if member.is_mobile and member.mobile_since:
            months = ctx.setting(org, "member_away").offset or 0
            if add_months(member.mobile_since, months) <= ctx.on:
                due.append((member, org, months))
    if not due:
        return
    pending = _pending_transfer_member_ids([member.pk for member, _, _ in due])
    for member, org, months in due:
        if member.pk in pending:
            continue
        destination = member.mobile_destination
        where = f"（外出流向：{destination}）" if destination else ""
        yield Candidate(
            "member_away",
            org,
            "member",
            member.pk,
            member.mobile_since.isoformat(),
            f"流动党员{member.name}外出已满 {months} 个月，尚未转接组织关系",
            f"外出 6 个月以上且地点相对固定的，应转接组织关系{where}；暂不转接的，应保持经常联系。",
            member_link(member.pk),
        )


def _pending_transfer_member_ids(member_ids: list[int]) -> set[int]:
    """Members with a transfer under way (members app): no "transfer your relations" reminder."""
    return set(
        MemberTransfer.objects.filter(member_id__in=member_ids, status="pending").values_list("member_id", flat=True)
    )


# --- dues collection (members) ---------------------------------------------------------------


@evaluator
def dues_collection(ctx: ScanContext) -> Iterator[Candidate]:
    org_ids = [
        pk
        for pk in ctx.org_ids_with("dues_collection")
        if ctx.orgs[pk].org_type not in (OrgType.GROUP, OrgType.TEMPORARY_BRANCH)
    ]
    if not org_ids:
        return
    with_members = {m.organization_id for m in _batch_members(ctx) if m.is_party_member}
    on = ctx.on
    for org_id in org_ids:
        if org_id not in with_members:
            continue
        org = ctx.orgs[org_id]
        setting = ctx.setting(org, "dues_collection")
        if on.day >= monthly_trigger_day(on, setting.day_of_month):
            yield Candidate(
                "dues_collection",
                org,
                "org",
                org_id,
                f"{on:%Y-%m}",
                f"{on.month} 月党费收缴提醒：{org.name}",
                "请按月收缴并登记本月党费；党员本人交纳，组织不得代交、扣缴。",
                url_to("dues:org", org_id),
            )


# --- development pipeline (members: DevelopmentState, the members app's reading of the steps) --


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


@evaluator
def development(ctx: ScanContext) -> Iterator[Candidate]:
    enabled_orgs = set(ctx.org_ids_with(*DEV_RULES))
    rows = [
        (m.pk, m.organization_id, m.name, m.stage, m.joined_on)
        for m in _batch_members(ctx)
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


# --- dues arrears (members: dues_arrears_flags) ----------------------------------------------


@evaluator
def dues_arrears(ctx: ScanContext) -> Iterator[Candidate]:
    enabled_orgs = set(ctx.org_ids_with("dues_arrears_warning", "dues_arrears_serious"))
    rows = [
        (m.pk, m.organization_id, m.name, m.login)
        for m in _batch_members(ctx)
        if m.is_party_member and m.organization_id in enabled_orgs
    ]
    if not rows:
        return
    flags = dues_arrears_flags(member_ids=[row[0] for row in rows], on=ctx.on)
    for member_id, org_id, name, user_id in rows:
        status = flags.get(member_id)
        if status is None or not status.unpaid_months:
            continue
        org = ctx.orgs[org_id]
        first = status.unpaid_months[0]
        link = url_to("dues:member", member_id)
        warning = ctx.setting(org, "dues_arrears_warning")
        if warning.enabled and (status.warning if warning.is_default else status.unpaid_count >= (warning.offset or 0)):
            yield Candidate(
                "dues_arrears_warning",
                org,
                "member",
                member_id,
                f"{first:%Y-%m}",
                f"{name}已有 {status.unpaid_count} 个月党费未交",
                f"自 {first.year}年{first.month}月 起累计 {status.unpaid_count} 个月未交纳党费，共 {status.owed_total} 元，请及时交纳。"
                "如有困难，可向党支部说明情况。",
                link,
                member_user_id=user_id,
            )
        serious = ctx.setting(org, "dues_arrears_serious")
        if serious.enabled and (status.lapse if serious.is_default else status.longest_run >= (serious.offset or 0)):
            yield Candidate(
                "dues_arrears_serious",
                org,
                "member",
                member_id,
                f"{first:%Y-%m}",
                f"{name}已连续 {status.longest_run} 个月未交党费",
                "连续 6 个月不交纳党费且无正当理由的，按自行脱党处理：由支部大会讨论决定除名，报上级党组织批准。"
                "系统仅作提示，是否处理由党组织决定。",
                link,
            )


# --- compliance calendar (activities: compliance_items_for) ----------------------------------

COMPLIANCE_RULES = ("compliance_upcoming", "compliance_due_today", "compliance_overdue", "compliance_escalation")


@evaluator(scope=TREE)
def compliance(ctx: ScanContext) -> Iterator[Candidate]:
    """Items and their statuses come from the activities app's compliance calendar
    (``compliance_items_for``); this only decides when to remind about them. Runs once per root
    over its whole subtree: the calendar loads a subtree's facts in a fixed number of queries."""
    org_ids = ctx.org_ids_with(*COMPLIANCE_RULES)
    if not org_ids or ctx.root is None:
        return
    on = ctx.on
    lead = max((ctx.setting(ctx.orgs[pk], "compliance_upcoming").offset or 0) for pk in org_ids)
    grace = max((ctx.setting(ctx.orgs[pk], "compliance_escalation").grace_days or 0) for pk in org_ids)
    window = (on - timedelta(days=grace + 1), on + timedelta(days=lead))
    if not _deadline_in(window, grace_days()):
        return  # every period ends on a month end: none of their deadlines falls in the window
    orgs = list(Organization.objects.filter(pk__in=org_ids).order_by("path"))
    book = RuleBook.load()
    open_states = (ComplianceStatus.UPCOMING, ComplianceStatus.DUE)
    for year in sorted({window[0].year, window[1].year}):
        items = compliance_items_for(root=ctx.root, orgs=orgs, year=year, window=window, on=on, book=book)
        for org_id, org_items in items.items():
            org = ctx.orgs[org_id]
            for item in org_items:
                if window[0] <= item.deadline <= window[1]:
                    yield from _compliance_candidates(ctx, org, item, open_states, ComplianceStatus.OVERDUE)


def _deadline_in(window: tuple[date, date], grace: int) -> bool:
    """Does a month end (plus the calendar's grace days) fall inside ``window``?"""
    day = window[0] - timedelta(days=grace)
    last = window[1] - timedelta(days=grace)
    while day <= last:
        if (day + timedelta(days=1)).day == 1:
            return True
        day += timedelta(days=1)
    return False


def _period_label(start: date, end: date) -> str:
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months == 1:
        return f"{start.year}年{start.month}月"
    if months == 3:
        return f"{start.year}年第{(start.month - 1) // 3 + 1}季度"
    return f"{start.year}年度"


def _compliance_candidates(ctx: ScanContext, org: OrgInfo, item, open_states, overdue) -> Iterator[Candidate]:  # noqa: ANN001
    on, deadline = ctx.on, item.deadline
    period = f"{item.kind}:{item.period_start.isoformat()}"
    what = f"{item.label}（{_period_label(item.period_start, item.period_end)}）"
    link = url_to("activities:compliance", org.pk)  # cached: cheap
    progress = f"要求 {item.required} 次，已开 {item.held} 次。"
    upcoming = ctx.setting(org, "compliance_upcoming")
    if (
        item.status in open_states
        and upcoming.enabled
        and deadline - timedelta(days=upcoming.offset or 0) <= on < deadline
    ):
        yield Candidate(
            "compliance_upcoming",
            org,
            "compliance",
            org.pk,
            period,
            f"{org.name}：{what}将于 {deadline.month}月{deadline.day}日 截止",
            f"{progress}请按时组织并及时录入会议记录。",
            link,
        )
    if item.status in open_states and on == deadline and ctx.enabled(org, "compliance_due_today"):
        yield Candidate(
            "compliance_due_today",
            org,
            "compliance",
            org.pk,
            period,
            f"{org.name}：{what}今天截止",
            f"{progress}今天是截止日期。",
            link,
        )
    if item.status == overdue:
        if ctx.enabled(org, "compliance_overdue"):
            yield Candidate(
                "compliance_overdue",
                org,
                "compliance",
                org.pk,
                period,
                f"{org.name}：{what}已逾期",
                f"截止日期 {cn(deadline)}，{progress}请尽快补开并录入。",
                link,
            )
        escalation = ctx.setting(org, "compliance_escalation")
        if escalation.enabled and on >= deadline + timedelta(days=escalation.grace_days or 0):
            yield Candidate(
                "compliance_escalation",
                org,
                "compliance",
                org.pk,
                period,
                f"下级组织逾期未完成：{org.name} {what}",
                f"截止日期 {cn(deadline)}，逾期已超过 {escalation.grace_days} 天，{progress}请督促落实。",
                link,
            )


# --- study pace (activities: member_study_hours, study_target_hours) -------------------------


@evaluator
def study_pace(ctx: ScanContext) -> Iterator[Candidate]:
    org_ids = [
        pk
        for pk in ctx.org_ids_with("study_pace")
        if ctx.on.day >= monthly_trigger_day(ctx.on, ctx.setting(ctx.orgs[pk], "study_pace").day_of_month)
    ]
    if not org_ids or ctx.on.month == 1:
        return
    wanted = set(org_ids)
    rows = [
        (m.pk, m.organization_id, m.login)
        for m in _batch_members(ctx)
        if m.login and m.is_party_member and m.organization_id in wanted
    ]
    if not rows:
        return
    target = study_target_hours()
    expected = (target * (ctx.on.month - 1) / 12).quantize(Decimal("0.1"))
    hours = member_study_hours(member_ids=[row[0] for row in rows], year=ctx.on.year)
    for member_id, org_id, user_id in rows:
        done = hours.get(member_id, Decimal("0"))
        if done >= expected:
            continue
        org = ctx.orgs[org_id]
        yield Candidate(
            "study_pace",
            org,
            "member",
            member_id,
            f"{ctx.on:%Y-%m}",
            f"{ctx.on.month} 月学习提醒：今年已学习 {done} 学时",
            f"全年集中学习培训不少于 {target} 学时，按进度到上月底约为 {expected} 学时。"
            "请合理安排学习（本提醒仅供参考，可在个人设置中关闭）。",
            url_to("members:me"),
            member_user_id=user_id,
        )


# --- rectification items (assessments) -------------------------------------------------------


@evaluator
def rectifications(ctx: ScanContext) -> Iterator[Candidate]:
    """Open items (not yet reported done): N days before the deadline, then once overdue. An item
    the organization has reported (submitted) waits for the reviewer's sign-off, not for a reminder."""
    org_ids = ctx.org_ids_with("rectification_due", "rectification_overdue")
    if not org_ids:
        return
    rows = (
        RectificationItem.objects.filter(organization_id__in=org_ids, status=RectificationStatus.OPEN)
        .order_by()
        .values_list("pk", "organization_id", "problem", "deadline")
    )
    for item_id, org_id, problem, deadline in rows:
        org = ctx.orgs[org_id]
        link = url_to("assessments:rectification-detail", item_id)
        short = problem if len(problem) <= 30 else f"{problem[:30]}…"
        due = ctx.setting(org, "rectification_due")
        if due.enabled and deadline - timedelta(days=due.offset or 0) <= ctx.on <= deadline:
            yield Candidate(
                "rectification_due",
                org,
                "rectification",
                item_id,
                deadline.isoformat(),
                f"{org.name}整改事项将于 {cn(deadline)} 到期",
                f"问题：{short}。请按时完成整改并报送整改情况。",
                link,
            )
        if ctx.on > deadline and ctx.enabled(org, "rectification_overdue"):
            yield Candidate(
                "rectification_overdue",
                org,
                "rectification",
                item_id,
                deadline.isoformat(),
                f"{org.name}整改事项已于 {cn(deadline)} 逾期",
                f"问题：{short}。整改时限已过，尚未报送整改情况。",
                link,
            )
