from django.contrib import admin

from notifications.models import (
    Notice,
    OutboxMessage,
    ReminderBatch,
    ReminderDispatch,
    ReminderRun,
    ReminderSetting,
    WebhookEndpoint,
)


@admin.register(ReminderSetting)
class ReminderSettingAdmin(admin.ModelAdmin):
    list_display = ("organization", "rule", "enabled", "offset", "grace_days", "day_of_month", "updated_at")
    list_filter = ("rule",)
    raw_id_fields = ("organization", "updated_by")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("organization", "kind", "enabled", "updated_at")
    raw_id_fields = ("organization", "updated_by")
    exclude = ("secret",)


@admin.register(ReminderRun)
class ReminderRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "on_date", "trigger", "status", "batch_count", "created_at", "finished_at")
    list_filter = ("status", "trigger")


@admin.register(ReminderBatch)
class ReminderBatchAdmin(admin.ModelAdmin):
    list_display = ("pk", "run", "number", "status", "attempts", "created_count", "claimed_at", "finished_at")
    list_filter = ("status",)
    exclude = ("org_ids",)


@admin.register(ReminderDispatch)
class ReminderDispatchAdmin(admin.ModelAdmin):
    list_display = ("dedupe_key", "rule", "on_date", "created_at")
    list_filter = ("rule",)
    search_fields = ("dedupe_key",)
    raw_id_fields = ("organization",)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Delivery status for operators; message bodies and addresses are not listed."""

    list_display = ("pk", "channel", "status", "attempts", "next_attempt_at", "sent_at", "last_error")
    list_filter = ("channel", "status")
    fields = ("channel", "status", "attempts", "max_attempts", "next_attempt_at", "claimed_at", "sent_at", "last_error")
    readonly_fields = fields


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("title", "organization", "kind", "sender_name", "recipient_count", "created_at")
    raw_id_fields = ("organization", "sender")
