"""What a quarterly inspection report says: plain data (titles, tables, charts) built from the
selectors and models of each app, rendered to PDF and XLSX by ``pdf.py`` and ``xlsx.py``.

One organization's report reads only that organization's rows (a branch with its 党小组, or a
committee's own meetings plus subtree-wide metrics), so a batch over 1,000 branches keeps one
small report in memory at a time. Every app a section reads from is always installed (they are
imported at module level: all sit below this app).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.urls import reverse

from activities.choices import OPEN_FOLLOW_UP
from activities.compliance import JUDGED, compliance_items_for
from activities.models import FollowUp, Meeting
from assessments.choices import DutyReportStatus, RatingStatus
from assessments.metrics import (
    METRICS,
    memo,
    metric_value,
    ratio,
    study_pace_counts,
    subtree_filter,
)
from assessments.models import DutyReport, Rating
from assessments.periods import Period
from assessments.selectors import rectification_open_items
from core.dates import today
from members.development.models import DevelopmentStep
from members.dues.models import DuesMonth
from members.dues.selectors import dues_arrears_flags
from members.models import Member
from organizations.choices import OrgType
from organizations.models import CommitteeTerm, Organization, Position

# Metrics shown as the key figures of a report and compared across child organizations.
KEY_METRICS = [
    "compliance_on_time_share",
    "attendance_rate",
    "dues_collection_rate",
    "development_on_time_share",
    "followups_closed_share",
    "rectification_closed_share",
    "study_hours_pace",
    "term_not_overdue",
    "committee_complete",
]
CHART_METRICS = ["compliance_on_time_share", "attendance_rate", "dues_collection_rate", "study_hours_pace"]
CHART_MAX_ORGS = 30
STARS = "★"


@dataclass
class Chart:
    title: str
    categories: list[str]
    series: list[tuple[str, list[float | None]]]
    unit: str = "%"


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""
    chart: Chart | None = None
    widths: list[float] | None = None  # relative column widths for the PDF
    subheads: dict[int, str] = field(default_factory=dict)  # row index → a heading row before it


@dataclass
class ReportDoc:
    title: str
    subtitle: str
    facts: list[tuple[str, str]]
    sections: list[Table]
    summary: dict[str, Any]
    footer: str = "仅供党组织内部督查使用；各项得分和比较仅供参考，不作排名。"
    official: Any = None  # reports.official.Official: the document's front, the tables then follow as 附件


def pct_value(value: Decimal | None) -> Decimal | None:
    """A share as a percentage rounded half-up to 0.1: the one rounding every table, note and
    chart of a report uses, so they print the same figure."""
    if value is None:
        return None
    return (Decimal(value) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def pct(value: Decimal | None) -> str:
    shown = pct_value(value)
    return "—" if shown is None else f"{shown}%"


def pct_chart(value: Decimal | None) -> float | None:
    """The bar height for a share: the rounded percentage the table prints."""
    shown = pct_value(value)
    return None if shown is None else float(shown)


def _flag(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return "是" if value >= 1 else "否"


def _fmt_metric(code: str, value: Decimal | None) -> str:
    kind = METRICS[code].kind
    if kind == "ratio":
        return pct(value)
    if kind == "flag":
        return _flag(value)
    return "—" if value is None else str(value)


def _link(name: str, pk: int) -> str:
    return getattr(settings, "PB_REPORT_SITE_URL", "") + reverse(name, args=[pk])


def _d(day: date | None) -> str:
    return f"{day:%Y-%m-%d}" if day else "—"


# --- sections ----------------------------------------------------------------------------------------


def _key_figures(
    org: Organization, period: Period, *, given: dict[str, tuple[Decimal | None, str]] | None = None
) -> tuple[Table, dict[str, Any]]:
    """The key figures; ``given`` holds figures the report computed from the rows it lists
    (code → value, description), used instead of the subtree-wide metric."""
    table = Table(title="一、主要指标", columns=["指标", "本季度", "说明"], widths=[3, 1.4, 6])
    values: dict[str, Any] = {}
    chart_cats: list[str] = []
    chart_vals: list[float | None] = []
    given = given or {}
    for code in KEY_METRICS:
        metric = METRICS[code]
        if code in given:
            value, description = given[code]
        else:
            value, description = metric_value(code, org=org, period=period), metric.description
        values[code] = None if value is None else str(value)
        table.rows.append([metric.label, _fmt_metric(code, value), description])
        if code in CHART_METRICS:
            chart_cats.append(metric.label.replace("组织生活", "").replace("学习", ""))
            chart_vals.append(pct_chart(value))
    table.chart = Chart(title="主要指标（%）", categories=chart_cats, series=[("本季度", chart_vals)])
    return table, values


def listed_compliance(org: Organization, period: Period) -> list[tuple[Organization, list[Any]]]:
    """The compliance items a report lists: the organization's own, then each of its 党小组's
    (tree order), each sorted by type and period. A constant number of queries, memoized."""

    def compute() -> list[tuple[Organization, list[Any]]]:
        orgs = list(Organization.objects.filter(pk__in=own_and_group_ids(org)).order_by("path"))
        items = compliance_items_for(
            root=org, orgs=orgs, year=period.year, window=(period.start, period.end), on=today()
        )
        return [(o, sorted(items.get(o.pk, []), key=lambda i: (i.kind, i.period_start))) for o in orgs]

    return memo(org, ("listed_compliance", period), compute)


def listed_on_time_share(org: Organization, period: Period) -> tuple[Decimal | None, int, int]:
    """组织生活按期完成率 over exactly the items ``listed_compliance`` returns: (share, done, judged)."""
    statuses = [item.status for _o, items in listed_compliance(org, period) for item in items]
    done = statuses.count("done")
    judged = sum(1 for s in statuses if s in JUDGED)
    return ratio(done, judged).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP), done, judged


def _compliance(org: Organization, period: Period) -> tuple[Table, dict[str, Any]]:
    table = Table(
        title="二、组织生活落实情况（按类型）",
        columns=["类型", "期间", "要求次数", "已开次数", "完成日期", "截止日期", "状态"],
        widths=[2.2, 2.6, 1, 1, 1.6, 1.6, 1.2],
    )
    counts: dict[str, int] = {}
    listed = listed_compliance(org, period)
    for owner, items in listed:
        if owner.pk != org.pk and items:
            table.subheads[len(table.rows)] = f"{owner.get_org_type_display()}：{owner.name}"
        for item in items:
            table.rows.append(
                [
                    item.label,
                    f"{item.period_start:%m-%d}至{item.period_end:%m-%d}",
                    item.required,
                    item.held,
                    _d(item.done_on),
                    _d(item.deadline),
                    item.status_label,
                ]
            )
            counts[item.status] = counts.get(item.status, 0) + 1
    share, done, judged = listed_on_time_share(org, period)
    if not table.rows:
        table.note = "本季度没有需要落实的组织生活事项。"
    else:
        table.note = (
            f"本节列出本组织{'及所属党小组' if len(listed) > 1 else ''}的 {len(table.rows)} 项事项；"
            f"已到期 {judged} 项，按期完成 {done} 项，按期完成率 {pct(share)}（即第一部分的组织生活按期完成率）。"
        )
    return table, {"compliance_status_counts": counts, "compliance_items": len(table.rows)}


def _meetings(org: Organization, period: Period) -> tuple[Table, dict[str, Any]]:
    table = Table(
        title="三、会议记录与出勤",
        columns=["日期", "类型", "主题", "应到", "实到", "出勤率", "记录链接"],
        widths=[1.5, 1.8, 3.6, 0.8, 0.8, 1.1, 3],
    )
    rows = (
        Meeting.objects.filter(
            organization_id__in=own_and_group_ids(org),
            status="final",
            held_on__gte=period.start,
            held_on__lte=period.end,
        )
        .order_by("held_on", "pk")
        .values_list("pk", "held_on", "meeting_type", "title", "expected_count", "present_count")
    )
    labels = dict(Meeting._meta.get_field("meeting_type").choices)
    expected = present = 0
    for pk, held_on, meeting_type, title, exp, pres in rows:
        expected += exp
        present += pres
        rate = pct(Decimal(pres) / Decimal(exp)) if exp else "—"
        table.rows.append(
            [
                _d(held_on),
                labels.get(meeting_type, meeting_type),
                title or "—",
                exp,
                pres,
                rate,
                _link("activities:meeting", pk),
            ]
        )
    rate = Decimal(present) / Decimal(expected) if expected else None
    table.note = f"本季度共 {len(table.rows)} 次会议，应到 {expected} 人次，实到 {present} 人次，出勤率 {pct(rate)}。"
    return table, {"meetings": len(table.rows), "attendance_expected": expected, "attendance_present": present}


def _dues(org: Organization, period: Period) -> tuple[Table, dict[str, Any]]:
    table = Table(
        title="四、党费收缴",
        columns=["月份", "应交人次", "已交人次", "应交金额（元）", "实交金额（元）", "收缴率"],
        widths=[1.4, 1.2, 1.2, 1.8, 1.8, 1.2],
    )
    rows = (
        DuesMonth.objects.filter(
            **subtree_filter(org), month__gte=period.start, month__lte=period.end, amount_due__gt=0
        )
        .values("month")
        .annotate(
            due=Count("pk"),
            paid=Count("pk", filter=Q(paid_on__isnull=False)),
            due_total=Sum("amount_due"),
            paid_total=Sum("amount_paid", filter=Q(paid_on__isnull=False)),
        )
        .order_by("month")
    )
    totals = {"due": 0, "paid": 0, "due_total": Decimal(0), "paid_total": Decimal(0)}
    for row in rows:
        table.rows.append(
            [
                f"{row['month']:%Y-%m}",
                row["due"],
                row["paid"],
                f"{row['due_total'] or 0:.2f}",
                f"{row['paid_total'] or 0:.2f}",
                pct(Decimal(row["paid"]) / Decimal(row["due"])) if row["due"] else "—",
            ]
        )
        for key in totals:
            totals[key] += row[key] or 0
    arrears = _arrears(org, period)
    rate = Decimal(totals["paid"]) / Decimal(totals["due"]) if totals["due"] else None
    table.note = (
        f"本季度应交 {totals['due']} 人次，已交 {totals['paid']} 人次，收缴率 {pct(rate)}；"
        f"截至季末连续 3 个月以上未交 {arrears['over3']} 人，6 个月以上 {arrears['over6']} 人。"
    )
    if not table.rows:
        table.note = "本季度没有核定的应交党费记录。" + table.note
    return table, {
        "dues_due": totals["due"],
        "dues_paid": totals["paid"],
        "dues_due_total": f"{totals['due_total']:.2f}",
        "dues_paid_total": f"{totals['paid_total']:.2f}",
        "arrears_over3": arrears["over3"],
        "arrears_over6": arrears["over6"],
    }


def _arrears(org: Organization, period: Period) -> dict[str, int]:
    """Members with ≥3 / ≥6 consecutive unpaid ended months at the quarter's end."""
    member_ids = list(Member.objects.filter(organization__path__startswith=org.path).values_list("pk", flat=True))
    flags = dues_arrears_flags(member_ids=member_ids, on=period.end)
    over3 = sum(1 for status in flags.values() if getattr(status, "longest_run", 0) >= 3)
    over6 = sum(1 for status in flags.values() if getattr(status, "longest_run", 0) >= 6)
    return {"over3": over3, "over6": over6}


def _development(org: Organization, period: Period) -> tuple[Table, dict[str, Any]]:
    table = Table(
        title="五、发展党员步骤及时限",
        columns=["日期", "姓名", "步骤", "结果", "时限情况"],
        widths=[1.5, 1.5, 3, 1.3, 5],
    )
    steps = (
        DevelopmentStep.objects.filter(
            **subtree_filter(org), occurred_on__gte=period.start, occurred_on__lte=period.end
        )
        .select_related("member")
        .order_by("occurred_on", "pk")
    )
    late = 0
    for step in steps:
        warnings = step.warnings or []
        if warnings:
            late += 1
        text = "；".join(str(w.get("message", w) if isinstance(w, dict) else w) for w in warnings) or "按期"
        table.rows.append(
            [_d(step.occurred_on), step.member.name, step.get_step_display(), step.get_decision_display(), text]
        )
    if not table.rows:
        table.note = "本季度没有登记发展党员步骤。"
    else:
        table.note = f"本季度登记 {len(table.rows)} 个步骤，其中 {late} 个有时限提示。"
    return table, {"development_steps": len(table.rows), "development_late": late}


def _development_by_step(org: Organization, period: Period) -> tuple[Table, dict[str, Any]]:
    """Development steps of a 党委/党总支's subtree counted by step (the per-person list is an
    appendix, only when asked for)."""
    table = Table(title="五、发展党员步骤及时限", columns=["步骤", "登记数", "有时限提示"], widths=[4, 1.5, 1.5])
    labels = dict(DevelopmentStep._meta.get_field("step").choices)
    counts: dict[str, list[int]] = {}
    rows = DevelopmentStep.objects.filter(
        **subtree_filter(org), occurred_on__gte=period.start, occurred_on__lte=period.end
    ).values_list("step", "warnings")
    for step, warnings in rows.iterator(chunk_size=2000):
        entry = counts.setdefault(step, [0, 0])
        entry[0] += 1
        entry[1] += int(bool(warnings))
    order = list(labels)
    for step in sorted(counts, key=lambda s: order.index(s) if s in order else len(order)):
        table.rows.append([labels.get(step, step), counts[step][0], counts[step][1]])
    total, late = sum(c[0] for c in counts.values()), sum(c[1] for c in counts.values())
    table.note = (
        f"本季度登记 {total} 个步骤，其中 {late} 个有时限提示；按人的明细在生成时选择“附发展党员步骤明细”后作为附表列出。"
        if total
        else "本季度没有登记发展党员步骤。"
    )
    return table, {"development_steps": total, "development_late": late}


def _term(org: Organization, period: Period) -> tuple[Table, dict[str, Any]]:
    table = Table(
        title="六、委员会换届情况",
        columns=["届次", "产生方式", "选举日期", "任期届满", "批准延期至", "季末状态"],
        widths=[1, 1.4, 1.6, 1.6, 1.6, 2.2],
    )
    terms = list(CommitteeTerm.objects.filter(organization=org).order_by("-number")[:3])
    status = "未登记届次"
    for term in terms:
        if term.ended_on and term.ended_on <= period.end:
            state = f"已于 {term.ended_on:%Y-%m-%d} 换届"
        elif term.elected_on > period.end:
            state = "季度后产生"
        elif term.effective_expiry < period.end:
            state = "任期已届满，应及时换届"
        else:
            state = "任期内"
        if term.elected_on <= period.end and not (term.ended_on and term.ended_on <= period.end):
            status = state
        table.rows.append(
            [
                f"第{term.number}届",
                term.get_kind_display(),
                _d(term.elected_on),
                _d(term.expires_on),
                _d(term.extended_until),
                state,
            ]
        )
    if org.org_type == OrgType.GROUP:
        table.note = "党小组不设委员会。"
    elif not terms:
        table.note = "尚未登记委员会届次。"
    return table, {"term_status": status}


def _open_items(org: Organization, period: Period) -> tuple[Table, dict[str, Any]]:
    table = Table(
        title="七、未办结事项和整改",
        columns=["类别", "组织", "事项", "责任人", "时限", "状态"],
        widths=[1.3, 2.2, 4.5, 1.2, 1.5, 1.5],
    )
    summary = {"followups_open": 0, "rectifications_open": 0, "rectifications_overdue": 0}
    follow_ups = (
        FollowUp.objects.filter(**subtree_filter(org), status__in=list(OPEN_FOLLOW_UP), opened_on__lte=period.end)
        .select_related("organization")
        .order_by("due_on", "pk")
    )
    for item in follow_ups:
        overdue = item.due_on is not None and item.due_on < period.end
        table.rows.append(
            [
                "决议落实",
                str(item.organization),
                item.title,
                item.owner_name or "—",
                _d(item.due_on),
                "已逾期" if overdue else item.get_status_display(),
            ]
        )
        summary["followups_open"] += 1
    for item in rectification_open_items(org, period.end).filter(created_at__date__lte=period.end):
        table.rows.append(
            [
                "督查整改",
                str(item.organization),
                item.problem,
                item.owner_name,
                _d(item.deadline),
                "已逾期" if item.is_overdue else item.get_status_display(),
            ]
        )
        summary["rectifications_open"] += 1
        summary["rectifications_overdue"] += int(item.is_overdue)
    table.note = (
        f"季末未办结决议落实事项 {summary['followups_open']} 项；未销号整改事项 {summary['rectifications_open']} 项，"
        f"其中逾期 {summary['rectifications_overdue']} 项。"
    )
    return table, summary


def _study(org: Organization, period: Period) -> tuple[Table, dict[str, Any]]:
    table = Table(title="八、学习学时进度", columns=["项目", "数值"], widths=[3, 3])
    counts = study_pace_counts(org, period)
    members = counts["members"]
    average = (Decimal(counts["hours"]) / Decimal(members)).quantize(Decimal("0.1")) if members else Decimal(0)
    table.rows = [
        ["党员人数", members],
        ["年度目标（学时/人）", f"{counts['target']}"],
        ["按时间进度应达（学时/人）", f"{counts['pace']}"],
        ["人均已完成（学时）", f"{average}"],
        ["达到进度人数", counts["reached"]],
    ]
    table.note = "只统计人数，不列个人排名（整治形式主义为基层减负有关规定）。"
    return table, {
        "study_members": members,
        "study_average": str(average),
        "study_pace": str(counts["pace"]),
        "study_reached": counts["reached"],
    }


def _ratings(org: Organization, period: Period) -> tuple[Table, dict[str, Any]]:
    table = Table(
        title="九、星级评定和书记述职评议",
        columns=["年度", "项目", "结果", "说明"],
        widths=[1, 2, 2, 6],
    )
    summary: dict[str, Any] = {}
    for rating in Rating.objects.filter(organization=org, status=RatingStatus.FINAL).order_by("-year")[:3]:
        change = rating.get_change_display() if rating.change else ""
        detail = rating.direct_reason if rating.is_direct else f"得分 {rating.final_total}"
        table.rows.append([rating.year, "星级评定", f"{rating.stars}星 {change}".strip(), detail])
        summary.setdefault("latest_stars", rating.stars)
    for report in DutyReport.objects.filter(organization=org, status=DutyReportStatus.APPRAISED).order_by("-year")[:2]:
        questions = "；".join(q.text for q in report.questions.all())
        table.rows.append(
            [report.year, "书记述职评议", report.get_grade_display(), f"必答题：{questions}" if questions else ""]
        )
    if not table.rows:
        table.note = "暂无已确定的星级评定或述职评议结果。"
    return table, summary


SECTIONS = [_compliance, _meetings, _dues, _development, _term, _open_items, _study, _ratings]


def _member_counts(org: Organization) -> dict[str, int]:
    counts = (
        Member.objects.party_members()
        .filter(**subtree_filter(org))
        .aggregate(full=Count("pk", filter=Q(stage="full")), probationary=Count("pk", filter=Q(stage="probationary")))
    )
    return {"full": counts["full"] or 0, "probationary": counts["probationary"] or 0}


def own_and_group_ids(org: Organization) -> list[int]:
    """The organization and its 党小组 (a branch's meetings include its groups' meetings)."""

    def compute() -> list[int]:
        groups = Organization.objects.filter(
            path__startswith=org.path, depth=org.depth + 1, org_type=OrgType.GROUP
        ).values_list("pk", flat=True)
        return [org.pk, *groups]

    return memo(org, ("own_and_groups",), compute)


def secretary_name(org: Organization) -> str:
    position = (
        Position.objects.filter(
            term__organization=org, term__ended_on__isnull=True, position="secretary", end_on__isnull=True
        )
        .order_by("-start_on")
        .first()
    )
    return position.person_name if position else "—"


def build_org_report(
    org: Organization, period: Period, *, generated: str = "", development_list: bool = False
) -> ReportDoc:
    parent = Organization.objects.parent_of(org)
    members = _member_counts(org)
    share, _done, _judged = listed_on_time_share(org, period)
    key_table, key_values = _key_figures(
        org,
        period,
        given={
            "compliance_on_time_share": (
                share,
                "第二部分所列已到期事项（本组织及所属党小组）中按期完成的比例（逾期、补做不计；豁免事项不计）",
            )
        },
    )
    sections = [key_table]
    summary: dict[str, Any] = {
        "organization": org.name,
        "period": [period.start.isoformat(), period.end.isoformat()],
        "members_full": members["full"],
        "members_probationary": members["probationary"],
        "metrics": key_values,
    }
    wide = org.org_type in (OrgType.COMMITTEE, OrgType.GENERAL_BRANCH)
    for builder in SECTIONS:
        if builder is _development and wide:
            builder = _development_by_step
        table, numbers = builder(org, period)
        sections.append(table)
        summary.update(numbers)
    if wide and development_list:
        sections.append(_development_appendix(org, period))
    facts = [
        ("党组织", org.name),
        ("组织类别", org.get_org_type_display()),
        ("上级党组织", parent.name if parent else "—"),
        ("书记", secretary_name(org)),
        ("党员人数", f"正式党员 {members['full']} 名，预备党员 {members['probationary']} 名"),
        ("数据期间", f"{period.start:%Y年%m月%d日} 至 {period.end:%Y年%m月%d日}"),
        ("生成时间", generated or "—"),
    ]
    return ReportDoc(
        title=f"{org.name}{period.label}督查报告",
        subtitle=f"数据期间 {period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}",
        facts=facts,
        sections=sections,
        summary=summary,
    )


# --- roll-up --------------------------------------------------------------------------------------------


def child_organizations(org: Organization) -> list[Organization]:
    return list(
        Organization.objects.filter(path__startswith=org.path, depth=org.depth + 1)
        .exclude(org_type=OrgType.GROUP)
        .order_by("path")
    )


def _development_appendix(org: Organization, period: Period) -> Table:
    table, _numbers = _development(org, period)
    table.title = "附表：发展党员步骤明细"
    return table


def build_rollup_report(
    org: Organization, period: Period, *, generated: str = "", development_list: bool = False
) -> ReportDoc:
    """Compare the child organizations of ``org`` (each over its own subtree), in tree order:
    a comparison for follow-up, not a ranking."""
    children = child_organizations(org)
    rect_open = dict(
        rectification_open_items(org, period.end)
        .order_by()
        .values("organization__path")
        .annotate(n=Count("pk"))
        .values_list("organization__path", "n")
    )
    stars = dict(
        Rating.objects.filter(organization__in=children, status=RatingStatus.FINAL, year__lte=period.year)
        .order_by("organization_id", "year")
        .values_list("organization_id", "stars")
    )
    columns = ["下级组织", "党员"] + [METRICS[c].label for c in KEY_METRICS] + ["未销号整改", "最近星级"]
    table = Table(title="一、下级组织主要指标对比", columns=columns)
    table.widths = [3, 0.9] + [1.1] * len(KEY_METRICS) + [1.1, 1]
    per_child: list[dict[str, Any]] = []
    series: dict[str, list[float | None]] = {code: [] for code in CHART_METRICS}
    for child in children:
        members = _member_counts(child)
        values = {code: metric_value(code, org=child, period=period) for code in KEY_METRICS}
        open_items = sum(n for path, n in rect_open.items() if path.startswith(child.path))
        star = stars.get(child.pk)
        table.rows.append(
            [str(child), members["full"] + members["probationary"]]
            + [_fmt_metric(code, values[code]) for code in KEY_METRICS]
            + [open_items, f"{star}星" if star is not None else "—"]
        )
        per_child.append(
            {
                "organization": child.name,
                "organization_id": child.pk,
                "members": members["full"] + members["probationary"],
                **{k: None if v is None else str(v) for k, v in values.items()},
            }
        )
        for code in CHART_METRICS:
            value = values[code]
            series[code].append(pct_chart(value))
    if not children:
        table.note = "该组织没有下级党组织。"
    shown = children[:CHART_MAX_ORGS]
    chart_table = Table(title="二、下级组织对比图", columns=[])
    chart_table.chart = Chart(
        title="组织生活按期率、出勤率、党费收缴率、学时进度（%）",
        categories=[str(c) for c in shown],
        series=[(METRICS[c].label, series[c][: len(shown)]) for c in CHART_METRICS],
    )
    if len(children) > CHART_MAX_ORGS:
        chart_table.note = f"图中显示前 {CHART_MAX_ORGS} 个下级组织（按组织顺序），完整数据见上表和 XLSX。"
    own_table, own_values = _key_figures(org, period)
    own_table.title = "三、本组织及所属全部组织合计"
    parent = Organization.objects.parent_of(org)
    facts = [
        ("党组织", org.name),
        ("上级党组织", parent.name if parent else "—"),
        ("下级组织数", str(len(children))),
        ("数据期间", f"{period.start:%Y年%m月%d日} 至 {period.end:%Y年%m月%d日}"),
        ("生成时间", generated or "—"),
    ]
    return ReportDoc(
        title=f"{org.name}{period.label}下级组织督查汇总",
        subtitle=f"数据期间 {period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}",
        facts=facts,
        sections=[table, chart_table, own_table] + ([_development_appendix(org, period)] if development_list else []),
        summary={
            "organization": org.name,
            "period": [period.start.isoformat(), period.end.isoformat()],
            "children": per_child,
            "metrics": own_values,
        },
    )


def build_report(
    org: Organization, period: Period, kind: str, *, generated: str = "", development_list: bool = False
) -> ReportDoc:
    if kind == "rollup":
        return build_rollup_report(org, period, generated=generated, development_list=development_list)
    return build_org_report(org, period, generated=generated, development_list=development_list)
