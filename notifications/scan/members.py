"""Member records (members): political birthdays, lost contact, away without a transfer. The
batch's members are read once (``batch_members``) and shared by every member rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import NamedTuple

from core.dates import add_months
from members.choices import MembershipStatus, Stage
from members.discipline.selectors import sanctions_ending_between
from members.models import Member, MemberTransfer
from notifications.scan.context import Candidate, OrgInfo, ScanContext, anniversary, cn, member_link

BIRTHDAY_CATCH_UP_DAYS = 6  # a missed greeting is still sent within a week, never months late


class MemberRow(NamedTuple):
    pk: int
    organization_id: int
    user_id: int | None
    user_active: bool | None
    name: str
    stage: str
    joined_on: date | None
    is_lost_contact: bool
    lost_contact_since: date | None
    is_mobile: bool
    mobile_since: date | None
    mobile_destination: str

    @property
    def is_party_member(self) -> bool:
        return self.stage in PARTY_STAGES

    @property
    def login(self) -> int | None:
        return self.user_id if self.user_id and self.user_active else None


PARTY_STAGES = frozenset({Stage.PROBATIONARY, Stage.FULL})
PIPELINE_STAGES = frozenset({Stage.APPLICANT, Stage.ACTIVIST, Stage.CANDIDATE, Stage.PROBATIONARY})


def batch_members(ctx: ScanContext) -> list[MemberRow]:
    """Every member in normal standing of the batch's organizations: one query shared by all the
    member rules (never one query per rule, organization or member)."""
    cached = ctx.member_rows
    if cached is None:
        rows = (
            Member.objects.filter(organization_id__in=list(ctx.orgs), membership_status=MembershipStatus.NORMAL)
            .order_by()
            .values_list(
                "pk", "organization_id", "user_id", "user__is_active", "name", "stage", "joined_on",
                "is_lost_contact", "lost_contact_since", "is_mobile", "mobile_since", "mobile_destination",
            )
        )  # fmt: skip
        cached = ctx.member_rows = [MemberRow(*row) for row in rows]
    return cached


def _members_for(ctx: ScanContext, code: str) -> Iterator[tuple[MemberRow, OrgInfo]]:
    for member in batch_members(ctx):
        org = ctx.orgs[member.organization_id]
        if ctx.enabled(org, code):
            yield member, org


def political_birthdays(ctx: ScanContext) -> Iterator[Candidate]:
    on = ctx.on
    for member, org in _members_for(ctx, "political_birthday"):
        joined_on = member.joined_on
        if not (member.login and joined_on and member.is_party_member):
            continue
        for year in (on.year, on.year - 1):
            day = anniversary(joined_on, year)
            if year > joined_on.year and day <= on <= day + timedelta(days=BIRTHDAY_CATCH_UP_DAYS):
                yield Candidate(
                    "political_birthday",
                    org,
                    "member",
                    member.pk,
                    str(year),
                    f"{member.name}同志，祝您政治生日快乐！",
                    f"{cn(joined_on)}，您光荣加入中国共产党，至今已 {year - joined_on.year} 年。"
                    "不忘初心、牢记使命，感谢您的坚守与奉献。",
                    "",
                    member_user_id=member.login,
                )
                break


def lost_contact(ctx: ScanContext) -> Iterator[Candidate]:
    for member, org in _members_for(ctx, "member_lost_contact"):
        since = member.lost_contact_since
        if not (member.is_lost_contact and since):
            continue
        months = ctx.setting(org, "member_lost_contact").offset or 0
        if add_months(since, months) <= ctx.on:
            yield Candidate(
                "member_lost_contact",
                org,
                "member",
                member.pk,
                since.isoformat(),
                f"党员{member.name}自 {cn(since)} 失去联系已满 {months} 个月",
                "失联满 6 个月、经多方查找仍无法取得联系的，应按规定研究停止党籍（由党组织讨论决定）。",
                member_link(member.pk),
            )


def away_without_transfer(ctx: ScanContext) -> Iterator[Candidate]:
    due = []
    for member, org in _members_for(ctx, "member_away"):
        if member.is_mobile and member.mobile_since:
            months = ctx.setting(org, "member_away").offset or 0
            if add_months(member.mobile_since, months) <= ctx.on:
                due.append((member, org, months))
    if not due:
        return
    pending = _pending_transfer_member_ids([member.pk for member, _, _ in due])
    for member, org, months in due:
        if member.pk in pending:
            continue
        destination = member.mobile_destination
        where = f"（外出流向：{destination}）" if destination else ""
        yield Candidate(
            "member_away",
            org,
            "member",
            member.pk,
            member.mobile_since.isoformat(),
            f"流动党员{member.name}外出已满 {months} 个月，尚未转接组织关系",
            f"外出 6 个月以上且地点相对固定的，应转接组织关系{where}；暂不转接的，应保持经常联系。",
            member_link(member.pk),
        )


def _pending_transfer_member_ids(member_ids: list[int]) -> set[int]:
    """Members with a transfer under way (members app): no "transfer your relations" reminder."""
    return set(
        MemberTransfer.objects.filter(member_id__in=member_ids, status="pending").values_list("member_id", flat=True)
    )


SANCTION_RULES = {"probation": "member_probation_ending", "correction": "member_correction_ending"}
SANCTION_ENDING_MAX_DAYS = 90  # the longest offset a setting allows


def sanctions_ending(ctx: ScanContext) -> Iterator[Candidate]:
    """留党察看 and 限期改正 ending within the rule's offset (and not yet ended): one query for the
    batch."""
    on = ctx.on
    if not ctx.org_ids_with(*SANCTION_RULES.values()):
        return
    rows = sanctions_ending_between(start=on, end=on + timedelta(days=SANCTION_ENDING_MAX_DAYS)).filter(
        member__organization_id__in=list(ctx.orgs)
    )
    for sanction in rows:
        code = SANCTION_RULES[sanction.kind]
        org = ctx.orgs[sanction.member.organization_id]
        setting = ctx.setting(org, code)
        if not setting.enabled or on < sanction.until - timedelta(days=setting.offset or 0):
            continue
        name, label = sanction.member.name, sanction.get_kind_display()
        after = "讨论恢复其党员权利，或按规定予以除名" if sanction.kind == "probation" else "考察改正情况；仍无转变的按规定予以除名"
        yield Candidate(
            code,
            org,
            "member",
            sanction.member_id,
            sanction.until.isoformat(),
            f"党员{name}的{label}将于 {cn(sanction.until)} 期满",
            f"{label}期满后，党组织应及时{after}。",
            member_link(sanction.member_id),
        )
