"""Writes for accounts, roles and security parameters (三员: who may do which is checked here).

- sysadmin (or a break-glass superuser): create accounts, activate/deactivate, unlock, ask for a password
  reset (``accounts.services.resets``: a one-time link to the user; privileged accounts need a secadmin);
- secadmin (or a superuser): grant and revoke roles within its subtree, set security parameters.
Every change is written to the audit log in the same transaction.
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import AccountSecurity, SecurityPolicy
from accounts.policy import POLICY_FIELDS, forget_policy, security_policy
from audit.services import audit_log
from core.access import forget_scope, get_scope
from core.roles import ADMIN_ROLES, Role
from members.models import Member
from organizations.models import Organization, RoleAssignment

User = get_user_model()


# --- who may ----------------------------------------------------------------------------------


def can_manage_accounts(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or get_scope(user).is_sysadmin))


def can_grant_roles(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or get_scope(user).is_secadmin))


def can_read_audit(user: Any) -> bool:
    return bool(user.is_authenticated and get_scope(user).is_auditor)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied("无权执行该操作")


def random_password(length: int = 16) -> str:
    """A random password with all four character classes (AUTH-4: no known default passwords)."""
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*-_"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
            and any(not c.isalnum() for c in candidate)
        ):
            return candidate


def _force_password_change(user: Any) -> None:
    AccountSecurity.objects.update_or_create(user=user, defaults={"must_change_password": True})


def _drop_tokens(user: Any, *, reason: str = "") -> None:
    from accounts.services.tokens import tokens_end_all

    tokens_end_all(user=user, reason=reason)


# --- accounts (sysadmin) ----------------------------------------------------------------------


@transaction.atomic
def user_create(*, actor: Any, username: str, full_name: str = "") -> tuple[Any, str]:
    """Create an account with a random one-time password; the user must change it at first login."""
    _require(can_manage_accounts(actor))
    username = username.strip()
    if not username:
        raise ValidationError({"username": "请填写用户名"})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "该用户名已被使用"})
    password = random_password()
    user = User(username=username, first_name=full_name.strip()[:150])
    user.full_clean(exclude=["password"])
    user.set_password(password)
    user.save()
    _force_password_change(user)
    audit_log(event="user_create", user=actor, obj=user, detail={"username": username})
    return user, password


@transaction.atomic
def user_set_active(*, actor: Any, user: Any, active: bool, reason: str = "") -> Any:
    _require(can_manage_accounts(actor))
    if user.pk == actor.pk:
        raise ValidationError({"user": "不能停用或启用自己的账号"})
    if user.is_active == active:
        return user
    user.is_active = active
    if active:
        # Reactivated accounts start a new dormancy period.
        user.last_login = timezone.now()
    user.save(update_fields=["is_active", "last_login"])
    if not active:
        _drop_tokens(user)
    audit_log(
        event="user_activate" if active else "user_deactivate",
        user=actor,
        obj=user,
        detail={"username": user.username, "reason": reason},
    )
    return user


@transaction.atomic
def user_unlock(*, actor: Any, user: Any) -> int:
    """Clear django-axes lockout records for the username."""
    _require(can_manage_accounts(actor))
    from axes.utils import reset

    count = reset(username=user.username) or 0
    audit_log(event="account_unlock", user=actor, obj=user, detail={"username": user.username, "records": count})
    return count


@transaction.atomic
def password_change(*, user: Any, new_password: str) -> None:
    """The user's own change (validated by the caller's form). Tokens end; the view ends the session."""
    user.set_password(new_password)
    user.save()
    _drop_tokens(user)
    audit_log(event="password_change", user=user, obj=user, detail={"username": user.username})


@transaction.atomic
def account_disable_for_member(*, member: Any) -> None:
    """A member transferred out (or otherwise gone) loses their account (AUTH-5)."""
    user = User.objects.select_for_update().filter(pk=member.user_id, is_active=True).first()
    if user is None:
        return
    user.is_active = False
    user.save(update_fields=["is_active"])
    _drop_tokens(user)
    audit_log(
        event="user_deactivate",
        user=None,
        obj=user,
        organization=member.organization,
        detail={"username": user.username, "reason": f"member_{member.membership_status}"},
    )


def accounts_disable_dormant(*, now: datetime | None = None) -> list[str]:
    """Deactivate accounts unused for longer than the policy's dormant_days (AUTH-5).

    Superusers (break-glass accounts, kept sealed) are excluded; the operator reviews them by hand.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=security_policy().dormant_days)
    stale = User.objects.filter(is_active=True, is_superuser=False).filter(
        Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff)
    )
    disabled: list[str] = []
    for user in stale.iterator():
        with transaction.atomic():
            updated = User.objects.filter(pk=user.pk, is_active=True).update(is_active=False)
            if updated:
                _drop_tokens(user)
                audit_log(
                    event="user_deactivate",
                    user=None,
                    obj=user,
                    detail={"username": user.username, "reason": "dormant", "days": security_policy().dormant_days},
                )
                disabled.append(user.username)
    return disabled


# --- roles (secadmin) -------------------------------------------------------------------------


def _check_separation(*, user: Any, role: str) -> None:
    """三员: an admin role is held alone; no user holds two admin roles or an admin and another role."""
    held = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
    if role in ADMIN_ROLES:
        others = held - {role}
        if others:
            labels = "、".join(sorted(Role(r).label for r in others))
            raise ValidationError({"role": f"{Role(role).label}须专人专岗，该账号已有角色：{labels}"})
        if role in held:
            raise ValidationError({"role": f"该账号已是{Role(role).label}，三员角色每人只能分配一次"})
    else:
        admin_held = held & set(ADMIN_ROLES)
        if admin_held:
            label = Role(sorted(admin_held)[0]).label
            raise ValidationError({"role": f"该账号是{label}，三员账号不能兼任其他角色"})


@transaction.atomic
def role_grant(*, actor: Any, user: Any, organization: Organization, role: str) -> RoleAssignment:
    _require(can_grant_roles(actor))
    if role not in Role.values:
        raise ValidationError({"role": "未知的角色"})
    if user.pk == actor.pk:
        raise ValidationError({"user": "不能给自己分配角色"})
    if not actor.is_superuser and not get_scope(actor).allows_org("view", organization, for_org_model=True):
        raise ValidationError({"organization": "该组织不在您的管理范围内"})
    if RoleAssignment.objects.filter(user=user, organization=organization, role=role).exists():
        raise ValidationError({"role": "该账号在该组织已有此角色"})
    _check_separation(user=User.objects.select_for_update().get(pk=user.pk), role=role)
    if (
        role == Role.MEMBER
        and not Member.objects.filter(user=user, organization__path__startswith=organization.path).exists()
    ):
        raise ValidationError({"role": "该账号未关联本组织的党员档案，不能分配党员角色"})
    assignment = RoleAssignment.objects.create(user=user, organization=organization, role=role)
    forget_scope(user)
    audit_log(
        event="role_grant",
        user=actor,
        obj=assignment,
        organization=organization,
        detail={"username": user.username, "role": role},
    )
    return assignment


@transaction.atomic
def role_revoke(*, actor: Any, assignment: RoleAssignment) -> None:
    _require(can_grant_roles(actor))
    if assignment.user_id == actor.pk:
        raise ValidationError({"user": "不能撤销自己的角色"})
    if not actor.is_superuser and not get_scope(actor).allows_org("view", assignment.organization, for_org_model=True):
        raise ValidationError({"organization": "该组织不在您的管理范围内"})
    detail = {"username": assignment.user.username, "role": assignment.role}
    organization = assignment.organization
    assignment.delete()
    forget_scope(assignment.user)
    audit_log(event="role_revoke", user=actor, organization=organization, detail=detail)


# --- security parameters (secadmin) -----------------------------------------------------------


@transaction.atomic
def security_policy_update(*, actor: Any, **values: Any) -> SecurityPolicy:
    _require(can_grant_roles(actor))
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({name: "不支持的参数" for name in unknown})
    current = security_policy()
    row = SecurityPolicy.objects.select_for_update().filter(pk=1).first() or SecurityPolicy(
        pk=1, **{name: getattr(current, name) for name in POLICY_FIELDS}
    )
    changes = {}
    for name, value in values.items():
        old = getattr(row, name)
        if old != value:
            changes[name] = [old, value]
        setattr(row, name, value)
    row.full_clean()
    row.save()
    transaction.on_commit(forget_policy)
    forget_policy()
    if changes:
        audit_log(event="security_setting_change", user=actor, detail={"changes": changes})
    return row
