"""Ledger housekeeping used by transfers and the development pipeline.

System: these functions take no acting user and trust their caller (the member services that
move, close or reopen a member's record, which authorize their own user)."""


from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import audit_log
from members.dues.models import (
    AMOUNT_APPROVALS,
    DuesApproval,
    DuesFixing,
    DuesMonth,
)
from members.dues.rules import (
    month_start,
)
from members.dues.services.common import dues_changed
from members.dues.services.fixings import month_rows
from members.models import Member
from organizations.models import Organization

# --- Ledger housekeeping (used by transfers and the development pipeline) ---------------------


@transaction.atomic
def dues_ledger_move(*, member: Member, organization: Organization, from_month: date) -> int:
    """After a transfer, the unpaid months from ``from_month`` on are owed to the new branch."""
    if not organization.can_collect_dues:
        raise ValidationError({"organization": f"{organization.get_org_type_display()}不收缴党费"})
    rows = DuesMonth.objects.filter(member=member, month__gte=month_start(from_month), paid_on__isnull=True)
    old_orgs = set(rows.values_list("organization_id", flat=True))
    moved = rows.update(organization=organization)
    dues_changed(old_orgs | {organization.pk})
    if moved:
        audit_log(
            event="dues_ledger_move",
            obj=member,
            organization=organization,
            detail={"member_id": member.pk, "from_month": f"{from_month:%Y-%m}", "months": moved},
        )
    return moved


@transaction.atomic
def dues_ledger_close(*, member: Member, from_month: date, reason: str) -> int:
    """Stop the ledger (no longer a member): unpaid months from ``from_month`` on are removed."""
    removed, _ = DuesMonth.objects.filter(
        member=member, month__gte=month_start(from_month), paid_on__isnull=True
    ).delete()
    if removed:
        audit_log(
            event="dues_ledger_close",
            obj=member,
            organization=member.organization,
            detail={"member_id": member.pk, "from_month": f"{from_month:%Y-%m}", "months": removed, "reason": reason},
        )
    return removed


@transaction.atomic
def dues_ledger_reopen(*, member: Member, from_month: date) -> int:
    """Undo ``dues_ledger_close`` (the decision that ended the membership was voided): the months of
    the member's fixings from ``from_month`` on that have no ledger row get one again."""
    fixings = list(DuesFixing.objects.filter(member=member, year__gte=from_month.year))
    if not fixings:
        return 0
    have = set(DuesMonth.objects.filter(member=member).values_list("month", flat=True))
    approvals = list(
        DuesApproval.objects.filter(member=member, kind__in=list(AMOUNT_APPROVALS)).order_by("approved_on", "pk")
    )
    rows = [
        row
        for fixing in fixings
        for row in month_rows(fixing, approvals)
        if row.month >= month_start(from_month) and row.month not in have
    ]
    DuesMonth.objects.bulk_create(rows)
    dues_changed({fixing.organization_id for fixing in fixings})
    if rows:
        audit_log(
            event="dues_ledger_reopen",
            obj=member,
            organization=member.organization,
            detail={"member_id": member.pk, "from_month": f"{from_month:%Y-%m}", "months": len(rows)},
        )
    return len(rows)


@transaction.atomic
def dues_ledger_drop(*, member: Member, reason: str) -> int:
    """Remove every fixing and ledger month of someone who turns out not to be a party member (the
    admission record was voided). Refused once anything was paid: paid dues are never erased."""
    if DuesMonth.objects.filter(member=member, paid_on__isnull=False).exists():
        raise ValidationError(
            {"step": "该同志已有党费缴纳记录，不能作废接收预备党员的审批；如确属误录，请联系上级党组织处理"}
        )
    fixings = DuesFixing.objects.filter(member=member)
    org_ids = set(fixings.values_list("organization_id", flat=True))
    years = sorted(set(fixings.values_list("year", flat=True)))
    if not years:
        return 0
    fixings.delete()  # their months and income items go with them
    dues_changed(org_ids)
    audit_log(
        event="dues_ledger_drop",
        obj=member,
        organization=member.organization,
        detail={"member_id": member.pk, "years": years, "reason": reason},
    )
    return len(years)
