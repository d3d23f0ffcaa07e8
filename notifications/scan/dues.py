"""Dues (members): the monthly collection reminder and arrears warnings (``dues_arrears_flags``)."""

from __future__ import annotations

from collections.abc import Iterator

from members.dues.selectors import dues_arrears_flags
from notifications.scan.context import Candidate, ScanContext, monthly_trigger_day, url_to
from notifications.scan.members import batch_members
from organizations.choices import OrgType


def dues_collection(ctx: ScanContext) -> Iterator[Candidate]:
    org_ids = [
        pk
        for pk in ctx.org_ids_with("dues_collection")
        if ctx.orgs[pk].org_type not in (OrgType.GROUP, OrgType.TEMPORARY_BRANCH)
    ]
    if not org_ids:
        return
    with_members = {m.organization_id for m in batch_members(ctx) if m.is_party_member}
    on = ctx.on
    for org_id in org_ids:
        if org_id not in with_members:
            continue
        org = ctx.orgs[org_id]
        setting = ctx.setting(org, "dues_collection")
        if on.day >= monthly_trigger_day(on, setting.day_of_month):
            yield Candidate(
                "dues_collection",
                org,
                "org",
                org_id,
                f"{on:%Y-%m}",
                f"{on.month} 月党费收缴提醒：{org.name}",
                "请按月收缴并登记本月党费；党员本人交纳，组织不得代交、扣缴。",
                url_to("dues:org", org_id),
            )


def dues_arrears(ctx: ScanContext) -> Iterator[Candidate]:
    enabled_orgs = set(ctx.org_ids_with("dues_arrears_warning", "dues_arrears_serious"))
    rows = [
        (m.pk, m.organization_id, m.name, m.login)
        for m in batch_members(ctx)
        if m.is_party_member and m.organization_id in enabled_orgs
    ]
    if not rows:
        return
    flags = dues_arrears_flags(member_ids=[row[0] for row in rows], on=ctx.on)
    for member_id, org_id, name, user_id in rows:
        status = flags.get(member_id)
        if status is None or not status.unpaid_months:
            continue
        org = ctx.orgs[org_id]
        first = status.unpaid_months[0]
        link = url_to("dues:member", member_id)
        warning = ctx.setting(org, "dues_arrears_warning")
        if warning.enabled and (status.warning if warning.is_default else status.unpaid_count >= (warning.offset or 0)):
            since = f"{first.year}年{first.month}月"
            yield Candidate(
                "dues_arrears_warning",
                org,
                "member",
                member_id,
                f"{first:%Y-%m}",
                # To the secretary: about the member, and what the branch does.
                f"党员{name}已有 {status.unpaid_count} 个月党费未交",
                f"党员{name}自 {since} 起累计 {status.unpaid_count} 个月未交纳党费，共 {status.owed_total} 元。"
                "请提醒其按时交纳，了解有无困难；确有困难的，可按规定办理少交或免交。",
                link,
                member_user_id=user_id,
                # To the member: about their own dues.
                member_title=f"您已有 {status.unpaid_count} 个月党费未交",
                member_body=f"您自 {since} 起累计 {status.unpaid_count} 个月未交纳党费，共 {status.owed_total} 元，"
                "请及时交纳。如有困难，可向党支部说明情况。",
                member_link=url_to("members:me"),
            )
        serious = ctx.setting(org, "dues_arrears_serious")
        if serious.enabled and (status.lapse if serious.is_default else status.longest_run >= (serious.offset or 0)):
            yield Candidate(
                "dues_arrears_serious",
                org,
                "member",
                member_id,
                f"{first:%Y-%m}",
                f"{name}已连续 {status.longest_run} 个月未交党费",
                "连续 6 个月不交纳党费且无正当理由的，按自行脱党处理：由支部大会讨论决定除名，报上级党组织批准。"
                "系统仅作提示，是否处理由党组织决定。",
                link,
            )
