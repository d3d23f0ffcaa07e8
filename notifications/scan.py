"""Rule evaluation: which reminders are due on a date for a batch of organizations.

Each evaluator reads through the owning app's models or selectors with a few bulk queries for the
whole batch (never one query per organization or member) and yields ``Candidate`` reminders.
Writing them exactly once is ``services.reminder_candidates_write``.

Trigger semantics ("catch-up"): a reminder fires on the first scan on or after its trigger date
while its condition still holds, and its dedupe key (rule, target, period) keeps it to one. A day
the scan did not run therefore loses nothing.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.urls import NoReverseMatch, reverse

from members.choices import MembershipStatus, Stage
from members.models import Member
from notifications.rules import LAST_DAY, RuleDef, get_rule
from notifications.selectors import EffectiveSetting, SettingsResolver
from organizations.choices import OrgType
from organizations.dates import add_months, add_years
from organizations.models import CommitteeTerm, Organization

BIRTHDAY_CATCH_UP_DAYS = 6  # a missed greeting is still sent within a week, never months late


@dataclass(frozen=True)
class OrgInfo:
    pk: int
    path: str
    org_type: str
    name: str

    @property
    def link(self) -> str:
        return url_or("organizations:detail", self.pk)


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


def url_or(name: str, *args: object, fallback: str = "") -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


def member_link(member_id: int, org: OrgInfo) -> str:
    return url_or("members:detail", member_id, fallback=org.link)


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

    def __init__(self, *, orgs: Iterable[OrgInfo], on: date, settings: SettingsResolver | None = None) -> None:
        self.orgs = {org.pk: org for org in orgs}
        self.on = on
        self.settings = settings or SettingsResolver.for_paths(org.path for org in self.orgs.values())

    @classmethod
    def for_org_ids(cls, org_ids: Iterable[int], on: date) -> ScanContext:
        rows = Organization.objects.filter(pk__in=list(org_ids)).values_list("pk", "path", "org_type", "name")
        return cls(orgs=[OrgInfo(*row) for row in rows], on=on)

    def setting(self, org: OrgInfo, code: str) -> EffectiveSetting:
        return self.settings.get(org.path, code)

    def enabled(self, org: OrgInfo, code: str) -> bool:
        return self.setting(org, code).enabled

    def org_ids_with(self, *codes: str) -> list[int]:
        return [org.pk for org in self.orgs.values() if any(self.enabled(org, code) for code in codes)]


Evaluator = Callable[[ScanContext], Iterator[Candidate]]
EVALUATORS: list[Evaluator] = []


def evaluator(fn: Evaluator) -> Evaluator:
    EVALUATORS.append(fn)
    return fn


def evaluate(ctx: ScanContext) -> list[Candidate]:
    found: dict[str, Candidate] = {}
    for fn in EVALUATORS:
        for candidate in fn(ctx):
            found.setdefault(candidate.dedupe_key, candidate)
    return list(found.values())


# --- committee terms (organizations) ---------------------------------------------------------


@evaluator
def terms(ctx: ScanContext) -> Iterator[Candidate]:
    org_ids = ctx.org_ids_with("term_ending", "term_overdue")
    if not org_ids:
        return
    rows = CommitteeTerm.objects.filter(organization_id__in=org_ids, ended_on__isnull=True).values_list(
        "pk", "organization_id", "number", "expires_on", "extended_until"
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
                f"{org.name}第{number}届委员会任期将于 {expiry:%Y年%m月%d日} 届满",
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
                f"{org.name}第{number}届委员会任期已于 {expiry:%Y年%m月%d日} 届满，尚未换届",
                "请及时换届；确需延期的，应报上级党组织批准（一般不超过 1 年）。",
                org.link,
            )


# --- member records (members) ----------------------------------------------------------------


def _members(ctx: ScanContext, *codes: str):  # noqa: ANN202 - a queryset of Member
    return Member.objects.filter(organization_id__in=ctx.org_ids_with(*codes))


@evaluator
def political_birthdays(ctx: ScanContext) -> Iterator[Candidate]:
    rows = (
        _members(ctx, "political_birthday")
        .filter(
            user__isnull=False,
            user__is_active=True,
            joined_on__isnull=False,
            stage__in=[Stage.PROBATIONARY, Stage.FULL],
            membership_status=MembershipStatus.NORMAL,
        )
        .values_list("pk", "organization_id", "user_id", "name", "joined_on")
    )
    on = ctx.on
    for member_id, org_id, user_id, name, joined_on in rows:
        for year in (on.year, on.year - 1):
            day = anniversary(joined_on, year)
            if year > joined_on.year and day <= on <= day + timedelta(days=BIRTHDAY_CATCH_UP_DAYS):
                org = ctx.orgs[org_id]
                yield Candidate(
                    "political_birthday",
                    org,
                    "member",
                    member_id,
                    str(year),
                    f"{name}同志，祝您政治生日快乐！",
                    f"{joined_on:%Y年%m月%d日}，您光荣加入中国共产党，至今已 {year - joined_on.year} 年。"
                    "不忘初心、牢记使命，感谢您的坚守与奉献。",
                    "",
                    member_user_id=user_id,
                )
                break


@evaluator
def probation_ending(ctx: ScanContext) -> Iterator[Candidate]:
    """预备期 is 1 year from the 支部大会 vote (``joined_on``); the members app's development
    records may extend it (``probation_end_dates`` when available)."""
    rows = list(
        _members(ctx, "dev_probation_ending")
        .filter(stage=Stage.PROBATIONARY, membership_status=MembershipStatus.NORMAL, joined_on__isnull=False)
        .values_list("pk", "organization_id", "name", "joined_on")
    )
    if not rows:
        return
    extended = _probation_extensions([row[0] for row in rows])
    for member_id, org_id, name, joined_on in rows:
        org = ctx.orgs[org_id]
        end = extended.get(member_id) or add_years(joined_on, 1)
        setting = ctx.setting(org, "dev_probation_ending")
        if ctx.on >= end - timedelta(days=setting.offset or 0):
            yield Candidate(
                "dev_probation_ending",
                org,
                "member",
                member_id,
                end.isoformat(),
                f"预备党员{name}的预备期将于 {end:%Y年%m月%d日} 期满",
                "请督促其提出书面转正申请，并及时召开支部大会讨论转正。",
                member_link(member_id, org),
            )


def _probation_extensions(member_ids: list[int]) -> dict[int, date]:
    """Probation end dates moved by a recorded extension (members app), if it provides them."""
    try:
        from members.selectors_development import probation_end_dates  # type: ignore[attr-defined]
    except ImportError:
        return {}
    return probation_end_dates(member_ids=member_ids)


@evaluator
def lost_contact(ctx: ScanContext) -> Iterator[Candidate]:
    rows = (
        _members(ctx, "member_lost_contact")
        .filter(is_lost_contact=True, lost_contact_since__isnull=False, membership_status=MembershipStatus.NORMAL)
        .values_list("pk", "organization_id", "name", "lost_contact_since")
    )
    for member_id, org_id, name, since in rows:
        org = ctx.orgs[org_id]
        months = ctx.setting(org, "member_lost_contact").offset or 0
        if add_months(since, months) <= ctx.on:
            yield Candidate(
                "member_lost_contact",
                org,
                "member",
                member_id,
                since.isoformat(),
                f"党员{name}自 {since:%Y年%m月%d日} 失去联系已满 {months} 个月",
                "失联满 6 个月、经多方查找仍无法取得联系的，应按规定研究停止党籍（由党组织讨论决定）。",
                member_link(member_id, org),
            )


@evaluator
def away_without_transfer(ctx: ScanContext) -> Iterator[Candidate]:
    members = _members(ctx, "member_away").filter(
        is_mobile=True, mobile_since__isnull=False, membership_status=MembershipStatus.NORMAL
    )
    pending = _pending_transfer_member_ids(members)
    for member_id, org_id, name, since, destination in members.values_list(
        "pk", "organization_id", "name", "mobile_since", "mobile_destination"
    ):
        if member_id in pending:
            continue
        org = ctx.orgs[org_id]
        months = ctx.setting(org, "member_away").offset or 0
        if add_months(since, months) <= ctx.on:
            where = f"（外出流向：{destination}）" if destination else ""
            yield Candidate(
                "member_away",
                org,
                "member",
                member_id,
                since.isoformat(),
                f"流动党员{name}外出已满 {months} 个月，尚未转接组织关系",
                f"外出 6 个月以上且地点相对固定的，应转接组织关系{where}；暂不转接的，应保持经常联系。",
                member_link(member_id, org),
            )


def _pending_transfer_member_ids(members) -> set[int]:  # noqa: ANN001
    try:
        from members.models import MemberTransfer
    except ImportError:
        return set()
    return set(MemberTransfer.objects.filter(member__in=members, status="pending").values_list("member_id", flat=True))


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
    with_members = set(
        Member.objects.filter(
            organization_id__in=org_ids,
            stage__in=[Stage.PROBATIONARY, Stage.FULL],
            membership_status=MembershipStatus.NORMAL,
        )
        .values_list("organization_id", flat=True)
        .distinct()
    )
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
                url_or("members:dues-month", org_id, fallback=org.link),
            )
