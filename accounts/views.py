"""Pages for one's own account (password, two-factor) and for account administration (三员)."""

from __future__ import annotations

import base64
from typing import Any

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services, sessions
from accounts.forms import (
    OtpTokenForm,
    PasswordChangeForm,
    PasswordResetSetForm,
    RoleGrantForm,
    SecurityPolicyForm,
    UserCreateForm,
    UserSearchForm,
)
from accounts.policy import security_policy
from accounts.services import resets, tokens
from audit.services import audit_log
from organizations.models import RoleAssignment

User = get_user_model()
PAGE_SIZE = 50
LOCKOUT_MESSAGE = "登录失败次数过多，该账号或来源地址已被临时锁定，请 {minutes} 分钟后再试，或联系系统管理员解锁。"


def _next_url(request: HttpRequest, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    from django.urls import reverse

    return reverse(default)


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes' AXES_LOCKOUT_CALLABLE: the same message whether or not the username exists."""
    message = LOCKOUT_MESSAGE.format(minutes=security_policy().lockout_cooloff_minutes)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "accounts/lockout.html", {"message": message}, status=429)


# --- one's own account ------------------------------------------------------------------------


class LogoutView(auth_views.LogoutView):
    """Web logout (POST): the session ends, and so does every API token of the user (#21.11)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            tokens.tokens_end_all(user=request.user, reason="web_logout")
        return super().post(request, *args, **kwargs)


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    reason = request.session.get(sessions.PW_CHANGE, "")
    if request.method == "POST" and form.is_valid():
        services.password_change(user=request.user, new_password=form.cleaned_data["new_password1"])
        logout(request)  # the session ends server-side; every other session fails its auth hash
        messages.success(request, "密码已修改，请用新密码重新登录。")
        return redirect("login")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "reason": reason},
    )


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP authenticator: a QR code drawn here (no external service), then one code to confirm."""
    user = request.user
    if sessions.user_has_otp_device(user) and not user.is_verified():
        return redirect("accounts:otp_verify")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="手机验证器", confirmed=False)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            TOTPDevice.objects.filter(user=user, confirmed=True).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            otp_login(request, device)
            request.session[sessions.HAS_OTP] = True
            audit_log(event="otp_enrolled", user=user, obj=user)
            messages.success(request, "两步验证已启用。")
            return redirect(_next_url(request))
        audit_log(event="otp_failed", user=user, outcome="failure", detail={"stage": "enrol"})
        form.add_error("token", "验证码不正确，请核对手机时间后重试")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request, "accounts/otp_setup.html", {"form": form, "qr_svg": _qr_svg(device.config_url), "secret": secret}
    )


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The step after the password for users with a confirmed device."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in devices_for_user(user, confirmed=True):
            if device.verify_token(form.cleaned_data["token"]):
                otp_login(request, device)
                audit_log(event="otp_verified", user=user, obj=user)
                return redirect(_next_url(request))
        audit_log(event="otp_failed", user=user, outcome="failure", detail={"stage": "login"})
        form.add_error("token", "验证码不正确或尝试过于频繁，请稍后重试")
    return render(request, "accounts/otp_verify.html", {"form": form, "next": request.GET.get("next", "")})


# --- administration (sysadmin: accounts; secadmin: roles and security parameters) ---------------


def _require_admin(request: HttpRequest) -> tuple[bool, bool]:
    manage = services.can_manage_accounts(request.user)
    grant = services.can_grant_roles(request.user)
    if not (manage or grant):
        raise PermissionDenied("仅系统管理员和安全管理员可以访问")
    return manage, grant


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    manage, grant = _require_admin(request)
    form = UserSearchForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("查询参数无效")
    q = (form.cleaned_data["q"] or "").strip()
    qs = User.objects.order_by("username").prefetch_related(
        Prefetch("roles", queryset=RoleAssignment.objects.select_related("organization").order_by("role"))
    )
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q))
    if form.cleaned_data["active"] in ("0", "1"):
        qs = qs.filter(is_active=form.cleaned_data["active"] == "1")
    page = Paginator(qs, PAGE_SIZE).get_page(form.cleaned_data["page"] or 1)
    return render(
        request,
        "accounts/user_list.html",
        {
            "form": form,
            "page": page,
            "search": q,
            "can_manage": manage,
            "can_grant": grant,
            "pending_resets": resets.pending_resets(actor=request.user),
        },
    )


@login_required
def user_create(request: HttpRequest) -> HttpResponse:
    if not services.can_manage_accounts(request.user):
        raise PermissionDenied("仅系统管理员可以新建账号")
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, password = services.user_create(
                actor=request.user, username=form.cleaned_data["username"], full_name=form.cleaned_data["full_name"]
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return render(request, "accounts/one_time_password.html", {"target": user, "password": password})
    return render(request, "accounts/user_form.html", {"form": form})


@login_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    manage, grant = _require_admin(request)
    target = get_object_or_404(User, pk=pk)
    assignments = RoleAssignment.objects.filter(user=target).select_related("organization").order_by("role")
    return render(
        request,
        "accounts/user_detail.html",
        {
            "target": target,
            "assignments": assignments,
            "can_manage": manage,
            "can_grant": grant,
            "grant_form": RoleGrantForm(),
            "resets": [r for r in resets.pending_resets(actor=request.user) if r.user_id == target.pk],
            "last_reset": target.password_resets.select_related("requested_by", "approved_by").first(),
        },
    )


def _form_errors(exc: ValidationError) -> str:
    return "；".join(msg for msgs in exc.message_dict.values() for msg in msgs)


RESET_NOTE = (
    "系统会向该账号登记的邮箱发送一次性重置链接，由本人设置新密码；管理员看不到、也设置不了新密码。"
    "本人设置新密码前原密码仍然有效。系统管理员、安全管理员、审计员和组织部门账号的重置须经安全管理员批准。"
)


def reset_minutes() -> int:
    from django.conf import settings

    return settings.PB_PASSWORD_RESET_MINUTES


ACTION_LABELS = {
    "activate": "启用账号",
    "deactivate": "停用账号",
    "reset-password": "发送密码重置链接",
    "unlock": "解除登录锁定",
}


@login_required
def user_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Account actions (sysadmin): GET asks for confirmation, POST does it."""
    if not services.can_manage_accounts(request.user):
        raise PermissionDenied("仅系统管理员可以执行该操作")
    target = get_object_or_404(User, pk=pk)
    if action not in ACTION_LABELS:
        return HttpResponseBadRequest("未知操作")
    if request.method != "POST":
        note = RESET_NOTE if action == "reset-password" else ""
        return render(
            request,
            "accounts/confirm.html",
            {"target": target, "action": action, "label": ACTION_LABELS[action], "note": note},
        )
    try:
        if action == "activate":
            services.user_set_active(actor=request.user, user=target, active=True)
            messages.success(request, "账号已启用")
        elif action == "deactivate":
            services.user_set_active(actor=request.user, user=target, active=False, reason="管理员停用")
            messages.success(request, "账号已停用")
        elif action == "reset-password":
            reset = resets.reset_request(actor=request.user, user=target)
            if reset.status == "pending_approval":
                messages.success(
                    request, "该账号是特权账号，重置申请已提交，须由安全管理员批准后才会向本人发送重置链接"
                )
            else:
                messages.success(
                    request,
                    f"已向 {resets.mask_email(target.email)} 发送一次性重置链接（{reset_minutes()} 分钟内有效，仅可使用一次）",
                )
        elif action == "unlock":
            services.user_unlock(actor=request.user, user=target)
            messages.success(request, "已解除登录锁定")
        else:
            return HttpResponseBadRequest("未知操作")
    except ValidationError as exc:
        messages.error(request, _form_errors(exc))
    return redirect("accounts:user_detail", pk=target.pk)


@login_required
@require_POST
def role_grant(request: HttpRequest, pk: int) -> HttpResponse:
    if not services.can_grant_roles(request.user):
        raise PermissionDenied("仅安全管理员可以分配角色")
    target = get_object_or_404(User, pk=pk)
    form = RoleGrantForm(request.POST)
    if form.is_valid():
        try:
            services.role_grant(
                actor=request.user,
                user=target,
                organization=form.cleaned_data["org_code"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            messages.error(request, _form_errors(exc))
        else:
            messages.success(request, "角色已分配")
            return redirect("accounts:user_detail", pk=target.pk)
    else:
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
    assignments = RoleAssignment.objects.filter(user=target).select_related("organization").order_by("role")
    return render(
        request,
        "accounts/user_detail.html",
        {"target": target, "assignments": assignments, "can_manage": False, "can_grant": True, "grant_form": form},
        status=400,
    )


@login_required
@require_POST
def role_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    if not services.can_grant_roles(request.user):
        raise PermissionDenied("仅安全管理员可以撤销角色")
    assignment = get_object_or_404(RoleAssignment.objects.select_related("organization", "user"), pk=pk)
    try:
        services.role_revoke(actor=request.user, assignment=assignment)
    except ValidationError as exc:
        messages.error(request, _form_errors(exc))
    else:
        messages.success(request, "角色已撤销")
    return redirect("accounts:user_detail", pk=assignment.user_id)


@login_required
def security_settings(request: HttpRequest) -> HttpResponse:
    """Security parameters: the secadmin edits; the sysadmin reads."""
    manage, grant = _require_admin(request)
    from accounts.models import SecurityPolicy

    current = security_policy()
    instance = SecurityPolicy.objects.filter(pk=1).first() or SecurityPolicy(**current.__dict__)
    form = SecurityPolicyForm(request.POST or None, instance=instance)
    if request.method == "POST":
        if not grant:
            raise PermissionDenied("仅安全管理员可以修改安全参数")
        if form.is_valid():
            try:
                services.security_policy_update(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, "安全参数已保存")
                return redirect("accounts:security_settings")
    return render(request, "accounts/security_settings.html", {"form": form, "can_edit": grant})


# --- password resets (#21.14) -------------------------------------------------------------------

DECISION_LABELS = {"approve": "批准密码重置", "reject": "驳回密码重置"}


@login_required
def reset_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    """A secadmin approves or rejects a privileged account's reset: GET asks, POST decides."""
    if not services.can_grant_roles(request.user):
        raise PermissionDenied("仅安全管理员可以审批密码重置")
    if decision not in DECISION_LABELS:
        return HttpResponseBadRequest("未知操作")
    reset = next((r for r in resets.pending_resets(actor=request.user) if r.pk == pk), None)
    if reset is None:
        raise Http404("该重置申请不存在、已处理，或须由另一名安全管理员审批")
    if request.method != "POST":
        note = f"申请人：{reset.requested_by.username if reset.requested_by else '—'}；" + (
            "批准后系统向本人邮箱发送一次性重置链接。" if decision == "approve" else "驳回后本次申请作废。"
        )
        return render(
            request,
            "accounts/confirm.html",
            {"target": reset.user, "label": DECISION_LABELS[decision], "note": note},
        )
    try:
        resets.reset_decide(actor=request.user, reset_id=reset.pk, approve=decision == "approve")
    except ValidationError as exc:
        messages.error(request, _form_errors(exc))
    else:
        messages.success(request, "已批准，重置链接已发送给本人" if decision == "approve" else "已驳回该重置申请")
    return redirect("accounts:user_detail", pk=reset.user_id)


RESET_SESSION_KEY = "pb_reset_token"


def password_reset_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the e-mail (public). The token moves into the session and the browser goes on to
    a URL without it, so it does not linger in the address bar, history or a Referer header."""
    request.session[RESET_SESSION_KEY] = token[:100]
    return redirect("accounts:password_reset_set")


def password_reset_set(request: HttpRequest) -> HttpResponse:
    """Set a new password from a reset link (public: the link is the credential, plus TOTP if enrolled)."""
    token = request.session.get(RESET_SESSION_KEY, "")
    reset = resets.reset_for_token(token)
    if reset is None:
        if token:
            resets.reset_link_refused()
        return render(request, "accounts/password_reset_set.html", {"invalid": resets.LINK_INVALID}, status=400)
    form = PasswordResetSetForm(request.POST or None, needs_otp=resets.reset_needs_otp(reset))
    if request.method == "POST" and form.is_valid():
        try:
            resets.reset_complete(
                token=token, new_password=form.cleaned_data["new_password1"], otp=form.cleaned_data.get("otp", "")
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            request.session.pop(RESET_SESSION_KEY, None)
            if request.user.is_authenticated:
                logout(request)
            messages.success(request, "新密码已设置，请用新密码登录。")
            return redirect("login")
    return render(
        request,
        "accounts/password_reset_set.html",
        {"form": form, "target": reset.user},
        status=200 if request.method == "GET" or form.is_valid() else 400,
    )
