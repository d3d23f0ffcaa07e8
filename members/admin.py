from django.contrib import admin

from members.models import ImportBatch, Member, MemberTransfer


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    """Break-glass only: the admin shows masked numbers; ciphertexts and blind indexes are hidden."""

    list_display = ("name", "organization", "stage", "membership_status", "id_number_masked", "phone_masked")
    raw_id_fields = ("organization", "user", "party_group")
    list_filter = ("stage", "membership_status", "is_lost_contact", "is_mobile", "is_abroad")
    readonly_fields = ("id_number_masked", "phone_masked")
    # The birth date is digits 7–14 of the ID number: not shown beside the mask (#21.1).
    exclude = ("birth_date",)
    search_fields = ("name",)


@admin.register(MemberTransfer)
class MemberTransferAdmin(admin.ModelAdmin):
    list_display = ("member", "kind", "status", "from_organization", "to_organization", "issued_on", "decided_on")
    list_filter = ("kind", "status")
    raw_id_fields = ("member", "from_organization", "to_organization", "created_by", "decided_by")


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("file_name", "organization", "status", "row_count", "error_count", "committed_count", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("organization", "created_by")
    exclude = ("errors",)
