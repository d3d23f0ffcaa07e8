"""Writes for member records and 组织关系转接 (transfers).

Services are keyword-only, validate everything first, raise ``ValidationError`` with Chinese
messages keyed by field, write nothing when they refuse, and write the audit log in the same
transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from audit.services import audit_log
from core.access import CHANGE, VIEW, authorize, get_scope, user_can
from core.dates import add_years, today
from core.roles import Role
from members.changes import member_changes, member_snapshot
from members.choices import PARTY_MEMBER_STAGES, MembershipStatus, Stage, TransferKind, TransferStatus
from members.dues.services.ledger import dues_ledger_move
from members.models import Member, MemberTransfer, OrganizationMembership
from members.selectors import ID_NUMBER_TAKEN, member_id_hashes_taken, member_list, member_number_q
from members.validators import id_birth_date, normalize_id_number, validate_id_number, validate_phone
from organizations.choices import OrgType
from organizations.models import Organization

# Fields a page, the API or an import may set directly (the ID number and phone go through
# ``id_number=`` / ``phone=``; the organization changes only through a transfer).
MEMBER_FIELDS = (
    "name",
    "sex",
    "ethnicity",
    "birth_date",
    "education",
    "degree",
    "stage",
    "membership_status",
    "suspended_on",
    "joined_on",
    "full_on",
    "job_post",
    "home_address",
    "is_lost_contact",
    "lost_contact_since",
    "is_mobile",
    "mobile_destination",
    "mobile_since",
    "is_abroad",
    "abroad_since",
    "native_place",
    "league_joined_on",
    "work_started_on",
    "employer",
    "professional_title",
    "is_migrant_worker",
    "dues_category",
    "party_group",
)
# Fields a record edit never changes (#21.5): stage and party dates only through the development
# pipeline, the status only through transfers and the status procedures. Each names its procedure.
PROCEDURE_FIELDS = {
    "stage": "人员类别只能通过发展党员流程变更（发展党员页面，或 POST /api/v1/development/steps/）",
    "joined_on": "加入党组织日期由发展党员流程确定（支部大会接收、上级党委审批），不能直接修改",
    "full_on": "转为正式党员日期由发展党员流程确定（转正审批），不能直接修改",
    "membership_status": (
        "党籍状态只能通过党籍状态变更办理：停止党籍、恢复党籍、除名、去世（“处分与党籍”页面，或 "
        "POST /api/v1/members/{id}/status-changes/），开除党籍登记处分，转出办理组织关系转接"
    ),
    "suspended_on": "停止党籍日期随党籍状态变更（停止党籍）登记，不能直接修改",
}
# Roles that may see a full ID number or phone, one record at a time (see README).
REVEAL_ROLES = frozenset({Role.SECRETARY, Role.ORG_ADMIN})
REVEAL_FIELDS = {"id_number": "view_full_id", "phone": "view_full_phone"}
TRANSFER_TARGET_TYPES = {OrgType.BRANCH, OrgType.JOINT_BRANCH}


class FieldErrors:
    """Collects field errors so one refusal reports every problem at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def member_check_organization(*, organization: Organization, errors: FieldErrors | None = None) -> None:
    own = errors or FieldErrors()
    if organization.org_type == OrgType.GROUP:
        own.add("organization", "党员应编入党支部；党小组请在“所在党小组”中选择")
    elif organization.org_type == OrgType.TEMPORARY_BRANCH:
        own.add("organization", "临时党支部不接收党员组织关系，请在党员所在的党支部登记")
    if errors is None:
        own.raise_if_any()


def member_check_record(member: Member, *, on: date | None = None, errors: FieldErrors | None = None) -> None:
    """Cross-field rules of the record (dates in order, stage and dates consistent, flags complete)."""
    on = on or today()
    own = errors or FieldErrors()
    birth = member.birth_date
    if birth is not None:
        if birth > on:
            own.add("birth_date", "出生日期不能晚于今天")
        elif birth.year < 1900:
            own.add("birth_date", "出生日期超出合理范围")
    dated = {
        "joined_on": "加入党组织日期",
        "full_on": "转为正式党员日期",
        "suspended_on": "停止党籍日期",
        "lost_contact_since": "失去联系日期",
        "mobile_since": "外出日期",
        "abroad_since": "出国（境）日期",
        "league_joined_on": "入团日期",
        "work_started_on": "参加工作日期",
    }
    for field, label in dated.items():
        value = getattr(member, field)
        if value is None:
            continue
        if value > on:
            own.add(field, f"{label}不能晚于今天")
        elif birth is not None and value < birth:
            own.add(field, f"{label}不能早于出生日期")
    if birth is not None and member.joined_on and member.joined_on < add_years(birth, 18):
        own.add("joined_on", "加入党组织时应年满十八岁（党章第一条）")
    if birth is not None and member.league_joined_on and member.league_joined_on < add_years(birth, 14):
        own.add("league_joined_on", "入团时应年满十四周岁")
    if birth is not None and member.work_started_on and member.work_started_on < add_years(birth, 16):
        own.add("work_started_on", "参加工作时应年满十六周岁")
    if member.stage == Stage.FULL:
        if member.joined_on is None:
            own.add("joined_on", "正式党员应填写加入党组织日期")
        if member.full_on is None:
            own.add("full_on", "正式党员应填写转为正式党员日期")
    elif member.stage == Stage.PROBATIONARY:
        if member.joined_on is None:
            own.add("joined_on", "预备党员应填写加入党组织日期（支部大会通过之日）")
        if member.full_on is not None:
            own.add("full_on", "预备党员尚未转正，不应填写转为正式党员日期")
    else:
        if member.joined_on is not None:
            own.add("joined_on", "入党申请人、积极分子和发展对象尚未入党，不应填写加入党组织日期")
        if member.full_on is not None:
            own.add("full_on", "尚未入党，不应填写转为正式党员日期")
    if member.joined_on and member.full_on and member.full_on < member.joined_on:
        own.add("full_on", "转为正式党员日期不能早于加入党组织日期")
    if member.membership_status == MembershipStatus.SUSPENDED and member.suspended_on is None:
        own.add("suspended_on", "停止党籍的应填写停止党籍日期")
    if member.is_lost_contact and member.lost_contact_since is None:
        own.add("lost_contact_since", "标记失联的应填写失去联系日期")
    if member.is_mobile and not member.mobile_destination.strip():
        own.add("mobile_destination", "流动党员应填写外出流向（省/市/县）")
    group = member.party_group
    if group is not None and (group.org_type != OrgType.GROUP or group.parent_path != member.organization.path):
        own.add("party_group", "所选党小组不属于党员所在的党支部")
    if errors is None:
        own.raise_if_any()


def _normalize_flags(member: Member) -> None:
    """Details of a flag that is off are cleared, so the record never contradicts itself."""
    if not member.is_lost_contact:
        member.lost_contact_since = None
    if not member.is_mobile:
        member.mobile_destination = ""
        member.mobile_since = None
    if not member.is_abroad:
        member.abroad_since = None
    if member.membership_status != MembershipStatus.SUSPENDED:
        member.suspended_on = None


def _apply_personal_data(member: Member, *, id_number: Any, phone: Any, errors: FieldErrors, actor: Any) -> None:
    """Validate and seal the ID number and phone (``...`` = leave unchanged, "" = clear phone)."""
    if id_number is not ...:
        try:
            number = validate_id_number(id_number, birth_date=member.birth_date, sex=member.sex, today=today())
        except ValidationError as exc:
            errors.add("id_number", exc.messages[0])
        else:
            member.set_id_number(number)
            if member_id_hashes_taken(actor, [member.id_number_hash], exclude_pk=member.pk):
                errors.add("id_number", ID_NUMBER_TAKEN)
    if phone is not ...:
        if phone in (None, ""):
            member.set_phone("")
        else:
            try:
                member.set_phone(validate_phone(phone))
            except ValidationError as exc:
                errors.add("phone", exc.messages[0])


def _full_clean(member: Member, errors: FieldErrors) -> None:
    try:
        member.full_clean(exclude=["id_number_hash", "import_batch", "user"], validate_unique=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                errors.add(field, message)


@transaction.atomic
def member_create(
    *,
    organization: Organization,
    start_on: date | None = None,
    id_number: Any = ...,
    phone: Any = ...,
    recorded_by: Any = None,
    **fields: Any,
) -> Member:
    """Create a member and open their first roster row (from ``start_on``, default the join date).

    ``recorded_by`` is the acting user (authorized here); ``user`` among ``fields`` is the login
    linked to the record."""
    authorize(recorded_by, organization, message="无权在该党组织登记党员")
    unknown = set(fields) - set(MEMBER_FIELDS) - {"user"}
    if unknown:
        raise ValidationError({field: "不支持的字段" for field in sorted(unknown)})
    errors = FieldErrors()
    member_check_organization(organization=organization, errors=errors)
    member = Member(organization=organization, **fields)
    _normalize_flags(member)
    _apply_personal_data(member, id_number=id_number, phone=phone, errors=errors, actor=recorded_by)
    _full_clean(member, errors)
    member_check_record(member, errors=errors)
    errors.raise_if_any()
    member.save()
    OrganizationMembership.objects.create(
        member=member, organization=organization, start_on=start_on or member.joined_on or today()
    )
    given = set(fields) | {name for name, value in (("id_number", id_number), ("phone", phone)) if value is not ...}
    audit_log(event="member_create", obj=member, organization=organization, detail={"fields": sorted(given)})
    return member


@transaction.atomic
def member_create_with_transfer(
    *, organization: Organization, user: Any, incoming: dict[str, Any] | None = None, **fields: Any
) -> Member:
    """Create a member; with ``incoming`` (letter from outside the system) also record the transfer
    in, and start the roster on the day received."""
    if incoming is None:
        return member_create(organization=organization, recorded_by=user, **fields)
    received_on = incoming.get("received_on") or today()
    member = member_create(organization=organization, start_on=received_on, recorded_by=user, **fields)
    transfer_record_incoming(member=member, user=user, **{**incoming, "received_on": received_on})
    return member


@transaction.atomic
def member_update(
    *, member: Member, id_number: Any = ..., phone: Any = ..., recorded_by: Any = None, **fields: Any
) -> Member:
    """Change a record. The organization changes only through a transfer (组织关系转接); the
    stage, party dates and status only through their procedures (``PROCEDURE_FIELDS``: a changed
    value is refused with the procedure named). ``recorded_by`` is the acting user (authorized here)."""
    authorize(recorded_by, member, message="无权修改该党员的信息")
    if "organization" in fields:
        raise ValidationError({"organization": "调整所在党组织请办理组织关系转接"})
    unknown = set(fields) - set(MEMBER_FIELDS)
    if unknown:
        raise ValidationError({field: "不支持的字段" for field in sorted(unknown)})
    member = Member.objects.select_for_update(of=("self",)).select_related("organization").get(pk=member.pk)
    if member.id_number_cipher and "birth_date" in fields and id_number is ...:
        # The birth date follows the registered ID number. Accepting (or comparing) a date here
        # would tell the editor whether a guess is right without an audited reveal (#21.1).
        raise ValidationError({"birth_date": "已登记公民身份号码的，出生日期按公民身份号码确定；请修改公民身份号码"})
    if id_number is not ... and "birth_date" not in fields:
        fields["birth_date"] = id_birth_date(normalize_id_number(id_number)) or member.birth_date
    changed = sorted(key for key, value in fields.items() if getattr(member, key) != value)
    by_procedure = {key: PROCEDURE_FIELDS[key] for key in changed if key in PROCEDURE_FIELDS}
    if by_procedure:
        raise ValidationError(by_procedure)
    before = member_snapshot(member, changed)
    for key, value in fields.items():
        setattr(member, key, value)
    errors = FieldErrors()
    _normalize_flags(member)
    old_id, old_phone = member.id_number_hash, member.phone_hash
    if id_number is ... and member.id_number_cipher and "sex" in changed:
        # The stored number must still agree with a changed sex (the message names no digit of it).
        try:
            validate_id_number(member.decrypt_id_number(), sex=member.sex)
        except ValidationError:
            errors.add("sex", "性别与已登记的公民身份号码不一致")
    _apply_personal_data(member, id_number=id_number, phone=phone, errors=errors, actor=recorded_by)
    _full_clean(member, errors)
    member_check_record(member, errors=errors)
    errors.raise_if_any()
    member.save()
    if member.id_number_hash != old_id:
        changed.append("id_number")
    if member.phone_hash != old_phone:
        changed.append("phone")
    audit_log(
        event="member_update",
        user=recorded_by,
        obj=member,
        organization=member.organization,
        detail={"fields": changed, "changes": member_changes(before, member, changed)},
    )
    return member


def member_can_reveal(*, user: Any, member: Member) -> bool:
    """Full ID number / phone: secretaries and org_admins who may change the member's record."""
    return get_scope(user).has_any_role(REVEAL_ROLES) and user_can(user, CHANGE, member)


@transaction.atomic
def member_reveal(*, member: Member, user: Any, field: str) -> str:
    """The clear value of one field of one record, for an allowed role; every view is audited."""
    if field not in REVEAL_FIELDS:
        raise ValidationError({"field": "只能查看公民身份号码或联系电话"})
    if not member_can_reveal(user=user, member=member):
        raise ValidationError({"field": "您无权查看完整号码"})
    value = member.decrypt_id_number() if field == "id_number" else member.decrypt_phone()
    audit_log(event=REVEAL_FIELDS[field], user=user, obj=member, organization=member.organization)
    return value


def member_can_search_by_number(*, user: Any) -> bool:
    return get_scope(user).has_any_role(REVEAL_ROLES)


@transaction.atomic
def member_find_by_number(*, user: Any, number: str) -> list[Member]:
    """Members in the user's scope whose full ID number or phone is ``number`` (#21.4): roles that
    may reveal only, every lookup audited (without the number). Views call
    ``audit.throttle.check_rate(action="exact_search")`` first."""
    if not member_can_search_by_number(user=user):
        raise PermissionDenied("您无权按完整号码查找")
    q = member_number_q(number)
    if q is None:
        raise ValidationError({"number": "请输入完整的 18 位公民身份号码或联系电话"})
    found = list(member_list(user=user).filter(q)[:20])
    kind = "id_number" if "id_number_hash" in str(q) else "phone"
    audit_log(event="member_exact_search", user=user, detail={"kind": kind, "found": len(found)})
    return found


@transaction.atomic
def member_move(*, member: Member, organization: Organization, on: date) -> Member:
    """Close the member's open roster row on ``on`` and open one in ``organization``.

    System: takes no acting user and trusts its caller (``transfer_accept``, which authorizes)."""
    if organization.pk == member.organization_id:
        raise ValidationError({"organization": "党员已在该组织"})
    current = OrganizationMembership.objects.select_for_update().filter(member=member, end_on__isnull=True).first()
    if current is not None:
        if on < current.start_on:
            raise ValidationError({"on": "转接日期不能早于转入当前组织的日期"})
        current.end_on = on
        current.save(update_fields=["end_on"])
    OrganizationMembership.objects.create(member=member, organization=organization, start_on=on)
    member.organization = organization
    member.save(update_fields=["organization", "updated_at"])
    return member


# --- 组织关系转接 (JY §25) -------------------------------------------------------------------


def _check_date(
    errors: FieldErrors, field: str, value: date | None, *, label: str, not_before: date | None = None
) -> None:
    if value is None:
        errors.add(field, f"请填写{label}")
        return
    if value > today():
        errors.add(field, f"{label}不能晚于今天")
    if not_before is not None and value < not_before:
        errors.add(field, f"{label}不能早于 {not_before:%Y-%m-%d}")


def _roster_start(member: Member) -> date | None:
    return (
        OrganizationMembership.objects.filter(member=member, end_on__isnull=True)
        .values_list("start_on", flat=True)
        .first()
    )


@transaction.atomic
def transfer_issue(
    *,
    member: Member,
    user: Any,
    kind: str,
    issued_on: date,
    to_organization: Organization | None = None,
    external_organization: str = "",
    letter_number: str = "",
    dues_paid_until: date | None = None,
    note: str = "",
) -> MemberTransfer:
    """The sending side issues a transfer: to an organization in the system (it must accept) or
    out of the system (completed when the 回执 comes back). The member stays where they are."""
    member = Member.objects.select_for_update(of=("self",)).select_related("organization").get(pk=member.pk)
    if not user_can(user, CHANGE, member):
        raise ValidationError({"member": "您无权为该党员办理组织关系转接"})
    errors = FieldErrors()
    if kind not in (TransferKind.INTERNAL, TransferKind.OUTGOING):
        errors.add("kind", "转出只能选择“系统内转接”或“转出至系统外”")
    if member.stage not in PARTY_MEMBER_STAGES:
        errors.add("member", "入党申请人、积极分子和发展对象没有党员组织关系，不能办理转接")
    if member.membership_status != MembershipStatus.NORMAL:
        errors.add("member", f"党籍状态为“{member.get_membership_status_display()}”，不能办理转接")
    if MemberTransfer.objects.filter(member=member, status=TransferStatus.PENDING).exists():
        errors.add("member", "该党员已有一笔待接收的转接，请先办结或撤销")
    if kind == TransferKind.INTERNAL:
        if to_organization is None:
            errors.add("to_organization", "请选择接收党组织")
        elif not Organization.objects.visible_to(user, VIEW).filter(pk=to_organization.pk).exists():
            errors.add("to_organization", "找不到该党组织，或您无权向其转接；系统外的组织请选择“转出至系统外”")
        elif to_organization.pk == member.organization_id:
            errors.add("to_organization", "接收党组织不能是党员当前所在的组织")
        elif to_organization.org_type not in TRANSFER_TARGET_TYPES:
            errors.add("to_organization", "组织关系只能转入党支部或联合党支部")
        external_organization = ""
    else:
        to_organization = None
        if not external_organization.strip():
            errors.add("external_organization", "请填写转往的党组织名称")
        if not letter_number.strip():
            errors.add("letter_number", "请填写介绍信编号")
        if dues_paid_until is None:
            errors.add("dues_paid_until", "请填写党费交至的月份")
    _check_date(errors, "issued_on", issued_on, label="开具日期", not_before=_roster_start(member))
    if dues_paid_until is not None:
        dues_paid_until = dues_paid_until.replace(day=1)
        now = today()
        if (dues_paid_until.year - now.year) * 12 + dues_paid_until.month - now.month > 12:
            errors.add("dues_paid_until", "党费预交一般不超过 12 个月，请核对月份")
    errors.raise_if_any()
    transfer = MemberTransfer.objects.create(
        member=member,
        kind=kind,
        from_organization=member.organization,
        to_organization=to_organization,
        external_organization=external_organization.strip(),
        letter_number=letter_number.strip(),
        dues_paid_until=dues_paid_until,
        issued_on=issued_on,
        note=note,
        created_by=user,
    )
    audit_log(
        event="transfer_issue",
        user=user,
        obj=transfer,
        organization=member.organization,
        detail={"member": member.pk, "kind": kind, "to": to_organization.pk if to_organization else None},
    )
    return transfer


def _pending(transfer: MemberTransfer, kinds: tuple[str, ...]) -> MemberTransfer:
    locked = (
        MemberTransfer.objects.select_for_update(of=("self",))
        .select_related("member", "to_organization")
        .get(pk=transfer.pk)
    )
    if locked.status != TransferStatus.PENDING:
        raise ValidationError({"status": f"该转接已{locked.get_status_display().removeprefix('已')}，不能再办理"})
    if locked.kind not in kinds:
        raise ValidationError({"kind": "该转接类型不支持此操作"})
    return locked


def _can_receive(user: Any, transfer: MemberTransfer) -> bool:
    return transfer.to_organization is not None and user_can(user, CHANGE, transfer.to_organization)


def _can_send(user: Any, transfer: MemberTransfer) -> bool:
    return transfer.from_organization is not None and user_can(user, CHANGE, transfer.from_organization)


def transfer_user_sides(*, user: Any, transfer: MemberTransfer) -> dict[str, bool]:
    """Which actions the user may take on a transfer (for pages and the API)."""
    return {"receive": _can_receive(user, transfer), "send": _can_send(user, transfer)}


@transaction.atomic
def transfer_accept(*, transfer: MemberTransfer, user: Any, on: date) -> MemberTransfer:
    """The receiving side accepts: from ``on`` the member belongs to the receiving organization."""
    transfer = _pending(transfer, (TransferKind.INTERNAL,))
    if not _can_receive(user, transfer):
        raise ValidationError({"to_organization": "只有接收党组织可以办理接收"})
    errors = FieldErrors()
    _check_date(errors, "on", on, label="接收日期", not_before=transfer.issued_on)
    errors.raise_if_any()
    member = Member.objects.select_for_update().get(pk=transfer.member_id)
    member_move(member=member, organization=transfer.to_organization, on=on)
    if member.party_group_id is not None:
        member.party_group = None  # the old branch's 党小组 does not follow the member
        member.save(update_fields=["party_group", "updated_at"])
    # From the month of acceptance the receiving branch collects the dues; the months before stay
    # with the sending branch, which was responsible until now (JY §25, DF08 §9).
    months_moved = dues_ledger_move(member=member, organization=transfer.to_organization, from_month=on)
    transfer.status = TransferStatus.ACCEPTED
    transfer.decided_on = on
    transfer.decided_by = user
    transfer.save(update_fields=["status", "decided_on", "decided_by"])
    audit_log(
        event="transfer_accept",
        user=user,
        obj=transfer,
        organization=transfer.to_organization,
        detail={"member": member.pk, "from": transfer.from_organization_id, "dues_months_moved": months_moved},
    )
    return transfer


@transaction.atomic
def transfer_reject(*, transfer: MemberTransfer, user: Any, reason: str, on: date | None = None) -> MemberTransfer:
    """The receiving side returns the transfer, with a reason (refusing without reason is not allowed)."""
    transfer = _pending(transfer, (TransferKind.INTERNAL,))
    if not _can_receive(user, transfer):
        raise ValidationError({"to_organization": "只有接收党组织可以退回"})
    if not (reason or "").strip():
        raise ValidationError({"reason": "请填写退回原因"})
    transfer.status = TransferStatus.REJECTED
    transfer.reason = reason.strip()
    transfer.decided_on = on or today()
    transfer.decided_by = user
    transfer.save(update_fields=["status", "reason", "decided_on", "decided_by"])
    audit_log(event="transfer_reject", user=user, obj=transfer, organization=transfer.to_organization)
    return transfer


@transaction.atomic
def transfer_cancel(*, transfer: MemberTransfer, user: Any, reason: str) -> MemberTransfer:
    """The sending side withdraws a transfer that has not been received yet."""
    transfer = _pending(transfer, (TransferKind.INTERNAL, TransferKind.OUTGOING))
    if not _can_send(user, transfer):
        raise ValidationError({"from_organization": "只有转出党组织可以撤销"})
    if not (reason or "").strip():
        raise ValidationError({"reason": "请填写撤销原因"})
    transfer.status = TransferStatus.CANCELLED
    transfer.reason = reason.strip()
    transfer.decided_on = today()
    transfer.decided_by = user
    transfer.save(update_fields=["status", "reason", "decided_on", "decided_by"])
    audit_log(event="transfer_cancel", user=user, obj=transfer, organization=transfer.from_organization)
    return transfer


@transaction.atomic
def transfer_complete_outgoing(*, transfer: MemberTransfer, user: Any, receipt_on: date) -> MemberTransfer:
    """The 回执 of an out-of-system transfer came back: the member leaves the roster that day."""
    transfer = _pending(transfer, (TransferKind.OUTGOING,))
    if not _can_send(user, transfer):
        raise ValidationError({"from_organization": "只有转出党组织可以登记回执"})
    errors = FieldErrors()
    _check_date(errors, "receipt_on", receipt_on, label="回执日期", not_before=transfer.issued_on)
    errors.raise_if_any()
    OrganizationMembership.objects.select_for_update().filter(member_id=transfer.member_id, end_on__isnull=True).update(
        end_on=receipt_on
    )
    member = Member.objects.select_for_update().get(pk=transfer.member_id)
    member.membership_status = MembershipStatus.TRANSFERRED_OUT
    member.party_group = None
    member.save(update_fields=["membership_status", "party_group", "updated_at"])
    transfer.status = TransferStatus.COMPLETED
    transfer.receipt_on = receipt_on
    transfer.decided_on = receipt_on
    transfer.decided_by = user
    transfer.save(update_fields=["status", "receipt_on", "decided_on", "decided_by"])
    audit_log(event="transfer_complete", user=user, obj=transfer, organization=transfer.from_organization)
    return transfer


@transaction.atomic
def transfer_record_incoming(
    *,
    member: Member,
    user: Any,
    external_organization: str,
    letter_number: str,
    issued_on: date,
    received_on: date,
    dues_paid_until: date | None = None,
    note: str = "",
) -> MemberTransfer:
    """A member arrived with a letter from outside the system (record created on arrival)."""
    if not user_can(user, CHANGE, member):
        raise ValidationError({"member": "您无权为该党员登记转入"})
    errors = FieldErrors()
    if not (external_organization or "").strip():
        errors.add("external_organization", "请填写原所在党组织")
    if not (letter_number or "").strip():
        errors.add("letter_number", "请填写介绍信编号")
    _check_date(errors, "issued_on", issued_on, label="介绍信开具日期")
    _check_date(errors, "received_on", received_on, label="转入日期", not_before=issued_on)
    errors.raise_if_any()
    transfer = MemberTransfer.objects.create(
        member=member,
        kind=TransferKind.INCOMING,
        status=TransferStatus.COMPLETED,
        to_organization=member.organization,
        external_organization=external_organization.strip(),
        letter_number=letter_number.strip(),
        dues_paid_until=dues_paid_until.replace(day=1) if dues_paid_until else None,
        issued_on=issued_on,
        decided_on=received_on,
        receipt_on=received_on,
        note=note,
        created_by=user,
        decided_by=user,
    )
    audit_log(event="transfer_incoming", user=user, obj=transfer, organization=member.organization)
    return transfer
