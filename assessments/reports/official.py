"""The front of an inspection report as an official document (公文): body paragraphs written from
the report's own figures by fixed templates, the 问题清单 (findings) and 整改要求 — each finding
names the organization concerned, so confirming it creates a rectification item there — then
the data tables follow as 附件. Built from the same ``ReportDoc`` summary and listed items the
tables show, so the text and the tables never disagree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from assessments.periods import Period
from assessments.reports.data import ReportDoc, listed_compliance, pct, pct_value
from organizations.models import Organization


@dataclass
class Finding:
    organization_id: int
    organization: str
    problem: str
    requirement: str
    owner_name: str = ""


@dataclass
class Official:
    issuer_mark: str
    doc_number: str
    recipients: str
    signatory: str
    issued_on: date
    title: str
    paragraphs: list[tuple[str, str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    closing: str = ""


def _d(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _names(items: list[str], limit: int = 12) -> str:
    shown = "、".join(items[:limit])
    return shown + (f"等 {len(items)} 个" if len(items) > limit else "")


def _single(org: Organization, period: Period, summary: dict[str, Any], secretary: str) -> tuple[list, list]:
    paragraphs: list[tuple[str, str]] = []
    findings: list[Finding] = []
    members = summary["members_full"] + summary["members_probationary"]
    expected, present = summary["attendance_expected"], summary["attendance_present"]
    rate = pct(Decimal(present) / Decimal(expected)) if expected else "—"
    paragraphs.append(
        (
            "一、基本情况",
            f"{org.name}现有党员 {members} 名，其中正式党员 {summary['members_full']} 名、预备党员 "
            f"{summary['members_probationary']} 名。{period.label}共召开各类会议 {summary['meetings']} 次，"
            f"应到 {expected} 人次、实到 {present} 人次，出勤率 {rate}。",
        )
    )
    listed = listed_compliance(org, period)
    statuses = [i.status for _o, items in listed for i in items]
    done, late = statuses.count("done"), statuses.count("late")
    overdue = [(o, i) for o, items in listed for i in items if i.status == "overdue"]
    judged = done + late + len(overdue)
    share = _d(summary["metrics"].get("compliance_on_time_share"))
    text = (
        f"本季度应落实的组织生活事项 {len(statuses)} 项{'（含所属党小组）' if len(listed) > 1 else ''}，已到期 {judged} 项，"
        f"按期完成 {done} 项，按期完成率 {pct(share)}。"
    )
    if late:
        text += f"逾期后补开 {late} 项。"
    if overdue:
        where = [f"{o.name}{i.label}（{i.period_start:%m月%d日}至{i.period_end:%m月%d日}）" for o, i in overdue]
        text += f"逾期未开 {len(overdue)} 项：{_names(where)}。"
    else:
        text += "没有逾期未开的事项。"
    paragraphs.append(("二、组织生活落实情况", text))
    by_org: dict[int, list[Any]] = {}
    for owner, item in overdue:
        by_org.setdefault(owner.pk, []).append((owner, item))
    for pairs in by_org.values():
        owner = pairs[0][0]
        labels = sorted({i.label for _o, i in pairs})
        findings.append(
            Finding(
                owner.pk,
                owner.name,
                f"{owner.name}{period.label}{'、'.join(labels)}逾期未开 {len(pairs)} 次。",
                f"立即补开{'、'.join(labels)}，严格落实“三会一课”制度，会后 7 日内录入会议记录。",
                secretary,
            )
        )
    due, paid = summary["dues_due"], summary["dues_paid"]
    dues_rate = pct(Decimal(paid) / Decimal(due)) if due else "—"
    paragraphs.append(
        (
            "三、党费收缴情况",
            f"本季度应交党费 {due} 人次、已交 {paid} 人次，收缴率 {dues_rate}；应交金额 {summary['dues_due_total']} 元，"
            f"实交金额 {summary['dues_paid_total']} 元。截至季末连续 3 个月以上未交纳党费的 {summary['arrears_over3']} 人，"
            f"其中 6 个月以上的 {summary['arrears_over6']} 人。",
        )
    )
    if summary["arrears_over3"]:
        findings.append(
            Finding(
                org.pk,
                org.name,
                f"有 {summary['arrears_over3']} 名党员连续 3 个月以上未交纳党费。",
                "逐一谈心谈话、提醒补交；连续 6 个月不交纳党费又无正当理由的，按党章规定处理。",
                secretary,
            )
        )
    elif due and paid < due:
        findings.append(
            Finding(
                org.pk,
                org.name,
                f"本季度党费收缴率 {dues_rate}，未按月足额收缴。",
                "按月足额收缴党费，及时公开收缴情况。",
                secretary,
            )
        )
    term = summary.get("term_status") or "未登记届次"
    paragraphs.append(("四、换届情况", f"委员会届次情况：{term}。"))
    if term.startswith("任期已届满"):
        findings.append(
            Finding(
                org.pk,
                org.name,
                f"{org.name}委员会任期已届满，未按期换届。",
                "按照《中国共产党基层组织选举工作条例》，及时向上级党组织报告并启动换届选举。",
                secretary,
            )
        )
    paragraphs.append(
        (
            "五、整改和决议落实情况",
            f"季末未办结决议落实事项 {summary['followups_open']} 项；未销号整改事项 {summary['rectifications_open']} 项，"
            f"其中逾期 {summary['rectifications_overdue']} 项。",
        )
    )
    if summary["rectifications_overdue"]:
        findings.append(
            Finding(
                org.pk,
                org.name,
                f"{summary['rectifications_overdue']} 项整改事项逾期未销号。",
                "加快整改进度，逐项对照整改要求报请上级验收销号。",
                secretary,
            )
        )
    return paragraphs, findings


def _rollup(org: Organization, period: Period, summary: dict[str, Any]) -> tuple[list, list]:
    children = summary.get("children", [])
    metrics = summary.get("metrics", {})
    members = sum(c["members"] for c in children)
    paragraphs = [
        (
            "一、总体情况",
            f"{org.name}所属下级党组织 {len(children)} 个，党员 {members} 名。{period.label}全部组织合计："
            f"组织生活按期完成率 {pct(_d(metrics.get('compliance_on_time_share')))}，"
            f"出勤率 {pct(_d(metrics.get('attendance_rate')))}，党费收缴率 {pct(_d(metrics.get('dues_collection_rate')))}。",
        )
    ]
    lagging = [c for c in children if c.get("compliance_on_time_share") not in (None, "1.0000")]
    expired = [c for c in children if c.get("term_not_overdue") == "0.0000"]
    text = []
    if lagging:
        text.append(
            "组织生活未全部按期完成的："
            + _names([f"{c['organization']}（{pct_value(_d(c['compliance_on_time_share']))}%）" for c in lagging])
            + "。"
        )
    if expired:
        text.append("委员会任期已届满（或未登记届次）的：" + _names([c["organization"] for c in expired]) + "。")
    paragraphs.append(("二、需要关注的组织", "".join(text) or "各下级组织主要指标均已达到要求。"))
    findings = [
        Finding(
            c.get("organization_id", org.pk),
            c["organization"],
            f"{c['organization']}组织生活按期完成率 {pct(_d(c['compliance_on_time_share']))}，有事项未按期落实。",
            "对照组织生活日历逐项补开，按期录入会议记录。",
        )
        for c in lagging
    ] + [
        Finding(
            c.get("organization_id", org.pk),
            c["organization"],
            f"{c['organization']}委员会任期已届满或未登记届次，未按期换届。",
            "及时向上级党组织报告并启动换届选举；已换届的，补录届次和委员。",
        )
        for c in expired
    ]
    return paragraphs, findings


def build_official(
    doc: ReportDoc,
    org: Organization,
    period: Period,
    *,
    kind: str,
    issuer_mark: str,
    doc_number: str,
    recipients: str,
    signatory: str,
    issued_on: date,
    secretary: str = "",
) -> Official:
    """The official front of ``doc``; the findings are also stored in ``doc.summary`` (for the
    reviewer's confirmation)."""
    if kind == "rollup":
        paragraphs, findings = _rollup(org, period, doc.summary)
        title = f"关于{org.name}所属党组织{period.label}督查情况的通报"
    else:
        paragraphs, findings = _single(org, period, doc.summary, secretary)
        title = f"关于{org.name}{period.label}督查情况的报告"
    closing = (
        f"请对照问题清单认真整改，于收到本报告之日起 30 日内将整改情况报{signatory}。"
        if findings
        else "请继续保持，巩固提高。"
    )
    doc.summary["findings"] = [asdict(f) for f in findings]
    return Official(
        issuer_mark=issuer_mark,
        doc_number=doc_number,
        recipients=recipients or org.name,
        signatory=signatory,
        issued_on=issued_on,
        title=title,
        paragraphs=paragraphs,
        findings=findings,
        closing=closing,
    )
