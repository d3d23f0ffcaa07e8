"""Serializers for member records and transfers. Output is masked; input rejects unknown fields."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.access import CHANGE, VIEW
from core.api.output import PlannedOutputMixin
from core.dates import today
from members.choices import (
    Degree,
    DuesCategory,
    Education,
    Ethnicity,
    JobPost,
    MembershipStatus,
    Sex,
    Stage,
    TransferKind,
)
from members.models import Member, MemberTransfer
from members.selectors import member_flags
from organizations.models import Organization


class StrictInputSerializer(serializers.Serializer):
    """Unknown fields are a 400, never silently ignored (mass assignment, ASVS V5.1.2)."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            unknown = set(data.keys()) - set(self.fields)
            if unknown:
                raise serializers.ValidationError({name: "不支持的字段" for name in sorted(unknown)})
        return super().to_internal_value(data)


class MemberOutputSerializer(PlannedOutputMixin, serializers.ModelSerializer):
    """A member as the API shows it: 公民身份号码 and 联系电话 masked, never in clear."""

    organization_name = serializers.SerializerMethodField()
    party_group_name = serializers.SerializerMethodField()
    stage_display = serializers.CharField(source="get_stage_display", read_only=True)
    membership_status_display = serializers.CharField(source="get_membership_status_display", read_only=True)
    has_pending_transfer = serializers.SerializerMethodField()
    flags = serializers.SerializerMethodField()
    # The year only: the birth date is digits 7–14 of the ID number (#21.1, docs/privacy.md).
    birth_year = serializers.IntegerField(source="birth_date.year", read_only=True)
    # Optional choices are "" when not filled in (read-only model fields lose allow_blank, so the schema needs it here).
    ethnicity = serializers.ChoiceField(choices=Ethnicity.choices, allow_blank=True, read_only=True)
    education = serializers.ChoiceField(choices=Education.choices, allow_blank=True, read_only=True)
    job_post = serializers.ChoiceField(choices=JobPost.choices, allow_blank=True, read_only=True)
    degree = serializers.ChoiceField(choices=Degree.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Member
        fields = [
            "id",
            "name",
            "sex",
            "ethnicity",
            "id_number_masked",
            "birth_year",
            "education",
            "degree",
            "stage",
            "stage_display",
            "organization",
            "organization_name",
            "party_group",
            "party_group_name",
            "joined_on",
            "full_on",
            "job_post",
            "phone_masked",
            "home_address",
            "membership_status",
            "membership_status_display",
            "suspended_on",
            "is_lost_contact",
            "lost_contact_since",
            "is_mobile",
            "mobile_destination",
            "mobile_since",
            "is_abroad",
            "abroad_since",
            "native_place",
            "league_joined_on",
            "work_started_on",
            "employer",
            "professional_title",
            "is_migrant_worker",
            "dues_category",
            "has_pending_transfer",
            "flags",
        ]
        read_only_fields = fields

    @classmethod
    def columns(cls) -> list[str]:
        """What the output reads, for ``only()`` on a list (#20.2): the model fields it lists, the
        birth date (for the year) and the names of the organization and the 党小组. The ciphertexts,
        hashes and bookkeeping columns stay in the database."""
        concrete = {f.name for f in Member._meta.concrete_fields}
        own = [name for name in cls.Meta.fields if name in concrete]
        return [*own, "birth_date", "organization__name", "party_group__name"]

    @classmethod
    def own_columns(cls) -> list[str]:
        """``columns()`` without the joined names (a compiled page annotates them)."""
        return [name for name in cls.columns() if "__" not in name]

    # The names come annotated on the rows of a compiled page (members.selectors.member_list_pages),
    # else from the joined organization and 党小组.
    def get_organization_name(self, obj: Member) -> str:
        name = obj.__dict__.get("organization_name")
        return name if name is not None else obj.organization.name

    def get_party_group_name(self, obj: Member) -> str:
        if not obj.party_group_id:
            return ""
        name = obj.__dict__.get("party_group_name")
        return name if name is not None else obj.party_group.name

    def get_has_pending_transfer(self, obj: Member) -> bool:
        return bool(getattr(obj, "has_pending_transfer", False))

    def get_flags(self, obj: Member) -> list[dict[str, str]]:
        on = self.__dict__.get("_flags_on")
        if on is None:
            on = self.__dict__["_flags_on"] = today()  # one day for the whole list, read once
        return [flag.__dict__ for flag in member_flags(obj, on=on)]


def _choice(choices: Any, **kwargs: Any) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=choices.choices, **kwargs)


class MemberInputSerializer(StrictInputSerializer):
    """Create (``organization``, ``name``, ``sex``, ``birth_date``, ``stage``, ``id_number`` required)
    or update (every field optional; the organization changes only through a transfer)."""

    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    name = serializers.CharField(max_length=50)
    sex = _choice(Sex)
    ethnicity = _choice(Ethnicity, required=False, allow_blank=True)
    id_number = serializers.CharField(max_length=30, write_only=True)
    birth_date = serializers.DateField()
    education = _choice(Education, required=False, allow_blank=True)
    degree = _choice(Degree, required=False, allow_blank=True)
    stage = _choice(Stage)
    party_group = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True
    )
    joined_on = serializers.DateField(required=False, allow_null=True)
    full_on = serializers.DateField(required=False, allow_null=True)
    job_post = _choice(JobPost, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, write_only=True)
    home_address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    membership_status = _choice(MembershipStatus, required=False)
    suspended_on = serializers.DateField(required=False, allow_null=True)
    is_lost_contact = serializers.BooleanField(required=False)
    lost_contact_since = serializers.DateField(required=False, allow_null=True)
    is_mobile = serializers.BooleanField(required=False)
    mobile_destination = serializers.CharField(max_length=100, required=False, allow_blank=True)
    mobile_since = serializers.DateField(required=False, allow_null=True)
    is_abroad = serializers.BooleanField(required=False)
    abroad_since = serializers.DateField(required=False, allow_null=True)
    native_place = serializers.CharField(max_length=50, required=False, allow_blank=True)
    league_joined_on = serializers.DateField(required=False, allow_null=True)
    work_started_on = serializers.DateField(required=False, allow_null=True)
    employer = serializers.CharField(max_length=200, required=False, allow_blank=True)
    professional_title = serializers.CharField(max_length=50, required=False, allow_blank=True)
    is_migrant_worker = serializers.BooleanField(required=False)
    dues_category = _choice(DuesCategory, required=False)

    def __init__(self, *args: Any, creating: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not creating:
            for field in self.fields.values():
                field.required = False

    def validate_organization(self, org: Organization) -> Organization:
        user = self.context["request"].user
        if not Organization.objects.visible_to(user, CHANGE).filter(pk=org.pk).exists():
            raise serializers.ValidationError("找不到该党组织，或您无权在该组织登记党员")
        return org

    def validate_party_group(self, group: Organization | None) -> Organization | None:
        user = self.context["request"].user
        if group is not None and not Organization.objects.visible_to(user, VIEW).filter(pk=group.pk).exists():
            raise serializers.ValidationError("找不到该党小组")
        return group


class MemberRevealInputSerializer(StrictInputSerializer):
    field = serializers.ChoiceField(choices=[("id_number", "公民身份号码"), ("phone", "联系电话")])


class MemberFindInputSerializer(StrictInputSerializer):
    number = serializers.CharField(max_length=30)


class TransferOutputSerializer(serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.name", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    from_organization_name = serializers.CharField(source="from_label", read_only=True)
    to_organization_name = serializers.CharField(source="to_label", read_only=True)

    class Meta:
        model = MemberTransfer
        fields = [
            "id",
            "member",
            "member_name",
            "kind",
            "kind_display",
            "status",
            "status_display",
            "from_organization",
            "from_organization_name",
            "to_organization",
            "to_organization_name",
            "external_organization",
            "letter_number",
            "dues_paid_until",
            "issued_on",
            "decided_on",
            "receipt_on",
            "reason",
            "note",
        ]
        read_only_fields = fields


class TransferInputSerializer(StrictInputSerializer):
    """``internal`` (to an organization in the system), ``outgoing`` (out of the system), or
    ``incoming`` (a member who arrived with a letter from outside; ``received_on`` required)."""

    member = serializers.PrimaryKeyRelatedField(queryset=Member.objects.select_related("organization"))
    kind = serializers.ChoiceField(choices=TransferKind.choices)
    to_organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True
    )
    external_organization = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    letter_number = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    dues_paid_until = serializers.DateField(required=False, allow_null=True, default=None)
    issued_on = serializers.DateField()
    received_on = serializers.DateField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate_member(self, member: Member) -> Member:
        user = self.context["request"].user
        if not Member.objects.visible_to(user, CHANGE).filter(pk=member.pk).exists():
            raise serializers.ValidationError("找不到该党员，或您无权为其办理转接")
        return member

    def validate_to_organization(self, org: Organization | None) -> Organization | None:
        user = self.context["request"].user
        if org is not None and not Organization.objects.visible_to(user, VIEW).filter(pk=org.pk).exists():
            raise serializers.ValidationError("找不到该党组织，或您无权向其转接")
        return org


class TransferDecisionInputSerializer(StrictInputSerializer):
    on = serializers.DateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class MemberFieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    old = serializers.CharField(allow_null=True, help_text="原值（脱敏）；早期记录未保存原值时为 null")
    new = serializers.CharField(allow_null=True, help_text="新值（脱敏）")


class MemberChangeOutputSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    event = serializers.CharField()
    action = serializers.CharField()
    by = serializers.CharField(help_text="操作人姓名")
    changes = MemberFieldChangeSerializer(many=True)
