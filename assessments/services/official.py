"""The inspection report as an official document: the issuing organization's 红头 settings, the
文号 numbering, and turning the report's findings into rectification items once a reviewer
confirms them.

The issuer of a report is the nearest organization above the reported one that has 红头
settings (a 党委's 组织部 inspects its branches); a report on the root, or a roll-up, may be
issued by the organization itself. Without settings anywhere the parent (or the root itself)
issues with defaults built from its name. Numbers run per issuer and year, assigned once per
report (regenerating keeps the number) under a row lock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from assessments.choices import RectificationSource
from assessments.models import InspectionReport, RectificationItem, ReportHeading
from assessments.services.rectification import rectification_create
from assessments.services.reports import is_subtree_admin
from audit.services import audit_log
from core.dates import today
from organizations.models import Organization

PLACEHOLDER = re.compile(r"\{(\w*)\}")


@dataclass(frozen=True)
class Issuer:
    organization: Organization
    issuer_mark: str
    recipients: str
    signatory: str


def _defaults(org: Organization) -> dict[str, str]:
    short = (org.short_name or org.name).removeprefix("中共")[:2]
    return {
        "issuer_mark": org.name,
        "number_pattern": f"{short}组〔{{year}}〕{{n}}号",
        "recipients": "",
        "signatory": org.name,
    }


def _issuing_org(org: Organization) -> Organization:
    ancestors = list(Organization.objects.filter(path__in=_ancestor_paths(org)).order_by("-depth"))
    with_heading = set(
        ReportHeading.objects.filter(organization__in=ancestors + [org]).values_list("organization_id", flat=True)
    )
    for candidate in ancestors:
        if candidate.pk in with_heading:
            return candidate
    if org.pk in with_heading or not ancestors:
        return org
    return ancestors[0]


def _ancestor_paths(org: Organization) -> list[str]:
    step = Organization.steplen
    return [org.path[:i] for i in range(step, len(org.path), step)]


def _issuer_org(report: InspectionReport) -> Organization:
    org = report.organization
    if report.kind == "rollup" and ReportHeading.objects.filter(organization=org).exists():
        return org
    return _issuing_org(org)


def report_issuer(report: InspectionReport) -> Issuer:
    """Who issues ``report`` and how (read only; the row is created when a number is drawn)."""
    org = _issuer_org(report)
    heading = ReportHeading.objects.filter(organization=org).first()
    data = _defaults(org)
    if heading is not None:
        data = {f: getattr(heading, f) for f in ("issuer_mark", "recipients", "signatory")}
    return Issuer(
        organization=org, issuer_mark=data["issuer_mark"], recipients=data["recipients"], signatory=data["signatory"]
    )


@transaction.atomic
def report_number_assign(*, report: InspectionReport) -> str:
    """System: the report's 文号, drawn once from the issuer's yearly counter. Trusts its caller
    (report generation)."""
    issuer = _issuer_org(report)
    current = InspectionReport.objects.filter(pk=report.pk).values_list("doc_number", flat=True).first()
    if current:
        return current
    heading, _created = ReportHeading.objects.select_for_update().get_or_create(
        organization=issuer, defaults=_defaults(issuer)
    )
    year = today().year
    number = heading.number_last + 1 if heading.number_year == year else 1
    ReportHeading.objects.filter(pk=heading.pk).update(number_year=year, number_last=number)
    text = heading.number_pattern.format(year=year, n=number)
    InspectionReport.objects.filter(pk=report.pk, doc_number="").update(doc_number=text)
    return InspectionReport.objects.filter(pk=report.pk).values_list("doc_number", flat=True).get()


def _clean_pattern(pattern: str) -> str:
    pattern = (pattern or "").strip()
    names = PLACEHOLDER.findall(pattern)
    if "n" not in names or any(name not in ("year", "n") for name in names):
        raise ValidationError(
            {"number_pattern": "文号格式须含 {n}（序号），可含 {year}（年度），如 测组〔{year}〕{n}号"}
        )
    if pattern.count("{") != pattern.count("}"):
        raise ValidationError({"number_pattern": "文号格式的花括号不成对"})
    return pattern


@transaction.atomic
def report_heading_save(
    *, organization: Organization, user: Any, issuer_mark: str, number_pattern: str, recipients: str, signatory: str
) -> ReportHeading:
    """Set how ``organization`` issues inspection reports (an org_admin over it)."""
    if not is_subtree_admin(user, organization):
        raise PermissionDenied("只有组织部门（org_admin）可以设置督查报告的发文信息")
    errors = {}
    issuer_mark, signatory, recipients = (
        (issuer_mark or "").strip(),
        (signatory or "").strip(),
        (recipients or "").strip(),
    )
    if not issuer_mark:
        errors["issuer_mark"] = "请填写发文机关标志"
    if not signatory:
        errors["signatory"] = "请填写落款"
    if errors:
        raise ValidationError(errors)
    pattern = _clean_pattern(number_pattern)
    heading, _created = ReportHeading.objects.update_or_create(
        organization=organization,
        defaults={
            "issuer_mark": issuer_mark[:60],
            "number_pattern": pattern[:60],
            "recipients": recipients[:200],
            "signatory": signatory[:60],
        },
    )
    audit_log(
        event="report_heading_save",
        user=user,
        obj=heading,
        organization=organization,
        detail={"issuer_mark": heading.issuer_mark, "number_pattern": heading.number_pattern},
    )
    return heading


@transaction.atomic
def report_findings_confirm(
    *, report: InspectionReport, user: Any, indexes: list[int], deadline: date | None = None
) -> list[RectificationItem]:
    """The reviewer (an org_admin over the report's organization) confirms some of the report's
    findings: each becomes a rectification item of the organization concerned, linked to the
    report. Confirming a finding twice creates nothing new."""
    if not is_subtree_admin(user, report.organization):
        raise PermissionDenied("只有组织部门（org_admin）可以确认问题清单")
    report = InspectionReport.objects.select_for_update().select_related("organization").get(pk=report.pk)
    findings = list((report.summary or {}).get("findings") or [])
    if not indexes:
        raise ValidationError({"findings": "请选择要确认的问题"})
    if any(not isinstance(i, int) or not 0 <= i < len(findings) for i in indexes):
        raise ValidationError({"findings": "问题序号不存在"})
    deadline = deadline or today() + timedelta(days=30)
    orgs = {o.pk: o for o in Organization.objects.filter(pk__in={findings[i]["organization_id"] for i in indexes})}
    created = []
    for index in sorted(set(indexes)):
        finding = findings[index]
        if finding.get("rectification_id"):
            continue
        org = orgs.get(finding["organization_id"])
        if org is None or not org.path.startswith(report.organization.path):
            raise ValidationError({"findings": "问题所涉组织不存在"})
        item = rectification_create(
            organization=org,
            user=user,
            problem=finding["problem"],
            requirement=finding["requirement"],
            owner_name=finding.get("owner_name") or "书记",
            deadline=deadline,
            source=RectificationSource.INSPECTION,
            source_report=report,
        )
        finding["rectification_id"] = item.pk
        created.append(item)
    summary = dict(report.summary)
    summary["findings"] = findings
    InspectionReport.objects.filter(pk=report.pk).update(summary=summary)
    audit_log(
        event="report_findings_confirm",
        user=user,
        obj=report,
        organization=report.organization,
        detail={"findings": sorted(set(indexes)), "created": [i.pk for i in created]},
    )
    return created
