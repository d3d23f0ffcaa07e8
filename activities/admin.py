"""Django admin for organizational life: read-mostly; records are written through the services
(pages and API) so that counts, credits, study hours and the audit log stay consistent."""

from django.contrib import admin

from activities.models import (
    ActivitySettings,
    AppraisalEntry,
    Attachment,
    Attendance,
    ComplianceRule,
    ComplianceWaiver,
    FollowUp,
    Meeting,
    Plan,
    PlanItem,
    Resolution,
    StudyRecord,
    Talk,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AttendanceInline(ReadOnlyInline):
    model = Attendance
    fields = ("name", "status", "reason", "is_expected", "is_voter", "is_guest")


class ResolutionInline(ReadOnlyInline):
    model = Resolution
    fields = ("order", "title", "kind", "votes_for", "votes_against", "votes_abstain", "outcome")


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = (
        "held_on",
        "organization",
        "meeting_type",
        "title",
        "status",
        "expected_count",
        "present_count",
        "quorum",
    )
    list_filter = ("meeting_type", "status", "quorum")
    search_fields = ("title", "organization__name")
    raw_id_fields = ("organization", "chair", "recorder", "lecturer", "created_by", "updated_by")
    readonly_fields = (
        "expected_count",
        "present_count",
        "leave_count",
        "absent_count",
        "nonvoting_count",
        "voters_expected",
        "voters_present",
        "quorum",
        "finalized_at",
    )
    date_hierarchy = "held_on"
    inlines = [AttendanceInline, ResolutionInline]

    def has_change_permission(self, request, obj=None):
        return False  # edit through the pages or the API (counts, credits and audit stay consistent)


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ("title", "organization", "owner_name", "due_on", "status")
    list_filter = ("status",)
    raw_id_fields = ("organization", "meeting", "resolution", "owner")


@admin.register(ComplianceRule)
class ComplianceRuleAdmin(admin.ModelAdmin):
    list_display = (
        "org_type",
        "kind",
        "period",
        "quarter",
        "minimum",
        "organization",
        "effective_from",
        "effective_until",
        "is_active",
    )
    list_filter = ("org_type", "kind", "period", "is_active")
    raw_id_fields = ("organization", "created_by")


@admin.register(ComplianceWaiver)
class ComplianceWaiverAdmin(admin.ModelAdmin):
    list_display = ("organization", "kind", "period_start", "approved_by", "approved_at")
    raw_id_fields = ("organization", "approved_by")


@admin.register(Talk)
class TalkAdmin(admin.ModelAdmin):
    list_display = ("held_on", "organization", "initiator", "counterpart", "topic")
    raw_id_fields = ("organization", "initiator", "counterpart", "created_by")


@admin.register(StudyRecord)
class StudyRecordAdmin(admin.ModelAdmin):
    list_display = ("studied_on", "member", "source", "hours", "title")
    list_filter = ("source",)
    raw_id_fields = ("member", "organization", "meeting", "entered_by")


@admin.register(AppraisalEntry)
class AppraisalEntryAdmin(admin.ModelAdmin):
    list_display = ("meeting", "member", "grade", "is_probationary")
    raw_id_fields = ("meeting", "member")


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("organization", "year", "quarter", "status")
    raw_id_fields = ("organization",)


@admin.register(PlanItem)
class PlanItemAdmin(admin.ModelAdmin):
    list_display = ("plan", "meeting_type", "planned_on", "title")
    raw_id_fields = ("plan", "meeting")


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("original_name", "meeting", "content_type", "size", "created_at")
    readonly_fields = ("stored_name", "sha256", "size", "content_type")
    raw_id_fields = ("organization", "meeting", "uploaded_by")


@admin.register(ActivitySettings)
class ActivitySettingsAdmin(admin.ModelAdmin):
    list_display = ("organization", "study_points_enabled", "advisory_summary_enabled")
    raw_id_fields = ("organization",)
