"""Producing a branch's 组织生活台账 file (PDF or XLSX) for a year: checks, audit, build.

Who may: anyone the gate lets read the branch's data (its secretary, the org_admin above, the
auditor; a member sees the branch but not its 台账); the
caller fetches the organization through the gate, this service records the export in the audit
log (a 台账 holds names) in the same call that builds it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from assessments.ledger.data import build_ledger
from assessments.ledger.pdf import render_ledger_pdf
from assessments.ledger.xlsx import render_ledger_xlsx
from audit.services import audit_log
from core.access import VIEW, user_can
from core.dates import today
from organizations.choices import BRANCH_TYPES
from organizations.models import Organization

FORMATS = ("pdf", "xlsx")


def year_and_format(year: Any, fmt: str, *, errors: dict[str, str], fmt_field: str) -> int | None:
    """The 台账's year as a number (None when it is not one), adding what is wrong to ``errors``."""
    try:
        year = int(year)
    except (TypeError, ValueError):
        errors["year"] = "请填写年度（如 2026）"
        year = None
    else:
        if not 2000 <= year <= today().year:
            errors["year"] = f"年度应在 2000 至 {today().year} 之间"
    if fmt not in FORMATS:
        errors[fmt_field] = "格式应为 pdf 或 xlsx"
    return year


def check_ledger_request(*, organization: Organization, year: Any, fmt: str) -> int:
    errors: dict[str, str] = {}
    if organization.org_type not in BRANCH_TYPES:
        errors["organization"] = "组织生活台账按党支部生成；党委请使用批量生成"
    year = year_and_format(year, fmt, errors=errors, fmt_field="format")
    if errors:
        raise ValidationError(errors)
    return year


def ledger_file_build(*, organization: Organization, year: int, fmt: str, path: str) -> int:
    """System: write the 台账 of ``organization`` for ``year`` to ``path``; the page count for a
    PDF, 0 for XLSX. Trusts its caller (``ledger_export`` and the batch task)."""
    ledger = build_ledger(organization, year, generated=f"{timezone.localtime():%Y-%m-%d %H:%M}")
    if fmt == "pdf":
        return render_ledger_pdf(ledger, path)
    render_ledger_xlsx(ledger, path)
    return 0


def ledger_export(*, organization: Organization, year: Any, fmt: str, user: Any) -> tuple[bytes, str]:
    """The file's bytes and its download name, audited as an export."""
    if not user_can(user, VIEW, organization, for_org_model=False):  # the data inside, not just the row
        raise PermissionDenied("无权查看该组织的台账")
    year = check_ledger_request(organization=organization, year=year, fmt=fmt)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"ledger.{fmt}"
        pages = ledger_file_build(organization=organization, year=year, fmt=fmt, path=str(path))
        content = path.read_bytes()
    audit_log(
        event="ledger_export",
        user=user,
        obj=organization,
        organization=organization,
        detail={"year": year, "format": fmt, "pages": pages, "size": len(content)},
    )
    return content, f"{organization.name}-{year}年组织生活台账.{fmt}"
