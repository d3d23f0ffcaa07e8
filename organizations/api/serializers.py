from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.access import CHANGE, VIEW, user_can
from core.api.output import PlannedOutputMixin
from organizations.choices import OrgType, UnitRelation
from organizations.models import CommitteeTerm, Organization, Position
from organizations.selectors import organization_flags


class OrganizationOutputSerializer(PlannedOutputMixin, serializers.ModelSerializer):
    parent_id = serializers.SerializerMethodField()
    flags = serializers.SerializerMethodField()
    org_type_display = serializers.CharField(source="get_org_type_display", read_only=True)

    class Meta:
        model = Organization
        fields = [
            "id",
            "parent_id",
            "name",
            "short_name",
            "code",
            "org_type",
            "org_type_display",
            "unit_name",
            "unit_relation",
            "is_village_or_community",
            "established_on",
            "contact_name",
            "contact_phone",
            "depth",
            "numchild",
            "flags",
        ]

    def get_parent_id(self, obj: Organization) -> int | None:
        if hasattr(obj, "parent_pk"):  # annotated by organization_with_parent_id (one object's detail)
            return obj.parent_pk
        parents = self.context.get("parent_ids", {})
        return parents.get(obj.parent_path)

    def get_flags(self, obj: Organization) -> list[dict[str, str]]:
        if not hasattr(obj, "full_member_count"):
            return []
        return [flag.__dict__ for flag in organization_flags(obj)]


class OrganizationInputSerializer(serializers.Serializer):
    parent = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all(), allow_null=True, required=False)
    name = serializers.CharField(max_length=200)
    short_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    code = serializers.CharField(max_length=40)
    org_type = serializers.ChoiceField(choices=OrgType.choices)
    unit_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    unit_relation = serializers.ChoiceField(choices=UnitRelation.choices, required=False)
    is_village_or_community = serializers.BooleanField(required=False)
    established_on = serializers.DateField(required=False, allow_null=True)
    contact_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)

    def validate_parent(self, parent: Organization | None) -> Organization | None:
        user = self.context["request"].user
        if parent is not None and not user_can(user, VIEW, parent):
            raise serializers.ValidationError("上级组织不存在")
        if parent is not None and not user_can(user, CHANGE, parent):
            raise serializers.ValidationError("无权在该组织下增设组织")
        return parent

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            unknown = set(data.keys()) - set(self.fields)
            if unknown:
                raise serializers.ValidationError({name: "不支持的字段" for name in unknown})
        return super().to_internal_value(data)


class PositionSerializer(serializers.ModelSerializer):
    position_display = serializers.CharField(source="get_position_display", read_only=True)

    class Meta:
        model = Position
        fields = ["id", "position", "position_display", "person_name", "member", "start_on", "end_on"]


class CommitteeTermSerializer(serializers.ModelSerializer):
    positions = PositionSerializer(many=True, read_only=True)

    class Meta:
        model = CommitteeTerm
        fields = [
            "id",
            "number",
            "kind",
            "elected_on",
            "term_years",
            "expires_on",
            "extended_until",
            "ended_on",
            "note",
            "positions",
        ]
