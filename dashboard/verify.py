"""``dashboard_verify``: every stored figure of an organization against a recount from the raw rows.

Two checks:

- each family's own facts recomputed from the source rows (the owning apps' rules, as a rebuild
  does) and summed over the subtree, compared with the stored own and cumulative rows of every
  organization checked;
- a few headline figures counted with plain queries that share no code with the sources (党员 by
  stage, organizations by type, open follow-up items), compared with the stored cumulative rows.

Dated figures (overdue items) are computed for today: a difference there after midnight and before
the nightly rebuild means a deadline passed, which the rebuild moves.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count

from activities.choices import OPEN_FOLLOW_UP
from activities.models import FollowUp
from core.dates import today
from dashboard.facts import ZERO, facts_recount
from dashboard.models import DashboardFact
from members.choices import MembershipStatus, Stage
from members.models import Member
from organizations.models import Organization

FactKey = tuple[int, bool, str, str, str]  # (organization, cumulative, period, metric, dimension)


@dataclass(frozen=True)
class Difference:
    org_id: int
    org_name: str
    cumulative: bool
    period: str
    metric: str
    dimension: str
    stored: tuple[int, Decimal]
    expected: tuple[int, Decimal]
    check: str = "sources"

    def __str__(self) -> str:
        scope = "含下级" if self.cumulative else "本级"
        what = f"{self.period} {self.metric}:{self.dimension}"
        stored, expected = _show(self.stored), _show(self.expected)
        return f"{self.org_name}（{self.org_id}）{scope} {what}：存储 {stored}，重新统计 {expected}（{self.check}）"


def _show(pair: tuple[int, Decimal]) -> str:
    value, amount = pair
    return f"{value}" if not amount else f"{value} / ¥{amount}"


def _ancestors(path: str, by_path: dict[str, int]) -> list[int]:
    step = Organization.steplen
    return [by_path[path[:i]] for i in range(step, len(path) + 1, step) if path[:i] in by_path]


def _scope(org: Organization | None) -> dict[int, str]:
    qs = Organization.objects.all() if org is None else Organization.objects.filter(path__startswith=org.path)
    return dict(qs.values_list("pk", "path"))


def verify_facts(org: Organization | None = None) -> list[Difference]:
    """Differences between the stored facts of ``org``'s subtree (every organization when None)
    and a recount; empty when the summary tables are right."""
    paths = _scope(org)
    if not paths:
        return []
    by_path = {path: pk for pk, path in paths.items()}
    ids = None if org is None else sorted(paths)
    own = facts_recount(org_ids=ids, on=today())
    expected: dict[FactKey, list] = defaultdict(lambda: [0, ZERO])
    for (org_id, period, metric, dim), (_fam, value, amount) in own.items():
        if org_id not in paths or not (value or amount):
            continue
        expected[(org_id, False, period, metric, dim)][0] += value
        expected[(org_id, False, period, metric, dim)][1] += amount
        for anc in _ancestors(paths[org_id], by_path):
            expected[(anc, True, period, metric, dim)][0] += value
            expected[(anc, True, period, metric, dim)][1] += amount
    stored_qs = DashboardFact.objects.all() if ids is None else DashboardFact.objects.filter(organization_id__in=ids)
    stored = {
        (o, c, p, m, d): (v, a)
        for o, c, p, m, d, v, a in stored_qs.values_list(
            "organization_id", "cumulative", "period", "metric", "dimension", "value", "amount"
        ).iterator(chunk_size=10000)
    }
    names = dict(Organization.objects.filter(pk__in=list(paths)).values_list("pk", "name"))
    out: list[Difference] = []
    for key in sorted(set(stored) | set(expected)):
        got = stored.get(key, (0, ZERO))
        want = tuple(expected.get(key, (0, ZERO)))
        if got[0] != want[0] or Decimal(got[1]) != Decimal(want[1]):
            out.append(Difference(key[0], names.get(key[0], ""), key[1], key[2], key[3], key[4], got, want))
    out.extend(_independent(paths, by_path, stored, names))
    return out


def _independent(
    paths: dict[int, str], by_path: dict[str, int], stored: dict[FactKey, tuple[int, Decimal]], names: dict[int, str]
) -> list[Difference]:
    """Headline figures counted with plain queries (no code shared with the sources)."""
    ids = list(paths)
    counts: Counter = Counter()

    def spread(org_id: int, metric: str, dim: str, n: int) -> None:
        for anc in _ancestors(paths[org_id], by_path):
            counts[(anc, metric, dim)] += n

    members = (
        Member.objects.filter(organization_id__in=ids, membership_status=MembershipStatus.NORMAL)
        .values_list("organization_id", "stage")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for org_id, stage, n in members:
        spread(org_id, "stage", stage, n)
    for org_id, org_type in Organization.objects.filter(pk__in=ids).values_list("pk", "org_type"):
        spread(org_id, "org_type", org_type, 1)
    followups = (
        FollowUp.objects.filter(organization_id__in=ids, status__in=list(OPEN_FOLLOW_UP))
        .values_list("organization_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for org_id, n in followups:
        spread(org_id, "followup", "open", n)
    checked = {(o, m, d) for (o, m, d) in counts}
    checked |= {
        (o, m, d)
        for (o, c, p, m, d) in stored
        if c and p == "now" and (m in ("stage", "org_type") or (m, d) == ("followup", "open"))
    }
    out: list[Difference] = []
    for org_id, metric, dim in sorted(checked):
        want = counts.get((org_id, metric, dim), 0)
        got = stored.get((org_id, True, "now", metric, dim), (0, ZERO))
        if got[0] != want and (want or got[0]):
            out.append(
                Difference(org_id, names.get(org_id, ""), True, "now", metric, dim, got, (want, ZERO), "直接计数")
            )
    return out


def party_members(org: Organization) -> int:
    """党员 (预备 + 正式, in normal standing) of the subtree, counted directly."""
    return Member.objects.filter(
        organization__path__startswith=org.path,
        membership_status=MembershipStatus.NORMAL,
        stage__in=[Stage.PROBATIONARY, Stage.FULL],
    ).count()
