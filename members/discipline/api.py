"""API of a member's discipline record: ``/api/v1/members/{id}/sanctions/`` (处分 and 组织处置),
``/rights-suspensions/`` (留置/逮捕) and ``/status-changes/`` (the status procedures). Shown only
to those who may change the member's record (``may_see_discipline``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import VIEW, get_for_user
from core.api.mixins import StrictQueryParamsMixin
from members.api.serializers import StrictInputSerializer
from members.choices import MembershipStatus
from members.discipline import services
from members.discipline.models import (
    MemberSanction,
    MembershipStatusChange,
    RightsSuspension,
    SanctionKind,
    SuspensionReason,
)
from members.discipline.selectors import (
    may_see_discipline,
    member_rights_suspensions,
    member_sanctions,
    member_status_changes,
)
from members.models import Member
from organizations.models import Organization


class SanctionOutputSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    category = serializers.CharField(read_only=True)
    deciding_organization_name = serializers.CharField(source="deciding_label", read_only=True)

    class Meta:
        model = MemberSanction
        fields = [
            "id",
            "member",
            "kind",
            "kind_display",
            "category",
            "decided_on",
            "until",
            "basis",
            "deciding_organization",
            "deciding_organization_name",
            "note",
        ]
        read_only_fields = fields


class SanctionInputSerializer(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=SanctionKind.choices)
    decided_on = serializers.DateField()
    until = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="留党察看、限期改正的期满日期"
    )
    basis = serializers.CharField(max_length=100, help_text="决定的文号")
    deciding_organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True, default=None
    )
    deciding_body = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("deciding_organization") is None and not data.get("deciding_body", "").strip():
            raise serializers.ValidationError(
                {"deciding_organization": "请选择作出决定的党组织，或填写系统外的决定机关"}
            )
        return data


class RightsSuspensionOutputSerializer(serializers.ModelSerializer):
    reason_display = serializers.CharField(source="get_reason_display", read_only=True)

    class Meta:
        model = RightsSuspension
        fields = ["id", "member", "reason", "reason_display", "start_on", "end_on", "basis", "note"]
        read_only_fields = fields


class RightsSuspensionInputSerializer(StrictInputSerializer):
    reason = serializers.ChoiceField(choices=SuspensionReason.choices)
    start_on = serializers.DateField()
    end_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="恢复权利的日期")
    basis = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class StatusChangeOutputSerializer(serializers.ModelSerializer):
    to_status_display = serializers.CharField(source="get_to_status_display", read_only=True)

    class Meta:
        model = MembershipStatusChange
        fields = ["id", "member", "from_status", "to_status", "to_status_display", "on", "basis", "reason"]
        read_only_fields = fields


class StatusChangeInputSerializer(StrictInputSerializer):
    status = serializers.ChoiceField(
        choices=[
            (MembershipStatus.SUSPENDED, "停止党籍"),
            (MembershipStatus.NORMAL, "恢复党籍"),
            (MembershipStatus.REMOVED, "除名"),
            (MembershipStatus.DECEASED, "去世"),
        ],
        help_text="开除党籍请登记处分（sanctions）",
    )
    on = serializers.DateField()
    basis = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


def _member(request: Request, pk: int) -> Member:
    member = get_for_user(Member.objects.select_related("organization"), request.user, VIEW, pk=pk)
    if not may_see_discipline(request.user, member):
        raise PermissionDenied("只有可以修改该党员信息的书记和组织部门可以查看处分和党籍记录")
    return member


class _MemberRecordView(StrictQueryParamsMixin, APIView):
    """A member's discipline records of one kind: GET lists them, POST records one through its service.

    Subclasses name the serializers, the selector and the service; both verbs pass ``_member``'s gate.
    """

    output_serializer: type[serializers.Serializer]
    input_serializer: type[serializers.Serializer]
    listing: Any  # selector(member=...) -> rows
    recording: Any  # service(member=..., recorded_by=..., **validated) -> row

    def get(self, request: Request, pk: int) -> Response:
        member = _member(request, pk)
        return Response(self.output_serializer(self.listing(member=member), many=True).data)

    def post(self, request: Request, pk: int) -> Response:
        member = _member(request, pk)
        serializer = self.input_serializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        row = self.recording(member=member, recorded_by=request.user, **serializer.validated_data)
        return Response(self.output_serializer(row).data, status=status.HTTP_201_CREATED)


def _schema(output: type, input_: type) -> Any:
    return extend_schema_view(
        get=extend_schema(responses=output(many=True)),
        post=extend_schema(request=input_, responses={201: output}),
    )


@_schema(SanctionOutputSerializer, SanctionInputSerializer)
class MemberSanctionsView(_MemberRecordView):
    """党员的处分和组织处置：列表与登记（开除党籍、除名同时办理党籍状态变更）。"""

    output_serializer, input_serializer = SanctionOutputSerializer, SanctionInputSerializer
    listing, recording = staticmethod(member_sanctions), staticmethod(services.member_sanction_record)


@_schema(RightsSuspensionOutputSerializer, RightsSuspensionInputSerializer)
class MemberRightsSuspensionsView(_MemberRecordView):
    """党员被留置、逮捕期间暂停权利（表决权、选举权、被选举权）的记录：列表与登记。"""

    output_serializer, input_serializer = RightsSuspensionOutputSerializer, RightsSuspensionInputSerializer
    listing, recording = staticmethod(member_rights_suspensions), staticmethod(services.rights_suspension_record)


@_schema(StatusChangeOutputSerializer, StatusChangeInputSerializer)
class MemberStatusChangesView(_MemberRecordView):
    """党籍状态变更（停止党籍、恢复党籍、除名、去世）：历史与办理。党籍状态只能经此变更。"""

    output_serializer, input_serializer = StatusChangeOutputSerializer, StatusChangeInputSerializer
    listing, recording = staticmethod(member_status_changes), staticmethod(services.member_status_change)
