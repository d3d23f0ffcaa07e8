"""Computed indicators: a small registry of metric code → function(org, period) → value.

Schemes reference metrics by code (``SchemeIndicator.metric_code``); reports show the same
figures. A metric is computed over the organization's subtree (a 党支部 with its 党小组; a 党委
with everything below it) for an inclusive date ``Period``.

Values: ``ratio`` metrics are 0..1 (a share; 1 when nothing was due), ``flag`` metrics are 0 or 1,
``number`` metrics are plain numbers. A function returns ``None`` when the figure does not
apply; scoring then leaves the indicator to be scored by hand. Every app a metric reads from is
always installed: the metrics import their sources at module level (all of them sit below this
app), so a missing source is an import error, never a silently hand-scored indicator.

Each metric names the selector it reads from (``source``), so the owning app can change the
calculation in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, Sum

from activities.compliance import compliance_items_for
from activities.models import FollowUp, Meeting, StudyRecord
from assessments.periods import Period
from assessments.selectors import duty_appraisal_rate as appraisal_rate
from assessments.selectors import rectification_due_counts
from core.dates import today
from members.development.models import DevelopmentStep
from members.dues.models import DuesMonth
from members.models import Member
from organizations.models import CommitteeTerm, Organization
from organizations.selectors import organization_with_flag_data

ONE = Decimal(1)
ZERO = Decimal(0)


@dataclass(frozen=True)
class Metric:
    code: str
    label: str
    kind: str  # "ratio" | "flag" | "number"
    source: str
    fn: Callable[[Any, Period], Decimal | None]
    description: str = ""


METRICS: dict[str, Metric] = {}


def register(
    code: str, label: str, *, kind: str, source: str, description: str = ""
) -> Callable[[Callable[[Any, Period], Decimal | None]], Callable[[Any, Period], Decimal | None]]:
    def decorator(fn: Callable[[Any, Period], Decimal | None]) -> Callable[[Any, Period], Decimal | None]:
        METRICS[code] = Metric(code=code, label=label, kind=kind, source=source, fn=fn, description=description)
        return fn

    return decorator


def metric_available(code: str) -> bool:
    """A registered metric is available (every app it reads from is installed)."""
    return code in METRICS


def metric_choices() -> list[tuple[str, str]]:
    return [(m.code, f"{m.label}（{m.code}）") for m in METRICS.values()]


def _quantize(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def metric_value(code: str, *, org: Any, period: Period) -> Decimal | None:
    """The metric's value, or None when it does not apply."""
    metric = METRICS.get(code)
    if metric is None:
        raise KeyError(code)
    return _quantize(metric.fn(org, period))


def ratio(numerator: Any, denominator: Any) -> Decimal:
    """A share in 0..1; 1 when nothing was due (no denominator)."""
    if not denominator:
        return ONE
    return min(ONE, max(ZERO, Decimal(numerator) / Decimal(denominator)))


SMALL_SUBTREE = 500


def subtree_ids(org: Any) -> list[int]:
    """Ids of the organization and everything below it (one query, cached on the object)."""
    cached = getattr(org, "_pb_subtree_ids", None)
    if cached is None:
        cached = list(Organization.objects.filter(path__startswith=org.path).values_list("pk", flat=True))
        org._pb_subtree_ids = cached
    return cached


def subtree_filter(org: Any, prefix: str = "organization") -> dict[str, Any]:
    """A filter for rows of the organization's subtree: an indexed ``IN`` list for a branch-sized
    subtree, the materialized-path prefix for a large one."""
    ids = subtree_ids(org)
    if len(ids) <= SMALL_SUBTREE:
        return {f"{prefix}_id__in": ids}
    return {f"{prefix}__path__startswith": org.path}


def memo(org: Any, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    """Remember a figure on the organization object for the rest of one report (metrics and
    report sections read the same figures)."""
    store = org.__dict__.setdefault("_pb_memo", {})
    if key not in store:
        store[key] = compute()
    return store[key]


# --- organizations (available now) ------------------------------------------------------------


@register(
    "term_not_overdue",
    "委员会按期换届",
    kind="flag",
    source="organizations.models.CommitteeTerm",
    description="期末时本届任期未逾期（含经批准延期）为 1，逾期或未登记届次为 0",
)
def term_not_overdue(org: Any, period: Period) -> Decimal | None:
    if org.org_type == "group":
        return None
    term = (
        CommitteeTerm.objects.filter(organization=org, elected_on__lte=period.end)
        .exclude(ended_on__lte=period.end)
        .order_by("-elected_on")
        .first()
    )
    if term is None:
        return ZERO
    return ONE if term.effective_expiry >= period.end else ZERO


@register(
    "committee_complete",
    "班子配备齐全",
    kind="flag",
    source="organizations.selectors.organization_flags",
    description="有书记；正式党员 7 名以上的支部设有 3 名以上委员",
)
def committee_complete(org: Any, period: Period) -> Decimal | None:
    if org.org_type == "group":
        return None
    annotated = organization_with_flag_data(Organization.objects.filter(pk=org.pk)).get()
    if annotated.committee_size < 1:
        return ZERO
    if annotated.full_member_count >= settings.PB_COMMITTEE_REQUIRED_AT and annotated.committee_size < 3:
        return ZERO
    return ONE


@register(
    "branch_size_ok",
    "支部规模适当",
    kind="flag",
    source="organizations.selectors.organization_with_flag_data",
    description="党员不超过 50 名为 1（超过时建议分设支部）",
)
def branch_size_ok(org: Any, period: Period) -> Decimal | None:
    annotated = organization_with_flag_data(Organization.objects.filter(pk=org.pk)).get()
    return ONE if annotated.party_member_count <= settings.PB_BRANCH_SIZE_LIMIT else ZERO


# --- assessments (this app) --------------------------------------------------------------------


@register(
    "rectification_closed_share",
    "整改事项按期销号率",
    kind="ratio",
    source="assessments.selectors.rectification_due_counts",
    description="期内到期的整改事项中按期完成并验收销号的比例；无到期事项为 1",
)
def rectification_closed_share(org: Any, period: Period) -> Decimal | None:
    counts = rectification_due_counts(org=org, start=period.start, end=period.end)
    return ratio(counts["closed_on_time"], counts["due"])


@register(
    "duty_appraisal_rate",
    "书记述职评议满意度",
    kind="ratio",
    source="assessments.selectors.duty_appraisal_rate",
    description="当年述职评议“好”和“较好”票数占比（或评议得分/100）；未评议为空",
)
def duty_appraisal_rate(org: Any, period: Period) -> Decimal | None:
    return appraisal_rate(org=org, year=period.year)


# --- other apps: read through their models and selectors ---------------------------------------


@register(
    "compliance_on_time_share",
    "组织生活按期完成率",
    kind="ratio",
    source="activities.compliance.compliance_rollup",
    description="期内已到期的“三会一课”等组织生活事项中按期完成的比例（逾期、补做不计；豁免事项不计）",
)
def compliance_on_time_share(org: Any, period: Period) -> Decimal | None:
    items = compliance_subtree_items(org, period, on=today())
    done = sum(1 for org_items in items.values() for item in org_items if item.status == "done")
    judged = sum(1 for org_items in items.values() for item in org_items if item.status in ("done", "late", "overdue"))
    return ratio(done, judged)


def compliance_subtree_items(org: Any, period: Period, *, on: Any) -> dict[int, list[Any]]:
    """Compliance items of every organization in the subtree for the period (activities'
    compliance calendar, a constant number of queries), memoized for the report."""

    def compute() -> dict[int, list[Any]]:
        orgs = list(Organization.objects.filter(pk__in=subtree_ids(org)).order_by("path"))
        return compliance_items_for(root=org, orgs=orgs, year=period.year, window=(period.start, period.end), on=on)

    return memo(org, ("compliance", period, on), compute)


@register(
    "attendance_rate",
    "组织生活出勤率",
    kind="ratio",
    source="activities.models.Meeting (expected_count, present_count)",
    description="期内已完成录入的会议应到人次中实到的比例",
)
def attendance_rate(org: Any, period: Period) -> Decimal | None:
    totals = Meeting.objects.filter(
        **subtree_filter(org), status="final", held_on__gte=period.start, held_on__lte=period.end
    ).aggregate(expected=Sum("expected_count"), present=Sum("present_count"))
    if not totals["expected"]:
        return None
    return ratio(totals["present"] or 0, totals["expected"])


@register(
    "followups_closed_share",
    "决议落实事项办结率",
    kind="ratio",
    source="activities.models.FollowUp",
    description="期内到期的决议落实事项中按期办结的比例（撤销的不计）；无到期事项为 1",
)
def followups_closed_share(org: Any, period: Period) -> Decimal | None:
    counts = (
        FollowUp.objects.filter(**subtree_filter(org), due_on__gte=period.start, due_on__lte=period.end)
        .exclude(status="cancelled")
        .aggregate(due=Count("pk"), closed=Count("pk", filter=Q(status="done", closed_on__lte=F("due_on"))))
    )
    return ratio(counts["closed"], counts["due"])


def study_pace_counts(org: Any, period: Period) -> dict[str, Any]:
    """Members, their total 学时 since 1 January, the pro-rata target at the period's end, and how
    many members reach it (counts only: no names, no ranking — 减负)."""
    return memo(org, ("study", period), lambda: _study_pace_counts(org, period))


def _study_pace_counts(org: Any, period: Period) -> dict[str, Any]:
    member_ids = list(Member.objects.party_members().filter(**subtree_filter(org)).values_list("pk", flat=True))
    target = Decimal(str(getattr(settings, "PB_STUDY_TARGET_HOURS", 32)))
    pace = (target * Decimal(str(period.elapsed_share(period.end)))).quantize(Decimal("0.1"))
    hours = dict(
        StudyRecord.objects.filter(
            member_id__in=member_ids, studied_on__gte=period.start.replace(month=1, day=1), studied_on__lte=period.end
        )
        .values("member_id")
        .annotate(total=Sum("hours"))
        .values_list("member_id", "total")
    )
    total_hours = sum(hours.values(), ZERO)
    reached = sum(1 for pk in member_ids if hours.get(pk, ZERO) >= pace)
    return {"members": len(member_ids), "hours": total_hours, "pace": pace, "target": target, "reached": reached}


@register(
    "study_hours_pace",
    "学习学时达标进度",
    kind="ratio",
    source="activities.models.StudyRecord",
    description="党员人均学时与按时间进度应达学时（全年 32 学时按日折算）之比，最高为 1",
)
def study_hours_pace(org: Any, period: Period) -> Decimal | None:
    counts = study_pace_counts(org, period)
    if not counts["members"] or not counts["pace"]:
        return None
    average = Decimal(counts["hours"]) / Decimal(counts["members"])
    return min(ONE, average / counts["pace"])


@register(
    "dues_collection_rate",
    "党费收缴率",
    kind="ratio",
    source="members.dues.models.DuesMonth",
    description="期内各月应交党费（免交除外）的人次中已交纳的比例",
)
def dues_collection_rate(org: Any, period: Period) -> Decimal | None:
    counts = DuesMonth.objects.filter(
        **subtree_filter(org), month__gte=period.start, month__lte=period.end, amount_due__gt=0
    ).aggregate(due=Count("pk"), paid=Count("pk", filter=Q(paid_on__isnull=False)))
    if not counts["due"]:
        return None
    return ratio(counts["paid"], counts["due"])


@register(
    "development_on_time_share",
    "发展党员程序按期率",
    kind="ratio",
    source="members.development.models.DevelopmentStep (warnings)",
    description="期内登记的发展党员步骤中没有时限提示（按期）的比例；无步骤为 1",
)
def development_on_time_share(org: Any, period: Period) -> Decimal | None:
    rows = DevelopmentStep.objects.filter(
        **subtree_filter(org), occurred_on__gte=period.start, occurred_on__lte=period.end
    )
    total = rows.count()
    late = rows.exclude(warnings=[]).count() if total else 0
    return ratio(total - late, total)
