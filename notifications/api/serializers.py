from __future__ import annotations

from typing import Any

from rest_framework import serializers

from notifications.models import (
    PERSONAL_CHANNELS,
    RULE_CHANNELS,
    Channel,
    Notice,
    NoticeAudience,
    NoticeKind,
    NoticeRecipient,
    NoticeTarget,
    Notification,
)
from notifications.rules import OPT_OUT_RULES, RULE_CHOICES


class StrictInputSerializer(serializers.Serializer):
    """Unknown fields are a 400, never silently ignored."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            unknown = set(data.keys()) - set(self.fields)
            if unknown:
                raise serializers.ValidationError({name: "不支持的字段" for name in sorted(unknown)})
        return super().to_internal_value(data)


class NotificationOutputSerializer(serializers.ModelSerializer):
    category_display = serializers.CharField(source="get_category_display", read_only=True)
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "category",
            "category_display",
            "rule",
            "title",
            "body",
            "link",
            "level",
            "organization",
            "notice",
            "created_at",
            "read_at",
            "is_read",
        ]


class ReminderSettingOutputSerializer(serializers.Serializer):
    rule = serializers.CharField()
    label = serializers.CharField()
    category = serializers.CharField()
    enabled = serializers.BooleanField()
    offset = serializers.IntegerField(allow_null=True)
    offset_unit = serializers.CharField(allow_null=True)
    grace_days = serializers.IntegerField(allow_null=True)
    day_of_month = serializers.CharField(allow_null=True)
    inherited_from = serializers.IntegerField(allow_null=True)
    overridden_here = serializers.BooleanField()
    user_opt_out = serializers.BooleanField()
    channels = serializers.ListField(child=serializers.CharField(), allow_null=True)


class ReminderSettingInputSerializer(StrictInputSerializer):
    organization = serializers.IntegerField()
    rule = serializers.ChoiceField(choices=RULE_CHOICES)
    enabled = serializers.BooleanField(required=False, allow_null=True, default=None)
    offset = serializers.IntegerField(required=False, allow_null=True, default=None)
    grace_days = serializers.IntegerField(required=False, allow_null=True, default=None)
    day_of_month = serializers.CharField(required=False, allow_blank=True, default="", max_length=4)
    # Outside channels of the rule here ([] = the inbox only); null inherits; omitted keeps.
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=[(c, Channel(c).label) for c in RULE_CHANNELS]),
        required=False,
        allow_null=True,
        max_length=len(RULE_CHANNELS),
    )


class PreferenceSerializer(StrictInputSerializer):
    email_enabled = serializers.BooleanField()
    muted_rules = serializers.ListField(
        child=serializers.ChoiceField(choices=[(rule.code, rule.label) for rule in OPT_OUT_RULES]), max_length=20
    )


class NoticeOutputSerializer(serializers.ModelSerializer):
    read_count = serializers.IntegerField(read_only=True, default=None)
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = Notice
        fields = [
            "id",
            "organization",
            "organization_name",
            "kind",
            "title",
            "body",
            "target",
            "audience",
            "channels",
            "sender_name",
            "recipient_count",
            "offline_count",
            "read_count",
            "created_at",
        ]


class NoticeInputSerializer(StrictInputSerializer):
    organization = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=NoticeKind.choices, default=NoticeKind.WORK_ARRANGEMENT)
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20000)
    target = serializers.ChoiceField(choices=NoticeTarget.choices, default=NoticeTarget.ORGANIZATION)
    audience = serializers.ChoiceField(choices=NoticeAudience.choices, default=NoticeAudience.MEMBERS)
    members = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=5000)
    send_email = serializers.BooleanField(default=False)
    send_webhook = serializers.BooleanField(default=False)
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=[(c, Channel(c).label) for c in PERSONAL_CHANNELS]),
        required=False,
        max_length=len(PERSONAL_CHANNELS),
    )
    client_token = serializers.UUIDField(required=False)


class NoticeRecipientOutputSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = NoticeRecipient
        fields = ["id", "name", "organization", "organization_name", "status"]

    def get_status(self, obj: NoticeRecipient) -> str:
        """read / unread / offline (no login). No read times: reading is never ranked."""
        if obj.notification is None:
            return "offline"
        return "read" if obj.notification.read_at else "unread"


class AddressImportInputSerializer(StrictInputSerializer):
    organization = serializers.IntegerField()
    file = serializers.FileField()
    commit = serializers.BooleanField(default=False)


class AddressImportOutputSerializer(serializers.Serializer):
    rows = serializers.IntegerField(help_text="数据行数")
    errors = serializers.ListField(child=serializers.CharField(), help_text="每一处错误（含行号）")
    saved = serializers.IntegerField(help_text="已保存的人数（仅 commit=true）")
