"""What the reminder rules share: the scan context (a batch of organizations, their effective
settings, the scan date), the ``Candidate`` a rule yields, and links and dates as reminders show
them."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from django.urls import reverse

from notifications.rules import LAST_DAY, RuleDef, get_rule
from notifications.selectors import EffectiveSetting, SettingsResolver
from organizations.models import Organization


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
    # Wording addressed to the member (“您…”) when the rule also reaches the secretary, whose copy
    # (``title``/``body``) names the member; empty: everyone gets ``title``/``body``.
    member_title: str = ""
    member_body: str = ""
    member_link: str = ""

    def wording_for(self, user_id: int) -> tuple[str, str, str]:
        """The title, body and link the recipient gets: each recipient is addressed as who they are."""
        if self.member_title and user_id == self.member_user_id:
            return self.member_title, self.member_body or self.body, self.member_link or self.link
        return self.title, self.body, self.link

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
        self.member_rows: list | None = None  # the batch's members, fetched once (batch_members)
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
