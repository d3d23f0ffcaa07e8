"""Committee terms (organizations): a term ending soon, and a term past its expiry."""

from __future__ import annotations

from collections.abc import Iterator

from core.dates import add_months
from notifications.scan.context import Candidate, ScanContext, cn
from organizations.choices import OrgType
from organizations.models import CommitteeTerm


def terms(ctx: ScanContext) -> Iterator[Candidate]:
    org_ids = ctx.org_ids_with("term_ending", "term_overdue")
    if not org_ids:
        return
    rows = (
        CommitteeTerm.objects.filter(organization_id__in=org_ids, ended_on__isnull=True)
        .order_by()
        .values_list("pk", "organization_id", "number", "expires_on", "extended_until")
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
                f"{org.name}（第{number}届）任期将于 {cn(expiry)} 届满",
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
                f"{org.name}（第{number}届）任期已于 {cn(expiry)} 届满，尚未换届",
                "请及时换届；确需延期的，应报上级党组织批准（一般不超过 1 年）。",
                org.link,
            )
