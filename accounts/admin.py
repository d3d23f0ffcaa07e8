"""Django admin (break-glass superusers only): no path that sets or shows another person's secret.

- Users: no "set password" form and no "add user" form (both set a password the admin knows,
  #21.14). A password is reset on 账号管理 → 重置密码, which sends the user a one-time link; the
  admin's password field only shows the hash summary.
- API tokens (#21.11): knox's admin would mint a token for any user and show it; here the rows are
  listed (prefix, user, dates) and can be deleted (revoked), never added or edited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from knox.models import AuthToken

User = get_user_model()

NO_PASSWORD_FORM = "管理后台不提供设置他人密码的功能；请在“账号管理”中为该用户发送一次性重置链接"  # noqa: S105  (a message)


class NoPasswordLinkChangeForm(UserChangeForm):
    """The password field without Django's link to the set-password form."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        password = self.fields.get("password")
        if password is not None:
            password.help_text = (
                "密码只以哈希保存。重置密码请到“账号管理”发送一次性重置链接（特权账号须安全管理员批准）。"
            )


class UserAdmin(DjangoUserAdmin):
    form = NoPasswordLinkChangeForm

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # accounts are created on 账号管理 (a forced change at first login)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        raise PermissionDenied(NO_PASSWORD_FORM)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, UserAdmin)


class AuthTokenAdmin(admin.ModelAdmin):
    list_display = ("token_key", "user", "created", "expiry")
    search_fields = ("token_key", "user__username")
    fields = ("token_key", "user", "created", "expiry")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)
admin.site.register(AuthToken, AuthTokenAdmin)
