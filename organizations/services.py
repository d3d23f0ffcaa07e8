"""Writes and rules for the organization tree and committee terms.

Services are keyword-only, validate first, raise ``ValidationError`` with Chinese messages
keyed by field, and write nothing when they refuse. A service given the acting ``user``
authorizes it (``core.access.authorize``); without one it is a system call that trusts its caller.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from audit.services import audit_log
from core.access import authorize
from core.dates import add_years
from core.signals import tree_changed
from organizations.choices import ALLOWED_PARENTS, OrgType, PositionCode, TermKind
from organizations.models import CommitteeTerm, Organization, Position

ORG_FIELDS = (
    "name",
    "short_name",
    "code",
    "org_type",
    "unit_name",
    "unit_relation",
    "is_village_or_community",
    "established_on",
    "contact_name",
    "contact_phone",
)


def organization_check_placement(
    *, org_type: str, parent: Organization | None, org: Organization | None = None
) -> None:
    """Refuse an invalid parent type, a cycle, or children that the new type cannot hold."""
    parent_type = parent.org_type if parent else None
    allowed = ALLOWED_PARENTS.get(org_type)
    if allowed is None:
        raise ValidationError({"org_type": "未知的组织类别"})
    if parent_type not in allowed:
        label = OrgType(org_type).label
        if parent is None:
            raise ValidationError({"parent": f"{label}必须设在党支部之内，不能作为顶层组织"})
        raise ValidationError({"parent": f"{label}不能设在{OrgType(parent_type).label}之下"})
    if org is not None and org.pk:
        if parent is not None and parent.path.startswith(org.path):
            raise ValidationError({"parent": "不能把组织移动到它自己或它的下级组织之下（会形成循环）"})
        child_types = set(Organization.objects.children_of(org).values_list("org_type", flat=True))
        for child_type in child_types:
            if org_type not in ALLOWED_PARENTS[child_type]:
                raise ValidationError(
                    {"org_type": f"该组织下设有{OrgType(child_type).label}，不能改为{OrgType(org_type).label}"}
                )


def _check_code_unique(code: str, exclude_pk: int | None) -> None:
    qs = Organization.objects.filter(code=code)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationError({"code": "组织代码已被使用"})


def _authorize_placement(user: Any, parent: Organization | None) -> None:
    """Where an organization may go: under one the user may change; a new root only for a superuser."""
    if user is None:
        return
    if parent is None:
        if not getattr(user, "is_superuser", False):
            raise PermissionDenied("只有超级用户可以新建顶级党组织")
        return
    authorize(user, parent)


@transaction.atomic
def organization_create(*, parent: Organization | None, user: Any = None, **data: Any) -> Organization:
    """Create an organization under ``parent`` (a new root only for a superuser)."""
    _authorize_placement(user, parent)
    unknown = set(data) - set(ORG_FIELDS)
    if unknown:
        raise ValidationError({field: "不支持的字段" for field in unknown})
    organization_check_placement(org_type=data.get("org_type", ""), parent=parent)
    _check_code_unique(data.get("code", ""), None)
    org = Organization(**data)
    org.full_clean(exclude=["path", "depth", "numchild"])
    if parent is None:
        org = Organization.objects.add_root(instance=org)
    else:
        parent = Organization.objects.select_for_update().get(pk=parent.pk)
        org = Organization.objects.add_child(parent, instance=org)
    audit_log(event="organization_create", obj=org, organization=org, detail={"name": org.name})
    return org


@transaction.atomic
def organization_update(
    *, org: Organization, parent: Organization | None | object = ..., user: Any = None, **data: Any
) -> Organization:
    """Update fields and optionally move under ``parent`` (pass ``parent=None`` for a root)."""
    authorize(user, org)
    if parent is not ...:
        _authorize_placement(user, parent)  # type: ignore[arg-type]
    unknown = set(data) - set(ORG_FIELDS)
    if unknown:
        raise ValidationError({field: "不支持的字段" for field in unknown})
    current_parent = Organization.objects.parent_of(org)
    new_parent = current_parent if parent is ... else parent
    org_type = data.get("org_type", org.org_type)
    organization_check_placement(org_type=org_type, parent=new_parent, org=org)
    if "code" in data:
        _check_code_unique(data["code"], org.pk)
    for key, value in data.items():
        setattr(org, key, value)
    org.full_clean(exclude=["path", "depth", "numchild"])
    org.save()
    moved = (new_parent.pk if new_parent else None) != (current_parent.pk if current_parent else None)
    if moved:
        if new_parent is None:
            root = Organization.objects.filter(depth=1).order_by("-path").first()
            Organization.objects.move(org, root, pos="last-sibling")
        else:
            Organization.objects.move(org, new_parent, pos="last-child")
        org.refresh_from_db()
        tree_changed.send(sender=Organization)
    audit_log(event="organization_update", obj=org, organization=org, detail={"fields": sorted(data), "moved": moved})
    return org


def term_years_for(org: Organization) -> int:
    """Term length by type (RQ 2018; ZB §21): 党委 5, 总支/支部 3; 村/社区 5."""
    if org.is_village_or_community:
        return settings.PB_TERM_YEARS_VILLAGE
    return settings.PB_TERM_YEARS.get(org.org_type, 3)


@transaction.atomic
def committee_term_start(
    *,
    org: Organization,
    elected_on: date,
    kind: str = TermKind.ELECTED,
    term_years: int | None = None,
    note: str = "",
    user: Any = None,
) -> CommitteeTerm:
    """Start a new term (换届). The previous term is closed, never overwritten."""
    authorize(user, org)
    if org.org_type == OrgType.GROUP:
        raise ValidationError({"organization": "党小组不设委员会"})
    if kind == TermKind.ELECTED and not org.can_hold_elections:
        raise ValidationError({"kind": "临时党支部不进行换届选举，委员由上级党组织指定"})
    years = term_years or term_years_for(org)
    if not 1 <= years <= 5:
        raise ValidationError({"term_years": "任期应为 1 至 5 年"})
    previous = CommitteeTerm.objects.select_for_update().filter(organization=org, ended_on__isnull=True).first()
    if previous is not None:
        if elected_on < previous.elected_on:
            raise ValidationError({"elected_on": "新一届的选举日期不能早于上一届"})
        previous.ended_on = elected_on
        previous.save(update_fields=["ended_on"])
        Position.objects.filter(term=previous, end_on__isnull=True).update(end_on=elected_on)
    last_number = (
        CommitteeTerm.objects.filter(organization=org).order_by("-number").values_list("number", flat=True).first()
    )
    term = CommitteeTerm.objects.create(
        organization=org,
        number=(last_number or 0) + 1,
        kind=kind,
        elected_on=elected_on,
        term_years=years,
        expires_on=add_years(elected_on, years),
        note=note,
    )
    audit_log(event="committee_term_start", obj=term, organization=org, detail={"number": term.number})
    return term


@transaction.atomic
def committee_term_extend(*, term: CommitteeTerm, until: date, note: str = "", user: Any = None) -> CommitteeTerm:
    """Record an approved delay of 换届 (XJ §3: generally no more than 1 year)."""
    authorize(user, term.organization)
    if term.ended_on is not None:
        raise ValidationError({"term": "该届已结束"})
    if until <= term.expires_on:
        raise ValidationError({"extended_until": "延期日期应晚于任期届满日期"})
    if until > add_years(term.expires_on, 1):
        raise ValidationError({"extended_until": "延期换届一般不超过 1 年"})
    term.extended_until = until
    if note:
        term.note = note
    term.save(update_fields=["extended_until", "note"])
    return term


@transaction.atomic
def position_assign(
    *,
    term: CommitteeTerm,
    position: str,
    person_name: str,
    start_on: date,
    member: Any = None,
    user: Any = None,
) -> Position:
    """Put a person in a position. A sole holder of 书记 is replaced: the old row gets an end date."""
    authorize(user, term.organization)
    if term.ended_on is not None:
        raise ValidationError({"term": "该届已结束，不能再任命职务"})
    if position not in PositionCode.values:
        raise ValidationError({"position": "未知的职务"})
    if start_on < term.elected_on:
        raise ValidationError({"start_on": "任职日期不能早于本届选举日期"})
    if member is not None and member.organization.path[: len(term.organization.path)] != term.organization.path:
        raise ValidationError({"member": "该党员不属于本组织"})
    if position in (PositionCode.SECRETARY,):
        Position.objects.filter(term=term, position=position, end_on__isnull=True).update(end_on=start_on)
    return Position.objects.create(
        term=term,
        position=position,
        person_name=person_name or (member.name if member else ""),
        member=member,
        start_on=start_on,
    )


@transaction.atomic
def position_end(*, position: Position, end_on: date, user: Any = None) -> Position:
    authorize(user, position.term.organization)
    if end_on < position.start_on:
        raise ValidationError({"end_on": "离任日期不能早于任职日期"})
    position.end_on = end_on
    position.save(update_fields=["end_on"])
    return position


@transaction.atomic
def organization_delete(*, org: Organization, user: Any = None) -> None:
    """Delete an empty organization. One with sub-organizations or members is refused."""
    authorize(user, org)
    if Organization.objects.children_of(org).exists():
        raise ValidationError({"organization": "该组织下还有下级组织，不能删除"})
    if org.members.exists():
        raise ValidationError({"organization": "该组织还有党员或发展对象，请先转出后再删除"})
    audit_log(event="organization_delete", obj=org, organization=None, detail={"name": org.name})
    try:
        org.delete()
    except ProtectedError as exc:  # e.g. meeting records (存档备查) still point at it
        raise ValidationError({"organization": "该组织还有会议记录等存档资料，不能删除"}) from exc
