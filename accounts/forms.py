from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm

from accounts.models import SecurityPolicy
from accounts.validators import password_rules_text
from core.roles import Role
from organizations.models import Organization


class PasswordChangeForm(DjangoPasswordChangeForm):
    """Django's form (old password, new password twice, AUTH_PASSWORD_VALIDATORS incl. history).
    The rules show once, as the new password's help text (``password_rules_text``: the policy in
    force), not as Django's list of every validator's sentence beside them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = password_rules_text()
        self.fields["new_password2"].help_text = ""


class OtpTokenForm(forms.Form):
    token = forms.RegexField(
        label="验证码",
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": "请输入 6 位数字验证码"},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 8}),
    )

    def clean_token(self) -> str:
        return self.cleaned_data["token"].strip()


class UserSearchForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=100)
    active = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), ("1", "启用"), ("0", "停用")])
    page = forms.IntegerField(required=False, min_value=1)


class UserCreateForm(forms.Form):
    username = forms.RegexField(
        label="用户名",
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": "用户名只能包含字母、数字和 @/./+/-/_"},
    )
    full_name = forms.CharField(label="姓名", max_length=150, required=False)


class RoleGrantForm(forms.Form):
    role = forms.ChoiceField(label="角色", choices=Role.choices)
    org_code = forms.CharField(label="组织代码", max_length=40)

    def clean_org_code(self) -> Organization:
        code = self.cleaned_data["org_code"].strip()
        org = Organization.objects.filter(code=code).first()
        if org is None:
            raise forms.ValidationError("找不到该组织代码")
        return org


class SecurityPolicyForm(forms.ModelForm):
    class Meta:
        model = SecurityPolicy
        fields = [
            "password_max_age_days",
            "password_history_count",
            "lockout_failure_limit",
            "lockout_cooloff_minutes",
            "dormant_days",
            "session_absolute_hours",
            "audit_retention_days",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("inputmode", "numeric")


class PasswordResetSetForm(forms.Form):
    """The new password from a reset link (the password policy is applied by the service)."""

    new_password1 = forms.CharField(
        label="新密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label="再次输入新密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    otp = forms.RegexField(
        label="两步验证码",
        regex=r"^\s*\d{6}\s*$",
        required=False,
        error_messages={"invalid": "请输入 6 位数字验证码"},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 8}),
    )

    def __init__(self, *args: Any, needs_otp: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = password_rules_text()
        if not needs_otp:
            del self.fields["otp"]
        else:
            self.fields["otp"].required = True

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", "两次输入的密码不一致")
        if data.get("otp"):
            data["otp"] = data["otp"].strip()
        return data
