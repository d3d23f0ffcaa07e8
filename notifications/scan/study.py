"""Study pace (activities: ``member_study_hours``, ``study_target_hours``): members behind the
pro-rata pace of the year's target hours."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from activities.selectors import member_study_hours, study_target_hours
from notifications.scan.context import Candidate, ScanContext, monthly_trigger_day, url_to
from notifications.scan.members import batch_members


def study_pace(ctx: ScanContext) -> Iterator[Candidate]:
    org_ids = [
        pk
        for pk in ctx.org_ids_with("study_pace")
        if ctx.on.day >= monthly_trigger_day(ctx.on, ctx.setting(ctx.orgs[pk], "study_pace").day_of_month)
    ]
    if not org_ids or ctx.on.month == 1:
        return
    wanted = set(org_ids)
    rows = [
        (m.pk, m.organization_id, m.login)
        for m in batch_members(ctx)
        if m.login and m.is_party_member and m.organization_id in wanted
    ]
    if not rows:
        return
    target = study_target_hours()
    expected = (target * (ctx.on.month - 1) / 12).quantize(Decimal("0.1"))
    hours = member_study_hours(member_ids=[row[0] for row in rows], year=ctx.on.year)
    for member_id, org_id, user_id in rows:
        done = hours.get(member_id, Decimal("0"))
        if done >= expected:
            continue
        org = ctx.orgs[org_id]
        yield Candidate(
            "study_pace",
            org,
            "member",
            member_id,
            f"{ctx.on:%Y-%m}",
            f"{ctx.on.month} 月学习提醒：今年已学习 {done} 学时",
            f"全年集中学习培训不少于 {target} 学时，按进度到上月底约为 {expected} 学时。"
            "请合理安排学习（本提醒仅供参考，可在个人设置中关闭）。",
            url_to("members:me"),
            member_user_id=user_id,
        )
