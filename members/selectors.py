"""Reads over member records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.lookups import DataContains
from django.db import connection
from django.db.models import Exists, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Coalesce

from audit.denials import note_out_of_scope
from audit.models import AuditEvent
from core.access import CHANGE, VIEW, Scope, get_scope
from core.compiled import CompiledList
from core.dates import add_months, add_years, today
from members.changes import field_label
from members.choices import MembershipStatus, Stage, TransferStatus
from members.models import Member, MemberTransfer, OrganizationMembership
from organizations.choices import BRANCH_TYPES, OrgType
from organizations.models import Organization
from organizations.selectors import count_subquery


def member_roster_on(*, organization: Organization, on: date, include_groups: bool = True) -> QuerySet[Member]:
    """Party members (预备 and 正式) who belonged to ``organization`` on ``on``.

    Membership comes from the dated ``OrganizationMembership`` rows, not the current
    organization, so a meeting recorded late still gets the roster of its own day. With
    ``include_groups`` the branch's 党小组 count as the branch.
    """
    if include_groups:
        org_filter = Q(organization__path=organization.path) | Q(
            organization__path__startswith=organization.path, organization__org_type="group"
        )
    else:
        org_filter = Q(organization=organization)
    member_ids = OrganizationMembership.objects.filter(
        org_filter, Q(end_on__isnull=True) | Q(end_on__gt=on), start_on__lte=on
    ).values("member_id")
    return (
        Member.objects.filter(pk__in=member_ids, joined_on__isnull=False, joined_on__lte=on)
        .exclude(membership_status__in=[MembershipStatus.REMOVED, MembershipStatus.EXPELLED, MembershipStatus.DECEASED])
        .filter(in_good_standing_q(on), stage__in=[Stage.PROBATIONARY, Stage.FULL])
        .order_by("name", "pk")
    )


def in_good_standing_q(on: date, prefix: str = "") -> Q:
    """Not under 停止党籍 on ``on`` (from ``suspended_on``): such members take no part in
    organizational life (not expected, no vote, no dues; JY §24, ZB §11)."""
    return ~Q(**{f"{prefix}membership_status": MembershipStatus.SUSPENDED}) | Q(**{f"{prefix}suspended_on__gt": on})


def member_is_full_on(member: Member, on: date) -> bool:
    """正式党员 on that date: 转正 recorded on or before it (党龄 counts from 转正, FZ)."""
    return member.full_on is not None and member.full_on <= on


def member_can_vote_on(member: Member, on: date) -> bool:
    """正式党员 in normal standing (§2 voting rights); 预备党员 attend without a vote. 留党察看 and
    suspended rights are checked for a whole roster at once (``members_without_vote_on``)."""
    return member_is_full_on(member, on) and member.membership_status == MembershipStatus.NORMAL


# --- Member lists, flags and history (members records issue) --------------------------------

LOST_CONTACT_SUSPEND_MONTHS = 6  # 失联 ≥6 months → 停止党籍 (JY §24)
SUSPENDED_REMOVE_YEARS = 2  # 停止党籍 2 years, still unreachable → 自行脱党除名 (JY §24)
AWAY_TRANSFER_MONTHS = 6  # away ≥6 months at a fixed place → transfer 组织关系 (JY §25)
ABROAD_SUSPEND_YEARS = 5  # studying abroad >5 years without returning → 停止党籍 (JY §24)


@dataclass(frozen=True)
class MemberFlag:
    code: str
    label: str
    level: str  # "warning" or "danger"


def _pending_transfer() -> Exists:
    return Exists(MemberTransfer.objects.filter(member=OuterRef("pk"), status=TransferStatus.PENDING))


def lost_contact_due_q(on: date) -> Q:
    """失联 for ≥6 months and still in normal standing: suggest 停止党籍 (people decide)."""
    return Q(
        is_lost_contact=True,
        lost_contact_since__lte=add_months(on, -LOST_CONTACT_SUSPEND_MONTHS),
        membership_status=MembershipStatus.NORMAL,
    )


def suspended_removal_due_q(on: date) -> Q:
    """停止党籍 for ≥2 years and still 失联: the 自行脱党除名 procedure is due."""
    return Q(
        is_lost_contact=True,
        membership_status=MembershipStatus.SUSPENDED,
        suspended_on__lte=add_years(on, -SUSPENDED_REMOVE_YEARS),
    )


def away_without_transfer_q(on: date) -> Q:
    """流动党员 away ≥6 months with no transfer under way (needs ``has_pending_transfer``)."""
    return Q(
        is_mobile=True,
        mobile_since__lte=add_months(on, -AWAY_TRANSFER_MONTHS),
        membership_status=MembershipStatus.NORMAL,
        has_pending_transfer=False,
    )


def abroad_too_long_q(on: date) -> Q:
    return Q(
        is_abroad=True,
        abroad_since__lte=add_years(on, -ABROAD_SUSPEND_YEARS),
        membership_status=MembershipStatus.NORMAL,
    )


def _base(queryset: QuerySet[Member] | None) -> QuerySet[Member]:
    qs = Member.objects.all() if queryset is None else queryset
    return qs.annotate(has_pending_transfer=_pending_transfer())


def member_lost_contact_due(*, on: date, queryset: QuerySet[Member] | None = None) -> QuerySet[Member]:
    return _base(queryset).filter(lost_contact_due_q(on))


def member_suspended_removal_due(*, on: date, queryset: QuerySet[Member] | None = None) -> QuerySet[Member]:
    return _base(queryset).filter(suspended_removal_due_q(on))


def member_away_without_transfer(*, on: date, queryset: QuerySet[Member] | None = None) -> QuerySet[Member]:
    return _base(queryset).filter(away_without_transfer_q(on))


def member_abroad_too_long(*, on: date, queryset: QuerySet[Member] | None = None) -> QuerySet[Member]:
    return _base(queryset).filter(abroad_too_long_q(on))


def member_attention_q(on: date) -> Q:
    """Any of the dated rules of §7 that call for a decision (needs ``has_pending_transfer``)."""
    return lost_contact_due_q(on) | suspended_removal_due_q(on) | away_without_transfer_q(on) | abroad_too_long_q(on)


def member_flags(member: Any, *, on: date | None = None) -> list[MemberFlag]:
    """Flags for one member; ``has_pending_transfer`` comes from ``member_list`` (no extra query)."""
    on = on or today()
    flags: list[MemberFlag] = []
    normal = member.membership_status == MembershipStatus.NORMAL
    if member.is_lost_contact:
        since = member.lost_contact_since
        if normal and since and since <= add_months(on, -LOST_CONTACT_SUSPEND_MONTHS):
            flags.append(
                MemberFlag("lost_contact_suspend", f"自 {since:%Y-%m-%d} 失联已满 6 个月，建议按规定停止党籍", "danger")
            )
        elif (
            member.membership_status == MembershipStatus.SUSPENDED
            and member.suspended_on
            and member.suspended_on <= add_years(on, -SUSPENDED_REMOVE_YEARS)
        ):
            flags.append(
                MemberFlag("suspended_remove", "停止党籍已满 2 年仍无法取得联系，应按自行脱党予以除名", "danger")
            )
        else:
            flags.append(MemberFlag("lost_contact", f"失联（自 {since:%Y-%m-%d}）" if since else "失联", "warning"))
    if member.is_mobile:
        since = member.mobile_since
        destination = member.mobile_destination or "外地"
        pending = getattr(member, "has_pending_transfer", False)
        if normal and since and since <= add_months(on, -AWAY_TRANSFER_MONTHS) and not pending:
            flags.append(
                MemberFlag(
                    "away_without_transfer",
                    f"流动至{destination}已满 6 个月，地点相对固定的应转接组织关系",
                    "warning",
                )
            )
        else:
            flags.append(MemberFlag("mobile", f"流动党员（{destination}）", "info"))
    if member.is_abroad:
        since = member.abroad_since
        if normal and since and since <= add_years(on, -ABROAD_SUSPEND_YEARS):
            flags.append(MemberFlag("abroad_long", "出国（境）已满 5 年，一般应停止党籍，请核实", "warning"))
        else:
            flags.append(MemberFlag("abroad", "出国（境）", "info"))
    return flags


ATTENTION_FLAGS = {
    "lost_contact": "失联",
    "mobile": "流动党员",
    "abroad": "出国（境）",
    "attention": "需处理（失联满 6 个月、外出满 6 个月未转接等）",
}


def member_list(
    *,
    user: Any,
    organization: Organization | None = None,
    stage: str = "",
    status: str = "",
    search: str = "",
    flag: str = "",
    on: date | None = None,
) -> QuerySet[Member]:
    """Members the user may see, filtered; one query per page (organization and group joined)."""
    on = on or today()
    org_path, group_pk = _organization_filter(organization)
    qs = _filtered(
        Member.objects.visible_to(user, VIEW), org_path=org_path, group_pk=group_pk, stage=stage, status=status
    )
    if search:
        qs = qs.filter(member_search_q(search))
    if flag == "lost_contact":
        qs = qs.filter(is_lost_contact=True)
    elif flag == "mobile":
        qs = qs.filter(is_mobile=True)
    elif flag == "abroad":
        qs = qs.filter(is_abroad=True)
    elif flag == "attention":
        qs = qs.filter(member_attention_q(on))
    return qs.select_related("organization", "party_group").order_by("organization__path", "name", "pk")


def _organization_filter(organization: Organization | None) -> tuple[str | None, int | None]:
    """The ``organization`` filter as (subtree path, 党小组 id): a 党小组's members are those placed
    in it (a second assignment inside the branch), besides any recorded under it."""
    if organization is None:
        return None, None
    return organization.path, organization.pk if organization.org_type == OrgType.GROUP else None


def _filtered(
    qs: QuerySet[Member], *, org_path: str | None, group_pk: int | None, stage: str, status: str
) -> QuerySet[Member]:
    """The filters of ``member_list`` that ``member_list_pages`` compiles too."""
    qs = qs.annotate(has_pending_transfer=_pending_transfer())
    if org_path is not None:
        subtree = Q(organization__path__startswith=org_path)
        qs = qs.filter(subtree | Q(party_group_id=group_pk) if group_pk is not None else subtree)
    if stage:
        qs = qs.filter(stage=stage)
    if status:
        qs = qs.filter(membership_status=status)
    return qs


def member_list_pages(
    *,
    user: Any,
    columns: list[str],
    organization: Organization | None = None,
    stage: str = "",
    status: str = "",
    search: str = "",
    flag: str = "",
    ordering: list[str] | None = None,
) -> CompiledList | None:
    """The API's member list as a ``CompiledList`` (#20.2): the same rows, in the same order, as
    ``member_list(...).only(*columns)`` ordered by ``ordering``, read through statements compiled
    once per shape — the user's scope (its rules' reaches, whether their own record is added) and
    which filters are given; the paths, ids and choices are the bound values. The organization's
    and 党小组's names come as ``organization_name`` / ``party_group_name``. None for a search or
    a flag (their SQL carries dates and character arrays): the caller pages ``member_list``."""
    if search or flag:
        return None
    scope = get_scope(user)
    reaches, own = scope.shape(VIEW, for_org_model=False)
    if not reaches and not own:
        return None
    org_path, group_pk = _organization_filter(organization)
    order = tuple(ordering or ("organization__path", "name", "pk"))
    key = f"members.list:{reaches}:{own}:{org_path is not None}:{group_pk is not None}:{bool(stage)}:{bool(status)}:{order}:{tuple(columns)}"
    values: dict[str, Any] = {f"p{i}": path for i, path in enumerate(scope.paths(VIEW, for_org_model=False))}
    if own:
        values["mid"] = scope.member_id
    if org_path is not None:
        values["org"] = org_path
    if group_pk is not None:
        values["group"] = group_pk
    if stage:
        values["stage"] = stage
    if status:
        values["status"] = status

    def build(**v: Any) -> QuerySet[Member]:
        paths = [v[f"p{i}"] for i in range(len(reaches))]
        twin = Scope.of_shape(VIEW, reaches, paths, v.get("mid"))
        qs = _filtered(
            Member.objects.visible_to_scope(twin, VIEW),
            org_path=v.get("org"),
            group_pk=v.get("group"),
            stage=v.get("stage", ""),
            status=v.get("status", ""),
        )
        return (
            qs.only(*columns)
            .annotate(organization_name=F("organization__name"), party_group_name=F("party_group__name"))
            .order_by(*order)
        )

    pages = CompiledList(key, build, **values)
    # A branch's or 党小组's list is small: its page and total come in one statement.
    pages.small = group_pk is not None or (organization is not None and organization.org_type in BRANCH_TYPES)
    return pages


def member_search_q(search: str) -> Q:
    """Name contains the text. Full ID or phone numbers are never matched here: a GET search is an
    unaudited oracle (138NNNN5678 in 10,000 requests); exact lookups are ``member_find_by_number``
    (POST, reveal roles, throttled, audited; #21.4).

    On PostgreSQL the caseless characters of the text (Chinese characters) must also all be in the
    name's character array, which the GIN index ``members_member_name_chars`` answers (migration
    0014): the same rows, found without scanning every member (#20.2)."""
    text = search.strip()
    q = Q(name__icontains=text)
    chars = sorted({ch for ch in text if ch.upper() == ch == ch.lower() and not ch.isspace()})
    if chars and connection.vendor == "postgresql":
        q &= Q(DataContains(NameChars("name"), Value(chars, output_field=ArrayField(TextField()))))
    return q


class NameChars(Func):
    """``regexp_split_to_array(upper(name), '')``: a name's characters, as the GIN index holds them."""

    function = "regexp_split_to_array"
    template = "%(function)s(UPPER(%(expressions)s), '')"
    output_field = ArrayField(TextField())


def member_number_q(number: str) -> Q | None:
    """Exact match of a full ID number or phone through its blind index, or None for neither."""
    from members import crypto
    from members.models import ID_NUMBER_FIELD, PHONE_FIELD
    from members.validators import normalize_id_number, normalize_phone

    text = (number or "").strip()
    id_number = normalize_id_number(text)
    if len(id_number) == 18:
        return Q(id_number_hash=crypto.blind_index(id_number, field=ID_NUMBER_FIELD))
    phone = normalize_phone(text)
    if phone.replace("-", "").isdigit() and len(phone.replace("-", "")) >= 7:
        return Q(phone_hash=crypto.blind_index(phone, field=PHONE_FIELD))
    return None


def member_transfers(*, member: Member) -> QuerySet[MemberTransfer]:
    """A member's full transfer history, newest first."""
    return (
        MemberTransfer.objects.filter(member=member)
        .select_related("from_organization", "to_organization")
        .order_by("-issued_on", "-pk")
    )


def member_roster_history(*, member: Member) -> QuerySet[OrganizationMembership]:
    return OrganizationMembership.objects.filter(member=member).select_related("organization").order_by("start_on")


def transfer_list(*, user: Any, status: str = "", kind: str = "", direction: str = "") -> QuerySet[MemberTransfer]:
    """Transfers the user may see (either side). ``direction`` = "in" / "out" relative to orgs
    the user may change."""
    qs = MemberTransfer.objects.visible_to(user, VIEW)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if direction in ("in", "out"):
        side = "to_organization" if direction == "in" else "from_organization"
        changeable = Organization.objects.visible_to(user, CHANGE).values("pk")
        qs = qs.filter(**{f"{side}__in": changeable})
    return qs.select_related("member", "from_organization", "to_organization").order_by("-issued_on", "-pk")


def organization_subtree_member_counts() -> dict[str, Any]:
    """The same counts over the organization and all its descendants (path prefix), as the
    dashboard's 党员 figure counts them."""
    normal = Member.objects.filter(
        organization__path__startswith=OuterRef("path"), membership_status=MembershipStatus.NORMAL
    ).order_by()

    def total(qs: Any) -> Any:
        return Coalesce(Subquery(qs.values(c=Func("pk", function="COUNT")), output_field=IntegerField()), Value(0))

    return {
        "subtree_full_member_count": total(normal.filter(stage=Stage.FULL)),
        "subtree_party_member_count": total(normal.filter(stage__in=[Stage.PROBATIONARY, Stage.FULL])),
    }


def organization_member_counts() -> dict[str, Any]:
    """The member counts of an organization as annotations over ``OuterRef("pk")`` (registered
    with ``organizations.selectors`` for the organization flags): members in normal standing who
    are 正式党员, and 正式 + 预备 党员."""
    normal = Member.objects.filter(organization=OuterRef("pk"), membership_status=MembershipStatus.NORMAL)
    return {
        "full_member_count": count_subquery(normal.filter(stage=Stage.FULL), "organization"),
        "party_member_count": count_subquery(normal.filter(stage__in=[Stage.PROBATIONARY, Stage.FULL]), "organization"),
    }


def member_names_in_scope(user: Any, ids: Iterable[int]) -> dict[int, str]:
    """Names of those ``ids`` the user may see (#21.2). Ids of members outside the user's scope are
    left out, exactly like ids that do not exist, and noted for an ``access_denied`` audit event.
    ``user`` None is a system call and sees every name."""
    wanted = {pk for pk in ids if isinstance(pk, int)}
    if not wanted:
        return {}
    existing = dict(Member.objects.filter(pk__in=wanted).values_list("pk", "name"))
    if user is None:
        return existing
    visible = set(Member.objects.visible_to(user, VIEW).filter(pk__in=existing).values_list("pk", flat=True))
    note_out_of_scope(user=user, kind="member", ids=set(existing) - visible)
    return {pk: name for pk, name in existing.items() if pk in visible}


# One answer whether the record holding the number is in the user's scope or not (#21.2).
ID_NUMBER_TAKEN = "该公民身份号码不能登记，请核对号码；本人的组织关系在其他党组织的，请由原组织办理组织关系转接"


def member_id_hashes_taken(user: Any, hashes: Iterable[str], *, exclude_pk: int | None = None) -> set[str]:
    """The blind indexes already registered. Callers answer ``ID_NUMBER_TAKEN`` for each, naming no
    one; the records outside the user's scope are noted for an ``access_denied`` audit event."""
    wanted = [value for value in hashes if value]
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 2000):
        qs = Member.objects.filter(id_number_hash__in=wanted[start : start + 2000])
        if exclude_pk is not None:
            qs = qs.exclude(pk=exclude_pk)
        found.update(qs.values_list("id_number_hash", "pk"))
    if user is not None and found:
        visible = set(Member.objects.visible_to(user, VIEW).filter(pk__in=found.values()).values_list("pk", flat=True))
        note_out_of_scope(user=user, kind="member_id_number", ids=[pk for pk in found.values() if pk not in visible])
    return set(found)


# The audit events that change a member record (the history on the record page and in the API).
MEMBER_HISTORY_EVENTS = ("member_create", "member_update")


def member_change_history(*, member: Member, limit: int = 200) -> list[dict[str, Any]]:
    """A record's changes, newest first, from the audit log: when, who (by name), and each field's
    old → new value (personal values masked when written). Events written before old values were
    kept list the field names only (``old``/``new`` None). One query."""
    events = (
        AuditEvent.objects.filter(object_type="Member", object_id=str(member.pk), event__in=MEMBER_HISTORY_EVENTS)
        .select_related("user")
        .order_by("-created_at", "-id")[:limit]
    )
    history = []
    for event in events:
        detail = event.detail or {}
        changes = detail.get("changes")
        if changes is None:
            changes = [
                {"field": f, "label": field_label(f), "old": None, "new": None} for f in detail.get("fields", [])
            ]
        user = event.user
        history.append(
            {
                "at": event.created_at,
                "event": event.event,
                "action": "登记" if event.event == "member_create" else "修改",
                "by": (user.get_full_name() or user.get_username()) if user else (event.username or "系统"),
                "changes": changes,
            }
        )
    return history
