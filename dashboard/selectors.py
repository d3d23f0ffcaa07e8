"""Reads for the dashboards: figures from the summary tables, lists behind each figure.

``dashboard_data`` takes a fixed number of queries whatever the size of the subtree: the org's
cumulative facts, one page of children and their cumulative facts, and the ancestors.
No figure ranks individual members; lists of members are in organization order.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet, Sum

from activities.choices import ComplianceKind
from core.access import VIEW, get_scope
from core.dates import today
from core.numbers import is_number
from dashboard import answers
from dashboard.builds import facts_state
from dashboard.models import DashboardFact
from dashboard.outbox import outbox_stale
from members.choices import DuesCategory, Education, MembershipStatus, Sex, Stage
from members.models import Member
from organizations.choices import OrgType
from organizations.models import Organization

CHILDREN_PAGE_SIZE = 20
LIST_PAGE_SIZE = 50
MIN_YEAR = 2000
PARTY_STAGES = [Stage.PROBATIONARY, Stage.FULL]

# 党内统计 bands; ages and 党龄 as at 31 December of the statistical year.
AGE_BANDS: list[tuple[str, int, int]] = [
    ("30岁及以下", 0, 30),
    ("31–35岁", 31, 35),
    ("36–40岁", 36, 40),
    ("41–45岁", 41, 45),
    ("46–50岁", 46, 50),
    ("51–55岁", 51, 55),
    ("56–60岁", 56, 60),
    ("61岁及以上", 61, 200),
]
PARTY_AGE_BANDS: list[tuple[str, int, int]] = [
    ("5年及以下", 0, 5),
    ("6–10年", 6, 10),
    ("11–20年", 11, 20),
    ("21–30年", 21, 30),
    ("31–40年", 31, 40),
    ("41–50年", 41, 50),
    ("51年及以上", 51, 200),
]
STAGE_ORDER = [Stage.APPLICANT, Stage.ACTIVIST, Stage.CANDIDATE, Stage.PROBATIONARY, Stage.FULL]
FLAG_LABELS = {
    "term_overdue": "任期已届满",
    "term_ending": "任期即将届满",
    "committee_missing": "应设未设支委会",
    "too_many_members": "党员超过50名的支部",
}
MEMBER_FLAG_LABELS = {"lost_contact": "失联党员", "mobile": "流动党员", "abroad": "出国（境）党员"}
ARREARS_LABELS = {
    "any": "有欠交月份的党员",
    "warning": "欠交满3个月",
    "lapse": "连续6个月未交（应按自行脱党程序处理）",
}


def _life_kinds() -> dict[str, str]:
    return dict(ComplianceKind.choices)


# --- parameters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    year: int
    quarter: int
    on: date

    @property
    def months(self) -> list[int]:
        return [3 * self.quarter - 2, 3 * self.quarter - 1, 3 * self.quarter]

    @property
    def month_keys(self) -> list[str]:
        return [f"{self.year}-{m:02d}" for m in self.months]

    @property
    def year_keys(self) -> list[str]:
        return [f"{self.year}-{m:02d}" for m in range(1, 13)]

    @property
    def dues_month(self) -> int:
        """The month whose collection rate the page shows: this month if it lies in the chosen
        quarter, otherwise the quarter's last month (or the first, for a quarter not yet begun)."""
        if self.year == self.on.year and self.on.month in self.months:
            return self.on.month
        return self.months[-1]

    @property
    def label(self) -> str:
        return f"{self.year}年第{self.quarter}季度"


def period_default(on: date | None = None) -> Period:
    on = on or today()
    return Period(on.year, (on.month - 1) // 3 + 1, on)


def _int_param(data: Any, name: str, label: str, low: int, high: int, default: int | None) -> int | None:
    raw = data.get(name)
    if raw in (None, ""):
        return default
    raw = str(raw).strip()
    if not is_number(raw):
        raise ValidationError({name: f"{label}应为整数"})
    value = int(raw)
    if not low <= value <= high:
        raise ValidationError({name: f"{label}应在 {low}–{high} 之间"})
    return value


def dashboard_period(data: Any, *, on: date | None = None) -> Period:
    """Year and quarter from query parameters; ValidationError (Chinese) when out of range."""
    default = period_default(on)
    year = _int_param(data, "year", "年度", MIN_YEAR, default.on.year + 1, default.year)
    quarter = _int_param(data, "quarter", "季度", 1, 4, default.quarter if year == default.year else 4)
    return Period(year, quarter, default.on)


def page_param(data: Any, name: str = "page") -> int:
    return _int_param(data, name, "页码", 1, 10**6, 1) or 1


def subtree_covered(user: Any, org: Organization) -> bool:
    """Whether the user's scope reaches the organization's whole subtree (org_admin, auditor).
    A secretary reaches the organization and its 党小组 only, so their figures are summed from the
    own rows of the organizations they may see, never from subtree totals."""
    return get_scope(user).reads_subtree(org)


def dashboard_allowed(user: Any, org: Organization) -> bool:
    """Dashboards show organization data: roles over data (org_admin, secretary, auditor) only;
    a member or a system administrator who may see the organization row gets a 404."""
    return get_scope(user).may_read_data_of(org)


# --- figures -----------------------------------------------------------------------------------


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """Same rounding as ``members.dues.selectors.percent`` (one decimal, half up)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class LifeTally:
    """Mirrors ``activities.compliance.Tally``: share done on time = done ÷ (done + late + overdue)."""

    done: int = 0
    late: int = 0
    overdue: int = 0
    pending: int = 0
    waived: int = 0

    def __add__(self, other: LifeTally) -> LifeTally:
        return LifeTally(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(LifeTally)))

    @property
    def judged(self) -> int:
        return self.done + self.late + self.overdue

    @property
    def share(self) -> int | None:
        return round(self.done * 100 / self.judged) if self.judged else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "late": self.late,
            "overdue": self.overdue,
            "pending": self.pending,
            "waived": self.waived,
            "judged": self.judged,
            "share_on_time": self.share,
        }


def month_deadline(period_key: str) -> date:
    year, month = (int(part) for part in period_key.split("-"))
    grace = int(getattr(settings, "PB_COMPLIANCE_GRACE_DAYS", 0))
    return date(year, month, calendar.monthrange(year, month)[1]) + timedelta(days=grace)


def _life_add(tally: LifeTally, status: str, value: int, overdue_if_open: bool) -> None:
    if status == "open":
        if overdue_if_open:
            tally.overdue += value
        else:
            tally.pending += value
    elif status in ("done", "late", "waived"):
        setattr(tally, status, getattr(tally, status) + value)


@dataclass
class Figures:
    """The cumulative facts of one organization, indexed for the page."""

    now: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    by_period: dict[str, dict[tuple[str, str], tuple[int, Decimal]]] = field(default_factory=lambda: defaultdict(dict))
    # period → [(kind, status, value)] of the organizational-life cells (read once per month)
    life: dict[str, list[tuple[str, str, int]]] = field(default_factory=lambda: defaultdict(list))

    def get(self, metric: str, dim: str) -> int:
        return self.now.get(metric, {}).get(dim, 0)

    def metric(self, metric: str) -> dict[str, int]:
        return self.now.get(metric, {})


def _index(rows: list[tuple[int, str, str, str, int, Decimal]]) -> dict[int, Figures]:
    out: dict[int, Figures] = defaultdict(Figures)
    for org_id, period, metric, dim, value, amount in rows:
        fig = out[org_id]
        if period == "now":
            fig.now[metric][dim] = fig.now[metric].get(dim, 0) + value
        elif metric == "life":
            kind, _, status = dim.partition("|")
            fig.life[period].append((kind, status, value))
        else:
            old_value, old_amount = fig.by_period[period].get((metric, dim), (0, Decimal("0.00")))
            fig.by_period[period][(metric, dim)] = (old_value + value, old_amount + amount)
    return out


def _life_tallies(fig: Figures, keys: list[str], on: date) -> tuple[LifeTally, dict[str, LifeTally]]:
    total = LifeTally()
    by_kind: dict[str, LifeTally] = defaultdict(LifeTally)
    for key in keys:
        cells = fig.life.get(key)
        if not cells:
            continue
        passed = _deadline_passed(key, on)
        for kind, status, value in cells:
            _life_add(total, status, value, passed)
            _life_add(by_kind[kind], status, value, passed)
    return total, by_kind


_DEADLINES: dict[tuple[str, date, int], bool] = {}


def _deadline_passed(period_key: str, on: date) -> bool:
    key = (period_key, on, int(getattr(settings, "PB_COMPLIANCE_GRACE_DAYS", 0)))
    if key not in _DEADLINES:
        if len(_DEADLINES) > 10_000:
            _DEADLINES.clear()
        _DEADLINES[key] = month_deadline(period_key) < on
    return _DEADLINES[key]


def _dues(fig: Figures, keys: list[str]) -> dict[str, Any]:
    due_n = paid_n = 0
    due_a = paid_a = Decimal("0.00")
    for key in keys:
        cells = fig.by_period.get(key, {})
        n, a = cells.get(("dues", "due"), (0, Decimal("0.00")))
        due_n, due_a = due_n + n, due_a + a
        n, a = cells.get(("dues", "paid"), (0, Decimal("0.00")))
        paid_n, paid_a = paid_n + n, paid_a + a
    return {
        "due_count": due_n,
        "paid_count": paid_n,
        "due_total": due_a,
        "paid_total": paid_a,
        "rate": percent(paid_n, due_n),
        "amount_rate": percent(paid_a, due_a) if due_a else None,
    }


def _bands(counts: dict[str, int], year: int, bands: list[tuple[str, int, int]]) -> list[dict[str, Any]]:
    out = [{"code": str(i), "label": label, "count": 0} for i, (label, _, _) in enumerate(bands)]
    unknown = 0
    for dim, n in counts.items():
        if not dim:
            unknown += n
            continue
        years = max(0, year - int(dim))
        for i, (_, low, high) in enumerate(bands):
            if low <= years <= high:
                out[i]["count"] += n
                break
    if unknown:
        out.append({"code": "unknown", "label": "未登记", "count": unknown})
    return out


def _choice_counts(counts: dict[str, int], choices: list[tuple[str, str]], blank_label: str = "未登记") -> list[dict]:
    out = [{"code": code, "label": label, "count": counts.get(code, 0)} for code, label in choices]
    extra = sum(n for code, n in counts.items() if code not in dict(choices))
    if extra:
        out.append({"code": "", "label": blank_label, "count": extra})
    return out


def _member_figures(fig: Figures, period: Period) -> dict[str, Any]:
    stage = fig.metric("stage")
    party = stage.get(Stage.PROBATIONARY, 0) + stage.get(Stage.FULL, 0)
    return {
        "party_total": party,
        "full": stage.get(Stage.FULL, 0),
        "probationary": stage.get(Stage.PROBATIONARY, 0),
        "stage": [{"code": s, "label": Stage(s).label, "count": stage.get(s, 0)} for s in STAGE_ORDER],
        "status": _choice_counts(fig.metric("status"), MembershipStatus.choices),
        "category": _choice_counts(fig.metric("category"), DuesCategory.choices),
        "sex": _choice_counts(fig.metric("sex"), Sex.choices),
        "education": _choice_counts(fig.metric("education"), Education.choices),
        "age": _bands(fig.metric("birth_year"), period.year, AGE_BANDS),
        "party_age": _bands(fig.metric("full_year"), period.year, PARTY_AGE_BANDS),
        "flags": [
            {"code": c, "label": label, "count": fig.get("member_flag", c)} for c, label in MEMBER_FLAG_LABELS.items()
        ],
    }


def _pipeline(fig: Figures) -> list[dict[str, Any]]:
    stage = fig.metric("stage")
    overdue = fig.metric("pipeline_overdue")
    return [
        {"code": s, "label": Stage(s).label, "count": stage.get(s, 0), "overdue": overdue.get(s, 0)}
        for s in STAGE_ORDER
    ]


def _stars(fig: Figures, year: int) -> dict[str, Any]:
    cells = fig.by_period.get(str(year), {})
    stars = {dim: value for (metric, dim), (value, _) in cells.items() if metric == "stars"}
    changes = {dim: value for (metric, dim), (value, _) in cells.items() if metric == "star_change"}
    change_labels = {"new": "首次评定", "up": "升星", "down": "降星", "same": "保持"}
    return {
        "distribution": [{"code": str(n), "label": f"{n}星", "count": stars.get(str(n), 0)} for n in range(5, 0, -1)],
        "changes": [{"code": c, "label": label, "count": changes.get(c, 0)} for c, label in change_labels.items()],
        "rated": sum(stars.values()),
    }


def _month_tallies(fig: Figures, keys: list[str], on: date) -> dict[str, LifeTally]:
    """One organizational-life tally per month (the cells of each month read once)."""
    out: dict[str, LifeTally] = {}
    for key in keys:
        tally = out[key] = LifeTally()
        cells = fig.life.get(key)
        if cells:
            passed = _deadline_passed(key, on)
            for _kind, status, value in cells:
                _life_add(tally, status, value, passed)
    return out


def _child_row(child: Organization, fig: Figures, period: Period) -> dict[str, Any]:
    stage = fig.metric("stage")
    months = _month_tallies(fig, list(dict.fromkeys([*period.year_keys, *period.month_keys])), period.on)
    life = sum((months[key] for key in period.month_keys), LifeTally())
    dues = _dues(fig, [f"{period.year}-{period.dues_month:02d}"])
    heat = [months[key].share for key in period.year_keys]
    return {
        "id": child.pk,
        "name": str(child),
        "org_type": child.org_type,
        "org_type_label": child.get_org_type_display(),
        "party_total": stage.get(Stage.PROBATIONARY, 0) + stage.get(Stage.FULL, 0),
        "pipeline": sum(stage.get(s, 0) for s in (Stage.APPLICANT, Stage.ACTIVIST, Stage.CANDIDATE)),
        "life": life.as_dict(),
        "dues_rate": dues["rate"],
        "flags": sum(fig.metric("org_flag").values()),
        "heat": heat,
    }


CHILD_METRICS = ["stage", "life", "dues", "org_flag"]


def dashboard_data(*, user: Any, org: Organization, period: Period, page: int = 1) -> dict[str, Any]:
    """Every figure of ``org``'s dashboard for ``period``: 8 queries (plus the gate's).

    While the facts are incomplete (never built, or a requested rebuild has not run yet) the
    figures are left out: ``data["facts"]`` says so, with the running build's progress.
    ``data["updating"]``: changes in the subtree wait for their refresh longer than they should."""
    state = facts_state()
    if not state.ready:
        ancestors = list(Organization.objects.ancestors_of(org)) if org.depth > 1 else []
        return {"org": org, "period": period, "ancestors": ancestors, "facts": state}
    children_qs = Organization.objects.visible_to(user, VIEW).filter(path__startswith=org.path, depth=org.depth + 1)
    paginator = Paginator(children_qs.order_by("path"), CHILDREN_PAGE_SIZE)
    children_page = paginator.get_page(page)
    children = list(children_page.object_list)
    periods = ["now", str(period.year), *period.year_keys]
    fields = ("organization_id", "period", "metric", "dimension", "value", "amount")
    if subtree_covered(user, org):
        own_rows = list(
            DashboardFact.objects.filter(organization=org, cumulative=True, period__in=periods).values_list(*fields)
        )
    else:
        visible = Organization.objects.visible_to(user, VIEW).filter(path__startswith=org.path).values("pk")
        own_rows = [
            (org.pk, *row[1:])
            for row in DashboardFact.objects.filter(
                organization_id__in=visible, cumulative=False, period__in=periods
            ).values_list(*fields)
        ]
    child_rows = (
        list(
            DashboardFact.objects.filter(
                organization_id__in=[c.pk for c in children],
                cumulative=True,
                period__in=["now", *period.year_keys],
                metric__in=CHILD_METRICS,
            ).values_list(*fields)
        )
        if children
        else []
    )
    figures = _index(own_rows + child_rows)
    fig = figures.get(org.pk, Figures())
    life_total, life_by_kind = _life_tallies(fig, period.month_keys, period.on)
    kinds = _life_kinds()
    ytd_keys = [f"{period.year}-{m:02d}" for m in range(1, period.dues_month + 1)]
    flags = fig.metric("org_flag")
    ancestors = list(Organization.objects.ancestors_of(org)) if org.depth > 1 else []
    return {
        "org": org,
        "facts": state,
        "updating": outbox_stale(org),
        "period": period,
        "ancestors": ancestors,
        "members": _member_figures(fig, period),
        "pipeline": _pipeline(fig),
        "life": {
            "total": life_total.as_dict(),
            "by_kind": [
                {"code": k, "label": kinds.get(k, k), **life_by_kind[k].as_dict()} for k in kinds if k in life_by_kind
            ],
        },
        "dues": {
            "month": f"{period.year}-{period.dues_month:02d}",
            "this_month": _dues(fig, [f"{period.year}-{period.dues_month:02d}"]),
            "ytd": _dues(fig, ytd_keys),
            "arrears": [
                {"code": c, "label": label, "count": fig.get("arrears", c)} for c, label in ARREARS_LABELS.items()
            ],
        },
        "organization": {
            "types": [{"code": c, "label": label, "count": fig.get("org_type", c)} for c, label in OrgType.choices],
            "flags": [{"code": c, "label": label, "count": flags.get(c, 0)} for c, label in FLAG_LABELS.items()],
        },
        "ratings": _stars(fig, period.year),
        "rectification": {"open": fig.get("rectification", "open"), "overdue": fig.get("rectification", "overdue")},
        "followups": {"open": fig.get("followup", "open"), "overdue": fig.get("followup", "overdue")},
        "children": [_child_row(c, figures.get(c.pk, Figures()), period) for c in children],
        "children_page": children_page,
        "months": list(range(1, 13)),
    }


def dashboard_answer(*, user: Any, org: Organization, period: Period, page: int = 1) -> dict[str, Any]:
    """The dashboard API's JSON (``dashboard_json`` of ``dashboard_data``). For a reader of the
    whole subtree, whose figures do not depend on who reads them, the figures are kept in the
    shared cache until one changes (``dashboard.answers``, #20.3); the build's state and
    ``updating`` are read on every call."""
    fresh: dict[str, Any] = {}

    def compute() -> dict[str, Any] | None:
        data = dashboard_data(user=user, org=org, period=period, page=page)
        fresh["answer"] = dashboard_json(data)
        return {k: v for k, v in fresh["answer"].items() if k != "facts"} if data["facts"].ready else None

    if subtree_covered(user, org):
        state = facts_state()
        if state.ready:
            kept = answers.kept_answer(org_pk=org.pk, period=period, page=page, compute=compute)
            if "answer" not in fresh and kept is not None:
                return {**kept, "facts": {**state.as_dict(), "updating": outbox_stale(org)}}
    if "answer" not in fresh:
        compute()
    return fresh["answer"]


def dashboard_json(data: dict[str, Any]) -> dict[str, Any]:
    """The API shape of ``dashboard_data`` (plain JSON types; money as strings)."""

    def money(value: Any) -> Any:
        return str(value) if isinstance(value, Decimal) else value

    def dues(block: dict[str, Any]) -> dict[str, Any]:
        return {k: money(v) for k, v in block.items()}

    org: Organization = data["org"]
    head = {"organization": {"id": org.pk, "name": org.name, "org_type": org.org_type}}
    if not data["facts"].ready:
        return {**head, "year": data["period"].year, "quarter": data["period"].quarter, "facts": data["facts"].as_dict()}
    page = data["children_page"]
    return {
        **head,
        "facts": {**data["facts"].as_dict(), "updating": data["updating"]},
        "year": data["period"].year,
        "quarter": data["period"].quarter,
        "members": data["members"],
        "pipeline": data["pipeline"],
        "life": data["life"],
        "dues": {
            "month": data["dues"]["month"],
            "this_month": dues(data["dues"]["this_month"]),
            "ytd": dues(data["dues"]["ytd"]),
            "arrears": data["dues"]["arrears"],
        },
        "organization_flags": data["organization"]["flags"],
        "organization_types": data["organization"]["types"],
        "ratings": data["ratings"],
        "rectification": data["rectification"],
        "followups": data["followups"],
        "children": [{**row, "dues_rate": money(row["dues_rate"])} for row in data["children"]],
        "children_page": {"page": page.number, "pages": page.paginator.num_pages, "count": page.paginator.count},
    }


# --- drill-down lists --------------------------------------------------------------------------

PARTY_Q = Q(membership_status=MembershipStatus.NORMAL, stage__in=PARTY_STAGES)


def _band_q(field_name: str, code: str, year: int, bands: list[tuple[str, int, int]]) -> Q:
    if code == "unknown":
        return Q(**{f"{field_name}__isnull": True})
    if not is_number(code) or int(code) >= len(bands):
        raise ValidationError({"value": "未知的分组"})
    _, low, high = bands[int(code)]
    q = Q(**{f"{field_name}__year__gte": year - high, f"{field_name}__year__lte": year - low})
    if low == 0:  # "0 years" also holds dates after the statistical year (counted as 0)
        q |= Q(**{f"{field_name}__year__gt": year})
    return q


def _choice_q(field_name: str, code: str, choices: list[str], allow_blank: bool = False) -> Q:
    if code in choices:
        return Q(**{field_name: code})
    if allow_blank and code == "":
        return ~Q(**{f"{field_name}__in": choices})
    raise ValidationError({"value": "未知的分组"})


def member_drill_q(metric: str, value: str, year: int) -> Q:
    """The members behind one figure of the members block (same populations as the summaries)."""
    normal = Q(membership_status=MembershipStatus.NORMAL)
    if metric == "party":
        return PARTY_Q
    if metric == "stage":
        return normal & _choice_q("stage", value, Stage.values)
    if metric == "status":
        return Q(stage__in=PARTY_STAGES) & _choice_q("membership_status", value, MembershipStatus.values)
    if metric == "category":
        return PARTY_Q & _choice_q("dues_category", value, DuesCategory.values, allow_blank=True)
    if metric == "sex":
        return PARTY_Q & _choice_q("sex", value, Sex.values, allow_blank=True)
    if metric == "education":
        return PARTY_Q & _choice_q("education", value, Education.values, allow_blank=True)
    if metric == "age":
        return PARTY_Q & _band_q("birth_date", value, year, AGE_BANDS)
    if metric == "party_age":
        return PARTY_Q & Q(stage=Stage.FULL) & _band_q("full_on", value, year, PARTY_AGE_BANDS)
    if metric == "member_flag":
        if value not in MEMBER_FLAG_LABELS:
            raise ValidationError({"value": "未知的分组"})
        return PARTY_Q & Q(**{f"is_{value}": True})
    raise ValidationError({"metric": "未知的指标"})


MEMBER_METRIC_LABELS = {
    "party": "党员",
    "stage": "发展阶段",
    "status": "党籍状态",
    "category": "党费类别",
    "sex": "性别",
    "education": "学历",
    "age": "年龄",
    "party_age": "党龄",
    "member_flag": "党员状态",
}


def member_drill_list(*, user: Any, org: Organization, metric: str, value: str, year: int) -> QuerySet[Member]:
    """Members behind a figure, through the gate, in organization order (never ranked)."""
    q = member_drill_q(metric, value, year)
    subtree = Organization.objects.filter(path__startswith=org.path).values("pk")
    return (
        Member.objects.visible_to(user, VIEW)
        .filter(q, organization_id__in=subtree)
        .select_related("organization")
        .order_by("organization_id", "pk")
    )


def member_drill_label(metric: str, value: str, year: int) -> str:
    label = MEMBER_METRIC_LABELS.get(metric, metric)
    names: dict[str, str] = {
        **dict(Stage.choices),
        **dict(MembershipStatus.choices),
        **dict(DuesCategory.choices),
        **dict(Sex.choices),
        **dict(Education.choices),
        **MEMBER_FLAG_LABELS,
    }
    if metric == "age" and is_number(value) and int(value) < len(AGE_BANDS):
        return f"{label}：{AGE_BANDS[int(value)][0]}（{year}年末）"
    if metric == "party_age" and is_number(value) and int(value) < len(PARTY_AGE_BANDS):
        return f"{label}：{PARTY_AGE_BANDS[int(value)][0]}（{year}年末）"
    if metric == "party":
        return "党员（正式党员和预备党员）"
    return f"{label}：{names.get(value, value or '未登记')}"


# Organization lists: (metric, allowed dimensions, period kind, title).
ORG_DRILLS: dict[str, tuple[set[str] | None, str, str]] = {
    "org_flag": (set(FLAG_LABELS), "now", "组织建设提示"),
    "org_type": (set(OrgType.values), "now", "组织类别"),
    "life_overdue": (None, "quarter", "逾期未完成的组织生活事项"),
    "pipeline_overdue": ({*Stage.values, ""}, "now", "发展党员超过规定时限"),
    "arrears": (set(ARREARS_LABELS), "now", "党费欠交"),
    "rectification": ({"open", "overdue"}, "now", "整改事项"),
    "followup": ({"open", "overdue"}, "now", "决议落实事项"),
    "stars": ({"1", "2", "3", "4", "5"}, "year", "星级评定"),
    "star_change": ({"new", "up", "down", "same"}, "year", "星级变化"),
}


@dataclass
class OrgDrillRow:
    organization: Organization
    count: int
    detail: str = ""


def org_drill_rows(*, user: Any, org: Organization, metric: str, value: str, period: Period) -> QuerySet[DashboardFact]:
    """Organizations in the subtree whose own figure is behind the clicked number (own rows)."""
    if metric not in ORG_DRILLS:
        raise ValidationError({"metric": "未知的指标"})
    dims, period_kind, _ = ORG_DRILLS[metric]
    qs = DashboardFact.objects.visible_to(user, VIEW).filter(cumulative=False, organization__path__startswith=org.path)
    if metric == "life_overdue":
        kinds = _life_kinds()
        if value and value not in kinds:
            raise ValidationError({"value": "未知的事项"})
        keys = [key for key in period.month_keys if month_deadline(key) < period.on]
        qs = qs.filter(metric="life", period__in=keys, dimension__endswith="|open")
        if value:
            qs = qs.filter(dimension=f"{value}|open")
    else:
        if dims is not None and value not in dims:
            raise ValidationError({"value": "未知的分组"})
        periods = {"now": ["now"], "year": [str(period.year)], "quarter": period.month_keys}[period_kind]
        qs = qs.filter(metric=metric, dimension=value, period__in=periods)
    return (
        qs.values("organization_id", "organization__name", "organization__short_name", "organization__org_type")
        .annotate(total=Sum("value"))
        .filter(total__gt=0)
        .order_by("organization__path")
    )


def org_drill_title(metric: str, value: str) -> str:
    if metric not in ORG_DRILLS:
        return ""
    title = ORG_DRILLS[metric][2]
    labels = {
        **FLAG_LABELS,
        **dict(OrgType.choices),
        **ARREARS_LABELS,
        **dict(Stage.choices),
        **_life_kinds(),
        "open": "未完成",
        "overdue": "已逾期",
        "new": "首次评定",
        "up": "升星",
        "down": "降星",
        "same": "保持",
    }
    if metric == "stars":
        return f"{title}：{value}星"
    return f"{title}：{labels.get(value, value)}" if value else title
