"""Break-glass admin for assessments. Ratings, reports and rectification are changed through the
pages and the API (which audit every step); here they are read-only."""

from django.contrib import admin

from assessments.models import (
    AssessmentRound,
    AssessmentScheme,
    DutyReport,
    InspectionReport,
    Rating,
    RatingStep,
    RectificationItem,
    ReportBatch,
    ReportHeading,
    SchemeBand,
    SchemeIndicator,
    SchemeSection,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SectionInline(admin.TabularInline):
    model = SchemeSection
    extra = 0


class BandInline(admin.TabularInline):
    model = SchemeBand
    extra = 0
    raw_id_fields = ("required_indicator",)


@admin.register(AssessmentScheme)
class SchemeAdmin(ReadOnlyAdmin):
    list_display = ("name", "year", "org_type", "version", "status", "total_points", "is_example", "organization")
    list_filter = ("status", "year", "org_type", "is_example")
    inlines = [SectionInline, BandInline]


@admin.register(SchemeIndicator)
class IndicatorAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "section", "kind", "method", "metric_code", "max_points")
    list_filter = ("kind", "method")


@admin.register(AssessmentRound)
class RoundAdmin(ReadOnlyAdmin):
    list_display = ("organization", "year", "scheme", "status", "publicity_days")


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ("organization", "year", "status", "self_total", "review_total", "final_total", "stars", "change")
    list_filter = ("status", "year", "is_direct")
    raw_id_fields = ("organization", "round")


@admin.register(RatingStep)
class RatingStepAdmin(ReadOnlyAdmin):
    list_display = ("rating", "action", "from_status", "to_status", "actor_name", "created_at")
    list_filter = ("action",)


@admin.register(DutyReport)
class DutyReportAdmin(ReadOnlyAdmin):
    list_display = ("organization", "year", "secretary_name", "status", "grade")
    list_filter = ("status", "year")


@admin.register(ReportBatch)
class ReportBatchAdmin(ReadOnlyAdmin):
    list_display = ("organization", "year", "quarter", "status", "done", "failed", "total", "created_at")


@admin.register(InspectionReport)
class InspectionReportAdmin(ReadOnlyAdmin):
    list_display = ("organization", "year", "quarter", "kind", "status", "generated_at", "attempts")
    list_filter = ("status", "kind", "year", "quarter")
    raw_id_fields = ("organization", "batch")


@admin.register(RectificationItem)
class RectificationAdmin(ReadOnlyAdmin):
    list_display = ("organization", "problem", "owner_name", "deadline", "status")
    list_filter = ("status", "source")
    raw_id_fields = ("organization",)


@admin.register(ReportHeading)
class ReportHeadingAdmin(ReadOnlyAdmin):
    list_display = ("organization", "issuer_mark", "number_pattern", "number_year", "number_last")
    raw_id_fields = ("organization",)
