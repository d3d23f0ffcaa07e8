"""Forms: parse and re-display input; the rules themselves live in services."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django import forms

from notifications.models import (
    PERSONAL_CHANNELS,
    RULE_CHANNELS,
    Channel,
    NoticeAudience,
    NoticeKind,
    NoticeTarget,
    WebhookKind,
)
from notifications.rules import OPT_OUT_RULES, RuleDef

ENABLED_CHOICES = [("", "继承上级设置"), ("on", "开启"), ("off", "关闭")]
CHANNEL_MODE_CHOICES = [("", "继承上级设置"), ("choose", "本组织指定（勾选下列渠道）")]


class InboxFilterForm(forms.Form):
    show = forms.ChoiceField(choices=[("", "全部"), ("unread", "未读")], required=False)
    page = forms.IntegerField(min_value=1, required=False)


class ReminderSettingForm(forms.Form):
    enabled = forms.ChoiceField(label="是否启用", choices=ENABLED_CHOICES, required=False)
    offset = forms.IntegerField(label="时间", required=False)
    grace_days = forms.IntegerField(label="宽限天数", required=False)
    day_of_month = forms.CharField(
        label="每月日期", required=False, max_length=4, help_text="1–28 或“月末”（last）；留空表示继承"
    )
    channel_mode = forms.ChoiceField(label="发送渠道", choices=CHANNEL_MODE_CHOICES, required=False)
    channels = forms.MultipleChoiceField(
        label="外发渠道",
        choices=[(c, Channel(c).label) for c in RULE_CHANNELS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="站内消息始终发送；只在已开通的渠道、且本人登记了账号或号码并未关闭时外发。都不勾选即只发站内消息。",
    )

    def __init__(self, *args: Any, rule: RuleDef, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rule = rule
        if rule.has_offset:
            self.fields["offset"].label = f"{rule.offset_label}（{rule.offset_unit_label}）"
            self.fields["offset"].help_text = f"默认 {rule.offset}，留空表示继承"
        else:
            del self.fields["offset"]
        if rule.has_grace:
            self.fields["grace_days"].help_text = f"默认 {rule.grace_days} 天，留空表示继承"
        else:
            del self.fields["grace_days"]
        if not rule.has_day_of_month:
            del self.fields["day_of_month"]
        else:
            self.fields["day_of_month"].help_text = f"默认每月 {rule.day_of_month} 日；可填 1–28 或“月末”，留空表示继承"

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        enabled = {"on": True, "off": False}.get(data.get("enabled") or "")
        return {
            "enabled": enabled,
            "offset": data.get("offset"),
            "grace_days": data.get("grace_days"),
            "day_of_month": data.get("day_of_month") or "",
            # Ticking a channel is choosing; "inherit" with nothing ticked clears the choice.
            "channels": list(chosen) if (chosen := data.get("channels")) or data.get("channel_mode") else None,
        }


class WebhookForm(forms.Form):
    kind = forms.ChoiceField(label="机器人类型", choices=WebhookKind.choices)
    url = forms.CharField(label="Webhook 地址", max_length=500, help_text="以 http:// 或 https:// 开头")
    secret = forms.CharField(
        label="签名密钥",
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="用于 HMAC-SHA256 签名；留空则保留原密钥",
    )
    enabled = forms.BooleanField(label="启用", required=False, initial=True)


class PreferenceForm(forms.Form):
    email_enabled = forms.BooleanField(label="同时通过邮件接收提醒", required=False)
    sms_enabled = forms.BooleanField(label="同时通过短信接收提醒（夜间 21:00–8:00 不发送）", required=False)
    wecom_enabled = forms.BooleanField(label="同时通过企业微信接收提醒", required=False)
    dingtalk_enabled = forms.BooleanField(label="同时通过钉钉接收提醒", required=False)
    muted_rules = forms.MultipleChoiceField(
        label="不接收以下提醒",
        choices=[(rule.code, rule.label) for rule in OPT_OUT_RULES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class NoticeForm(forms.Form):
    organization = forms.TypedChoiceField(label="发送组织", coerce=int)
    target = forms.ChoiceField(label="发送对象", choices=NoticeTarget.choices, initial=NoticeTarget.ORGANIZATION)
    audience = forms.ChoiceField(label="接收人", choices=NoticeAudience.choices, initial=NoticeAudience.MEMBERS)
    kind = forms.ChoiceField(label="类别", choices=NoticeKind.choices, initial=NoticeKind.WORK_ARRANGEMENT)
    title = forms.CharField(label="标题", max_length=200)
    body = forms.CharField(label="正文", widget=forms.Textarea(attrs={"rows": 8}), max_length=20000)
    members = forms.TypedMultipleChoiceField(
        label="指定党员", coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    send_email = forms.BooleanField(label="同时发送邮件（已登记邮箱的人员）", required=False)
    send_webhook = forms.BooleanField(label="同时推送到本组织群机器人", required=False)
    channels = forms.MultipleChoiceField(
        label="同时发送到个人",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="发给登记了号码或账号、且未关闭该渠道的接收人；短信夜间 21:00–8:00 不发，次日 8:00 发出，计入本单位短信额度。",
    )
    client_token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(
        self,
        *args: Any,
        organizations: list[Any],
        members: list[Any],
        personal_channels: list[str] = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = [(org.pk, org.name) for org in organizations]
        if personal_channels:
            self.fields["channels"].choices = [(c, Channel(c).label) for c in personal_channels]
        else:
            del self.fields["channels"]
        self.fields["members"].choices = [(m.pk, f"{m.name}（{m.organization}）") for m in members]


class AddressImportForm(forms.Form):
    file = forms.FileField(
        label="表格文件（XLSX 或 CSV）", help_text="列：登录账号、企业微信账号、钉钉账号；不超过 5 MB"
    )


class CredentialForm(forms.Form):
    channel = forms.ChoiceField(label="渠道", choices=[(c, Channel(c).label) for c in PERSONAL_CHANNELS])
    config = forms.CharField(
        label="配置（JSON）",
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        max_length=5000,
        help_text=(
            '企业微信：{"corp_id": "…", "agent_id": 1000002}；钉钉：{"app_key": "…", "agent_id": 123}；'
            '短信：{"url": "https://…", "method": "POST", "format": "json", "params": {…}, "success_pattern": "…"}。'
            "不要把密钥写在这里。"
        ),
    )
    secret = forms.CharField(
        label="密钥（Secret）",
        max_length=500,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="加密保存，保存后不再显示；留空则保留原密钥",
    )
    enabled = forms.BooleanField(label="启用（停用后使用系统设置）", required=False, initial=True)

    def clean_config(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["config"] or "{}")
        except ValueError as exc:
            raise forms.ValidationError("配置不是有效的 JSON") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("配置应为 JSON 对象（{…}）")
        return value
