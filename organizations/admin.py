from django.contrib import admin

from organizations.models import CommitteeTerm, Organization, Position, RoleAssignment


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "org_type", "depth")
    search_fields = ("name", "code")
    list_filter = ("org_type",)
    readonly_fields = ("path", "depth", "numchild")


@admin.register(CommitteeTerm)
class CommitteeTermAdmin(admin.ModelAdmin):
    list_display = ("organization", "number", "elected_on", "expires_on", "ended_on")
    raw_id_fields = ("organization",)


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ("term", "position", "person_name", "start_on", "end_on")
    raw_id_fields = ("term", "member")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "organization")
    raw_id_fields = ("user", "organization")
