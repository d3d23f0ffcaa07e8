"""Password resets (#21.14): a one-time link sent to the user; no admin ever sees or sets a password.

The attack this closes: a sysadmin reset a member's password, was shown the new one, logged in as
the member (the forced change at first login let the sysadmin pick the next password too). Now:

1. The sysadmin asks for a reset (``reset_request``). Nothing about the account changes yet: the
   old password keeps working until the user sets a new one, so a reset cannot lock anyone out.
2. An ordinary account: a link is sent at once. A privileged account (sysadmin, secadmin,
   auditor, org_admin, or a superuser) waits for a secadmin other than the requester and the
   account holder (``reset_decide``: approve or reject) — two people, 三员分立.
3. The link (``/account/reset/<token>/``, 256 random bits) goes by e-mail to the address on the
   account, through Django's e-mail backend (the one the notification e-mails use). It is sent
   from the request, not queued: the outbox would keep the link in clear in the database. Only its
   SHA-256 digest is stored. It expires after ``PB_PASSWORD_RESET_MINUTES`` (30), works once, and
   a newer reset voids older ones. An account with a confirmed TOTP device must also give a code,
   so an intercepted link alone does not take over an administrator's account.
4. The user sets a new password (the full password policy applies, history included). Every
   session (the auth hash changes) and every API token ends. Every step is audited.

No role page and no admin form changes another person's e-mail address (the break-glass superuser
in the Django admin aside), so a sysadmin cannot redirect the link to themselves.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from hmac import compare_digest
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import PasswordReset, ResetStatus
from accounts.services import can_grant_roles, can_manage_accounts
from accounts.services.tokens import tokens_end_all
from audit.services import audit_log
from core.roles import Role
from organizations.models import RoleAssignment

User = get_user_model()

PRIVILEGED_ROLES = frozenset({Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR, Role.ORG_ADMIN})
LINK_INVALID = "重置链接无效、已使用或已过期，请联系系统管理员重新发送"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_privileged(user: Any) -> bool:
    """Accounts whose reset needs a secadmin's approval."""
    if user.is_superuser:
        return True
    return RoleAssignment.objects.filter(user=user, role__in=PRIVILEGED_ROLES).exists()


def mask_email(address: str) -> str:
    name, _, domain = address.partition("@")
    return f"{name[:1]}***@{domain}" if domain else "***"


def pending_resets(*, actor: Any) -> list[PasswordReset]:
    """Privileged resets waiting for approval that ``actor`` (a secadmin) may decide."""
    if not can_grant_roles(actor):
        return []
    rows = PasswordReset.objects.filter(status=ResetStatus.PENDING_APPROVAL).select_related("user", "requested_by")
    return [r for r in rows if r.user_id != actor.pk and r.requested_by_id != actor.pk]


def _void_open(user: Any) -> int:
    return PasswordReset.objects.filter(user=user, status__in=[ResetStatus.PENDING_APPROVAL, ResetStatus.SENT]).update(
        status=ResetStatus.CANCELLED
    )


def reset_request(*, actor: Any, user: Any) -> PasswordReset:
    """A sysadmin asks for ``user``'s password to be reset. Returns the reset: SENT (the link went
    to the user) or PENDING_APPROVAL (a privileged account: a secadmin decides). A refusal is
    audited and leaves nothing behind."""
    if not can_manage_accounts(actor):
        raise PermissionDenied("仅系统管理员可以重置密码")
    try:
        return _reset_request(actor=actor, user=user)
    except ValidationError as exc:
        why = getattr(exc, "pb_why", "refused")
        audit_log(event="password_reset_refused", user=actor, obj=user, outcome="failure", detail={"why": why})
        raise


def _refusal(message: str, why: str) -> ValidationError:
    exc = ValidationError({"user": message})
    exc.pb_why = why  # type: ignore[attr-defined]
    return exc


@transaction.atomic
def _reset_request(*, actor: Any, user: Any) -> PasswordReset:
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise _refusal("该账号已停用，请先启用再重置密码", "inactive")
    if not user.email:
        raise _refusal(
            "该账号未登记电子邮箱，无法发送重置链接；请本人核实身份后由应急管理员在管理后台登记邮箱", "no_email"
        )
    _void_open(user)
    privileged = is_privileged(user)
    reset = PasswordReset.objects.create(
        user=user,
        requested_by=actor,
        privileged=privileged,
        status=ResetStatus.PENDING_APPROVAL if privileged else ResetStatus.SENT,
    )
    audit_log(
        event="password_reset_requested",
        user=actor,
        obj=user,
        detail={"username": user.username, "privileged": privileged, "reset": reset.pk},
    )
    if not privileged:
        _send_link(reset=reset, actor=actor)
    return reset


def reset_decide(*, actor: Any, reset_id: int, approve: bool) -> PasswordReset:
    """A secadmin approves (the link is sent) or rejects a privileged reset. The requester and the
    account holder cannot decide their own."""
    if not can_grant_roles(actor):
        raise PermissionDenied("仅安全管理员可以审批特权账号的密码重置")
    try:
        return _reset_decide(actor=actor, reset_id=reset_id, approve=approve)
    except ValidationError as exc:
        why = getattr(exc, "pb_why", "refused")
        audit_log(event="password_reset_refused", user=actor, outcome="failure", detail={"why": why, "reset": reset_id})
        raise


@transaction.atomic
def _reset_decide(*, actor: Any, reset_id: int, approve: bool) -> PasswordReset:
    reset = PasswordReset.objects.select_for_update().select_related("user").filter(pk=reset_id).first()
    if reset is None or reset.status != ResetStatus.PENDING_APPROVAL:
        raise _refusal("该重置申请不存在或已处理", "not_pending")
    if actor.pk in (reset.user_id, reset.requested_by_id):
        raise _refusal("申请人和账号本人不能审批该重置申请，须由另一名安全管理员审批", "same_person")
    reset.approved_by = actor
    reset.decided_at = timezone.now()
    if not approve:
        reset.status = ResetStatus.REJECTED
        reset.save(update_fields=["approved_by", "decided_at", "status"])
        audit_log(event="password_reset_rejected", user=actor, obj=reset.user, detail={"reset": reset.pk})
        return reset
    reset.status = ResetStatus.SENT
    reset.save(update_fields=["approved_by", "decided_at", "status"])
    audit_log(event="password_reset_approved", user=actor, obj=reset.user, detail={"reset": reset.pk})
    _send_link(reset=reset, actor=actor)
    return reset


def _send_link(*, reset: PasswordReset, actor: Any) -> None:
    """Make the token, keep its digest, e-mail the link. A failed send raises: the caller's
    transaction rolls back, so no unusable reset is left behind."""
    if not reset.user.email:
        raise _refusal("该账号未登记电子邮箱，无法发送重置链接", "no_email")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    minutes = settings.PB_PASSWORD_RESET_MINUTES
    reset.token_digest = _digest(token)
    reset.sent_at = now
    reset.expires_at = now + timedelta(minutes=minutes)
    reset.save(update_fields=["token_digest", "sent_at", "expires_at"])
    user = reset.user
    link = reverse("accounts:password_reset_link", args=[token])
    base = getattr(settings, "PB_SITE_URL", "").rstrip("/")
    body = (
        f"{user.get_full_name() or user.username}，您好：\n\n"
        f"系统管理员为您的账号（{user.username}）发起了密码重置。请在 {minutes} 分钟内打开以下链接设置新密码，"
        f"链接只能使用一次：\n\n{base}{link}\n\n"
        "在您设置新密码之前，原密码仍然有效。如果这不是您本人要求的，请忽略本邮件并告知安全管理员。\n\n"
        "（本邮件由党建工作管理系统自动发送，请勿转发。）"
    )
    try:
        sent = send_mail("[党建工作管理系统] 密码重置链接", body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except OSError as exc:  # smtplib errors are OSErrors: refused, timeouts, disconnects
        raise _refusal("重置链接邮件发送失败，请稍后重试", "mail") from exc
    if sent != 1:
        raise _refusal("重置链接邮件发送失败，请稍后重试", "mail")
    audit_log(
        event="password_reset_sent",
        user=actor,
        obj=user,
        detail={"username": user.username, "to": mask_email(user.email), "minutes": minutes, "reset": reset.pk},
    )


def reset_for_token(token: str) -> PasswordReset | None:
    """The live reset a link's token opens (SENT, not expired), or None."""
    if not token or len(token) > 100:
        return None
    reset = PasswordReset.objects.select_related("user").filter(token_digest=_digest(token)).first()
    if reset is None or not compare_digest(reset.token_digest or "", _digest(token)):
        return None
    if reset.status != ResetStatus.SENT or reset.expires_at is None or reset.expires_at <= timezone.now():
        return None
    if not reset.user.is_active:
        return None
    return reset


def reset_link_refused() -> None:
    """Audit a dead link presented (used, expired, voided or made up)."""
    audit_log(event="password_reset_failed", outcome="failure", detail={"why": "invalid_link"})


def reset_needs_otp(reset: PasswordReset) -> bool:
    from django_otp import user_has_device

    return user_has_device(reset.user, confirmed=True)


def reset_complete(*, token: str, new_password: str, otp: str = "") -> Any:
    """The user, from the link, sets a new password; returns the user. Refusals are audited (outside
    the write's transaction, so the record stays) and change nothing."""
    reset = reset_for_token(token)
    if reset is None:
        reset_link_refused()
        raise ValidationError({"token": LINK_INVALID})
    user = reset.user
    if reset_needs_otp(reset):  # checked before the write: the device's failure throttle must stick
        from django_otp import devices_for_user

        if not otp or not any(d.verify_token(otp) for d in devices_for_user(user, confirmed=True)):
            audit_log(event="password_reset_failed", obj=user, outcome="failure", detail={"why": "otp"})
            raise ValidationError({"otp": "两步验证码不正确或尝试过于频繁"})
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password1": exc.messages}) from exc
    return _reset_finish(reset_id=reset.pk, new_password=new_password)


@transaction.atomic
def _reset_finish(*, reset_id: int, new_password: str) -> Any:
    """Single use: the reset row is locked, re-checked and marked USED with the password change."""
    reset = PasswordReset.objects.select_for_update().select_related("user").get(pk=reset_id)
    if reset.status != ResetStatus.SENT or reset.expires_at is None or reset.expires_at <= timezone.now():
        raise ValidationError({"token": LINK_INVALID})
    user = reset.user
    user.set_password(new_password)
    user.save()
    reset.status = ResetStatus.USED
    reset.used_at = timezone.now()
    reset.save(update_fields=["status", "used_at"])
    tokens_end_all(user=user)
    audit_log(event="password_reset_completed", user=user, obj=user, detail={"reset": reset.pk})
    return user
