from django.contrib import admin

from members.discipline.models import MemberSanction, MembershipStatusChange, RightsSuspension
from members.models import ImportBatch, Member, MemberTransfer


class ReadOnlyAdmin(admin.ModelAdmin):
    """Member data is written through its services only (rules, audit log, roster and dues): the
    admin shows it and changes nothing (#21.5)."""

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Member)
class MemberAdmin(ReadOnlyAdmin):
    """Break-glass only, read-only: masked numbers; ciphertexts and blind indexes are hidden. The
    stage, party dates and status change only through the development pipeline, transfers and the
    status procedures."""

    exclude = ("id_number_cipher", "id_number_hash", "phone_cipher", "phone_hash")

    list_display = ("name", "organization", "stage", "membership_status", "id_number_masked", "phone_masked")
    raw_id_fields = ("organization", "user", "party_group")
    list_filter = ("stage", "membership_status", "is_lost_contact", "is_mobile", "is_abroad")
    readonly_fields = ("id_number_masked", "phone_masked")
    # The birth date is digits 7–14 of the ID number: not shown beside the mask (#21.1).
    exclude = ("birth_date",)
    search_fields = ("name",)


@admin.register(MemberTransfer)
class MemberTransferAdmin(ReadOnlyAdmin):
    list_display = ("member", "kind", "status", "from_organization", "to_organization", "issued_on", "decided_on")
    list_filter = ("kind", "status")
    raw_id_fields = ("member", "from_organization", "to_organization", "created_by", "decided_by")


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("file_name", "organization", "status", "row_count", "error_count", "committed_count", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("organization", "created_by")
    exclude = ("errors",)


@admin.register(MemberSanction)
class MemberSanctionAdmin(ReadOnlyAdmin):
    list_display = ("member", "kind", "decided_on", "until", "basis")
    list_filter = ("kind",)


@admin.register(RightsSuspension)
class RightsSuspensionAdmin(ReadOnlyAdmin):
    list_display = ("member", "reason", "start_on", "end_on")


@admin.register(MembershipStatusChange)
class MembershipStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ("member", "from_status", "to_status", "on", "basis")
    list_filter = ("to_status",)
