"""Reads for 党费: this month's collection, arrears flags, the yearly summary, the subtree roll-up,
a member's own ledger. Each selector runs a fixed number of queries whatever the row count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Substr

from core import dates
from core.access import VIEW
from members.choices import MembershipStatus, Stage
from members.dues.models import ApprovalKind, DuesApproval, DuesFixing, DuesMonth
from members.dues.rules import month_from_index, month_index, month_start
from members.models import Member
from organizations.choices import OrgType
from organizations.models import Organization

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """A rate in percent with one decimal, or None when nothing was due."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- Arrears flags ---------------------------------------------------------------------------


@dataclass
class ArrearsStatus:
    """A member's unpaid months that have ended, and the flags they raise.

    - ``warning``: at least ``PB_DUES_ARREARS_WARNING_MONTHS`` (3) months unpaid;
    - ``lapse``: ``PB_DUES_LAPSE_MONTHS`` (6) consecutive months unpaid without an approved
      reason: flagged for the 自行脱党 procedure (DF08 §13, JY §31). The system flags; the
      支部大会 decides and the organization above approves.
    """

    unpaid_months: list[date] = field(default_factory=list)
    owed_total: Decimal = ZERO
    longest_run: int = 0

    @property
    def unpaid_count(self) -> int:
        return len(self.unpaid_months)

    @property
    def warning(self) -> bool:
        return self.unpaid_count >= settings.PB_DUES_ARREARS_WARNING_MONTHS

    @property
    def lapse(self) -> bool:
        return self.longest_run >= settings.PB_DUES_LAPSE_MONTHS

    @property
    def label(self) -> str:
        if self.lapse:
            return f"连续 {self.longest_run} 个月未交党费且无正当理由，应按自行脱党程序处理（由支部大会讨论决定）"
        if self.warning:
            return f"已 {self.unpaid_count} 个月未交党费，请及时提醒"
        return ""

    @property
    def level(self) -> str:
        return "danger" if self.lapse else "warning" if self.warning else ""


def arrears_status(unpaid: list[tuple[date, Decimal]], excused: list[DuesApproval], *, on: date) -> ArrearsStatus:
    """Flags from a member's unpaid ledger months (month, amount due) as of ``on``.

    Only months that have ended count (the current month is not yet in arrears). A month covered
    by an ``excused`` approval still counts as unpaid but breaks a run toward ``lapse``.
    """
    current = month_index(on)
    months = sorted({m: due for m, due in unpaid if month_index(m) < current}.items())
    status = ArrearsStatus(unpaid_months=[m for m, _ in months], owed_total=sum((d for _, d in months), ZERO))
    run, previous = 0, None
    for month, _ in months:
        if any(a.covers(month) for a in excused):
            run, previous = 0, None
            continue
        index = month_index(month)
        run = run + 1 if previous is not None and index == previous + 1 else 1
        previous = index
        status.longest_run = max(status.longest_run, run)
    return status


def arrears_by_member(member_filter: Q, *, on: date) -> dict[int, ArrearsStatus]:
    """ArrearsStatus for every member matching ``member_filter`` that has an unpaid ended month (2 queries)."""
    first_of_month = month_start(on)
    unpaid = (
        DuesMonth.objects.filter(member_filter, amount_due__gt=0, paid_on__isnull=True, month__lt=first_of_month)
        .values_list("member_id", "month", "amount_due")
        .order_by("member_id", "month")
    )
    by_member: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for member_id, month, due in unpaid:
        by_member[member_id].append((month, due))
    excused: dict[int, list[DuesApproval]] = defaultdict(list)
    if by_member:
        for approval in DuesApproval.objects.filter(member_id__in=list(by_member), kind=ApprovalKind.EXCUSED):
            excused[approval.member_id].append(approval)
    return {mid: arrears_status(rows, excused.get(mid, []), on=on) for mid, rows in by_member.items()}


# --- A branch's month ------------------------------------------------------------------------


def _branch_member_q(org: Organization, prefix: str = "") -> Q:
    """The branch's own records and any attached to its 党小组."""
    return Q(**{f"{prefix}organization": org}) | Q(
        **{f"{prefix}organization__path__startswith": org.path, f"{prefix}organization__org_type": OrgType.GROUP}
    )


def _branch_org_ids(org: Organization) -> list[int]:
    """The ids of ``_branch_member_q``: the branch and its 党小组 (one small query)."""
    groups = Organization.objects.filter(path__startswith=org.path, org_type=OrgType.GROUP).exclude(pk=org.pk)
    return [org.pk, *groups.values_list("pk", flat=True)]


@dataclass
class CollectionRow:
    member: Member
    row: DuesMonth | None
    arrears: ArrearsStatus | None

    @property
    def status(self) -> str:
        if self.row is None:
            return "unfixed"
        if self.row.amount_due == 0:
            return "exempt"
        return "paid" if self.row.paid_on else "unpaid"

    @property
    def status_label(self) -> str:
        return {"unfixed": "未核定", "exempt": "免交", "paid": "已交", "unpaid": "未交"}[self.status]


@dataclass
class CollectionSummary:
    members: int = 0
    due_count: int = 0
    paid_count: int = 0
    due_total: Decimal = ZERO
    paid_total: Decimal = ZERO
    unfixed: int = 0
    exempt: int = 0

    @property
    def rate(self) -> Decimal | None:
        """收缴率 by people: paid / owing (members exempted for the month are not owing)."""
        return percent(self.paid_count, self.due_count)

    @property
    def amount_rate(self) -> Decimal | None:
        return percent(self.paid_total, self.due_total) if self.due_total else None


def dues_collection(*, organization: Organization, month: date, on: date | None = None) -> dict[str, Any]:
    """This month's collection for one branch: each member's due/paid/status and the totals (3–5 queries)."""
    on = on or dates.today()
    month = month_start(month)
    rows = {
        row.member_id: row
        for row in DuesMonth.objects.filter(organization=organization, month=month).select_related("payment")
    }
    # The branch and its 党小组 as a list of ids: an OR across a join to the organizations would
    # scan every member of the province (#20.2); with ids both arms use an index (BitmapOr).
    members = list(
        Member.objects.filter(
            Q(pk__in=list(rows))
            | Q(
                organization_id__in=_branch_org_ids(organization),
                stage__in=[Stage.PROBATIONARY, Stage.FULL],
                membership_status=MembershipStatus.NORMAL,
            )
        ).order_by("name", "pk")
    )
    arrears = arrears_by_member(Q(organization=organization), on=on)
    lines = [CollectionRow(member=m, row=rows.get(m.pk), arrears=arrears.get(m.pk)) for m in members]
    summary = CollectionSummary(members=len(lines))
    for line in lines:
        if line.row is None:
            summary.unfixed += 1
        elif line.row.amount_due == 0:
            summary.exempt += 1
        else:
            summary.due_count += 1
            summary.due_total += line.row.amount_due
            if line.row.paid_on:
                summary.paid_count += 1
                summary.paid_total += line.row.amount_paid
    return {"organization": organization, "month": month, "lines": lines, "summary": summary}


def dues_arrears(*, organization: Organization, on: date | None = None) -> list[tuple[Member, ArrearsStatus]]:
    """Members of a branch with unpaid ended months, most months first, then by name (3 queries)."""
    on = on or dates.today()
    statuses = arrears_by_member(Q(organization=organization), on=on)
    members = Member.objects.filter(pk__in=list(statuses)).order_by("name", "pk")
    result = [(m, statuses[m.pk]) for m in members]
    result.sort(key=lambda pair: (-pair[1].longest_run, -pair[1].unpaid_count))
    return result


def dues_arrears_flags(*, member_ids: list[int], on: date | None = None) -> dict[int, ArrearsStatus]:
    """Arrears status for a set of members (for reminders and other apps), 2 queries."""
    return arrears_by_member(Q(member_id__in=member_ids), on=on or dates.today())


# --- The year (党费收缴公开) ------------------------------------------------------------------


def dues_year_summary(*, organization: Organization, year: int) -> dict[str, Any]:
    """Per month and per member totals of one branch's year, for publication to members (3 queries).

    Members are listed by name: no ranking (减负).
    """
    ledger = DuesMonth.objects.filter(organization=organization, month__year=year)
    money = Value(ZERO, output_field=MONEY)
    monthly = {
        row["month"]: row
        for row in ledger.values("month").annotate(
            due_count=Count("pk", filter=Q(amount_due__gt=0)),
            paid_count=Count("pk", filter=Q(amount_due__gt=0, paid_on__isnull=False)),
            due_total=Coalesce(Sum("amount_due"), money),
            paid_total=Coalesce(Sum("amount_paid"), money),
        )
    }
    months = []
    for number in range(1, 13):
        key = date(year, number, 1)
        row = monthly.get(key, {"due_count": 0, "paid_count": 0, "due_total": ZERO, "paid_total": ZERO})
        months.append({"month": key, **row, "rate": percent(row["paid_count"], row["due_count"])})
    per_member = list(
        ledger.values("member_id", "member__name")
        .annotate(
            months_due=Count("pk", filter=Q(amount_due__gt=0)),
            months_paid=Count("pk", filter=Q(amount_due__gt=0, paid_on__isnull=False)),
            due_total=Coalesce(Sum("amount_due"), money),
            paid_total=Coalesce(Sum("amount_paid"), money),
        )
        .order_by("member__name", "member_id")
    )
    fixings = dict(
        DuesFixing.objects.filter(organization=organization, year=year).values_list("member_id", "monthly_amount")
    )
    for row in per_member:
        row["monthly_amount"] = fixings.get(row["member_id"])
    totals = {
        "due_total": sum((m["due_total"] for m in months), ZERO),
        "paid_total": sum((m["paid_total"] for m in months), ZERO),
        "due_count": sum(m["due_count"] for m in months),
        "paid_count": sum(m["paid_count"] for m in months),
    }
    totals["rate"] = percent(totals["paid_count"], totals["due_count"])
    return {"organization": organization, "year": year, "months": months, "members": per_member, "totals": totals}


def dues_export_rows(*, organization: Organization, year: int) -> tuple[list[str], list[list[Any]]]:
    """The year's ledger as spreadsheet rows: one per member, a column per month (2 queries)."""
    header = (
        ["姓名", "党费类别", "核定月缴（元）"] + [f"{m}月" for m in range(1, 13)] + ["应交合计", "实交合计", "未交月数"]
    )
    fixings = {
        f.member_id: f for f in DuesFixing.objects.filter(organization=organization, year=year).select_related("member")
    }
    cells: dict[int, dict[int, str]] = defaultdict(dict)
    totals: dict[int, list[Any]] = defaultdict(lambda: [ZERO, ZERO, 0])
    today_index = month_index(dates.today())
    ledger = DuesMonth.objects.filter(organization=organization, month__year=year).values_list(
        "member_id", "month", "amount_due", "amount_paid", "paid_on"
    )
    for member_id, month, due, paid, paid_on in ledger:
        if due == 0:
            cells[member_id][month.month] = "免交"
        elif paid_on:
            cells[member_id][month.month] = f"{paid}"
        else:
            cells[member_id][month.month] = "未交" if month_index(month) < today_index else "待交"
            if month_index(month) < today_index:
                totals[member_id][2] += 1
        totals[member_id][0] += due
        totals[member_id][1] += paid
    rows = []
    for member_id, fixing in sorted(fixings.items(), key=lambda kv: (kv[1].member.name, kv[0])):
        total = totals[member_id]
        rows.append(
            [fixing.member.name, fixing.get_category_display(), fixing.monthly_amount]
            + [cells[member_id].get(m, "—") for m in range(1, 13)]
            + [total[0], total[1], total[2]]
        )
    return header, rows


# --- Roll-up over a subtree ------------------------------------------------------------------


@dataclass
class RollupRow:
    organization: Organization
    due_count: int = 0
    paid_count: int = 0
    due_total: Decimal = ZERO
    paid_total: Decimal = ZERO

    @property
    def rate(self) -> Decimal | None:
        return percent(self.paid_count, self.due_count)

    @property
    def amount_rate(self) -> Decimal | None:
        return percent(self.paid_total, self.due_total) if self.due_total else None


def _aggregate(qs: QuerySet) -> dict[str, Any]:
    money = Value(ZERO, output_field=MONEY)
    return {
        "due_count": Count("pk", filter=Q(amount_due__gt=0)),
        "paid_count": Count("pk", filter=Q(amount_due__gt=0, paid_on__isnull=False)),
        "due_total": Coalesce(Sum("amount_due"), money),
        "paid_total": Coalesce(Sum("amount_paid"), money),
    }


def dues_rollup(*, user: Any, root: Organization, month: date) -> dict[str, Any]:
    """Collection rate of ``root``'s whole subtree and of each child's subtree for a month.

    Three queries whatever the size of the tree: the children, the root total, and one
    GROUP BY on the child path prefix of each ledger row's organization.
    """
    month = month_start(month)
    ledger = DuesMonth.objects.visible_to(user, VIEW).filter(month=month, organization__path__startswith=root.path)
    children = list(
        Organization.objects.visible_to(user, VIEW).filter(path__startswith=root.path, depth=root.depth + 1)
    )
    total = RollupRow(organization=root, **ledger.aggregate(**_aggregate(ledger)))
    prefix_len = len(root.path) + Organization.steplen
    grouped = {
        row["prefix"]: row
        for row in ledger.annotate(prefix=Substr("organization__path", 1, prefix_len))
        .values("prefix")
        .annotate(**_aggregate(ledger))
    }
    rows = []
    for child in children:
        data = grouped.get(child.path, {})
        rows.append(RollupRow(organization=child, **{k: v for k, v in data.items() if k != "prefix"}))
    own = grouped.get(root.path)
    return {"root": root, "month": month, "total": total, "children": rows, "own": own}


# --- The member's own view -------------------------------------------------------------------


def member_dues_months(member: Member) -> QuerySet[DuesMonth]:
    """Every dues month of a member, oldest first, with the branch and the payment (one query)."""
    return DuesMonth.objects.filter(member=member).select_related("organization", "payment").order_by("month")


def member_dues_summary(member: Member, *, on: date | None = None) -> dict[str, Any]:
    """What a member owes and their ledger: this year's fixing and months, older unpaid months,
    arrears flags and the approvals on record (4 queries). For the member's own page."""
    on = on or dates.today()
    year = on.year
    fixing = DuesFixing.objects.filter(member=member, year=year).prefetch_related("income_items").first()
    rows = list(
        DuesMonth.objects.filter(member=member)
        .filter(Q(month__year=year) | Q(amount_due__gt=0, paid_on__isnull=True, month__lt=date(year, 1, 1)))
        .select_related("payment")
        .order_by("month")
    )
    approvals = list(DuesApproval.objects.filter(member=member).order_by("-approved_on", "-pk")[:20])
    excused = [a for a in approvals if a.kind == ApprovalKind.EXCUSED]
    status = arrears_status(
        [(r.month, r.amount_due) for r in rows if r.amount_due > 0 and not r.paid_on], excused, on=on
    )
    current = month_start(on)
    this_month = next((r for r in rows if r.month == current), None)
    owed = [r for r in rows if r.amount_due > 0 and not r.paid_on and r.month <= current]
    paid_until = None
    for r in rows:
        if r.paid_on or r.amount_due == 0:
            paid_until = r.month
        else:
            break
    return {
        "member": member,
        "year": year,
        "fixing": fixing,
        "months": rows,
        "this_month": this_month,
        "owed_months": owed,
        "owed_total": sum((r.amount_due for r in owed), ZERO),
        "arrears": status,
        "approvals": approvals,
        "paid_until": paid_until,
        "next_month": month_from_index(month_index(current) + 1),
    }
