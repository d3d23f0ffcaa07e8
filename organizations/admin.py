from django import forms
from django.contrib import admin
from treebeard.admin import TreeAdmin
from treebeard.forms import MoveNodeForm, movenodeform_factory

from organizations.choices import ALLOWED_PARENTS
from organizations.models import CommitteeTerm, Organization, Position, RoleAssignment


class OrganizationAdminForm(MoveNodeForm):
    """treebeard's move-node form (parent and position among siblings), plus the tree rule of
    which type may sit under which (ALLOWED_PARENTS)."""

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        node = data.get("treebeard_ref_node")
        position = data.get("treebeard_position") or ""
        parent = None
        if node is not None:
            parent = node if position.endswith("child") else Organization.objects.parent_of(node)
        org_type = data.get("org_type")
        if org_type and (parent.org_type if parent else None) not in ALLOWED_PARENTS.get(org_type, set()):
            where = parent.get_org_type_display() if parent else "顶层"
            raise forms.ValidationError(f"{where}下不能设立该类别的党组织")
        return data


@admin.register(Organization)
class OrganizationAdmin(TreeAdmin):
    """The tree through treebeard (TreeAdmin + its move-node form): adding or moving an
    organization keeps the materialized path consistent (a plain ModelAdmin cannot set it)."""

    form = movenodeform_factory(
        Organization,
        form=OrganizationAdminForm,
        fields=[
            "name",
            "short_name",
            "code",
            "org_type",
            "unit_name",
            "unit_relation",
            "is_village_or_community",
            "established_on",
            "contact_name",
            "contact_phone",
        ],
    )
    list_display = ("name", "code", "org_type", "depth")
    search_fields = ("name", "code")
    list_filter = ("org_type",)


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
