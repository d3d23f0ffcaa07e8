"""Member and transfer API: thin views over selectors and services, all through the access gate."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, Throttled, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from audit.throttle import RateLimited, check_rate
from core.access import CHANGE, VIEW, get_for_user
from core.api.mixins import GatedViewMixin
from core.dates import today
from core.numbers import as_id, is_number
from members import services
from members.api.serializers import (
    MemberFindInputSerializer,
    MemberInputSerializer,
    MemberOutputSerializer,
    MemberRevealInputSerializer,
    TransferDecisionInputSerializer,
    TransferInputSerializer,
    TransferOutputSerializer,
)
from members.choices import MembershipStatus, Stage, TransferKind, TransferStatus
from members.models import Member, MemberTransfer
from members.selectors import ATTENTION_FLAGS, member_list, transfer_list
from organizations.models import Organization

ORG_PARAM = OpenApiParameter("organization", int, description="党组织 ID：其下级组织（子树）的党员都包括在内")


def _positive_int(value: str, field: str) -> int:
    if not is_number(value) or int(value) < 1:
        raise ValidationError({field: "应为正整数 ID"})
    return as_id(value)


def _search_param(params: Any) -> str:
    value = params.get("search", "")
    if "\x00" in value:
        raise ValidationError({"search": "搜索内容包含无效字符"})
    return value[:100]


def _choice_param(params: Any, name: str, choices: Any) -> str:
    value = params.get(name, "")
    if value and value not in choices:
        raise ValidationError({name: "不支持的取值"})
    return value


@extend_schema(
    parameters=[
        ORG_PARAM,
        OpenApiParameter("stage", str, enum=Stage.values),
        OpenApiParameter("status", str, enum=MembershipStatus.values),
        OpenApiParameter("flag", str, enum=list(ATTENTION_FLAGS)),
        OpenApiParameter("search", str, description="姓名包含（完整号码请用 POST find/）"),
    ]
)
class MemberViewSet(
    GatedViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """党员：列表（按组织子树、人员类别、党籍状态、标记筛选，按姓名搜索）、详情、登记、修改。
    公民身份号码和联系电话一律脱敏；完整号码通过 ``reveal`` 单条查看并记入审计日志。"""

    gated_model = Member
    allowed_query_params = frozenset({"organization", "stage", "status", "flag", "search"})
    serializer_class = MemberOutputSerializer

    def get_queryset(self) -> Any:
        params = self.request.query_params
        organization = None
        if params.get("organization"):
            pk = _positive_int(params["organization"], "organization")
            organization = get_for_user(Organization, self.request.user, VIEW, pk=pk)
        return member_list(
            user=self.request.user,
            organization=organization,
            stage=_choice_param(params, "stage", Stage.values),
            status=_choice_param(params, "status", MembershipStatus.values),
            flag=_choice_param(params, "flag", ATTENTION_FLAGS),
            search=_search_param(params),
        )

    def get_object(self) -> Member:
        return get_for_user(member_list(user=self.request.user), self.request.user, VIEW, pk=self.kwargs["pk"])

    def _annotated(self, member: Member) -> Member:
        return member_list(user=self.request.user).get(pk=member.pk)

    @extend_schema(request=MemberInputSerializer, responses={201: MemberOutputSerializer})
    def create(self, request: Request) -> Response:
        serializer = MemberInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        member = services.member_create(organization=data.pop("organization"), recorded_by=request.user, **data)
        return Response(MemberOutputSerializer(self._annotated(member)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MemberInputSerializer, responses={200: MemberOutputSerializer})
    def update(self, request: Request, pk: str | None = None) -> Response:
        member = get_for_user(Member, request.user, CHANGE, pk=pk)
        serializer = MemberInputSerializer(data=request.data, creating=False, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if not data.get("id_number"):
            data.pop("id_number", None)  # an empty value leaves the stored number as it is
        member = services.member_update(member=member, recorded_by=request.user, **data)
        return Response(MemberOutputSerializer(self._annotated(member)).data)

    @extend_schema(request=MemberInputSerializer, responses={200: MemberOutputSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self.update(request, pk=pk)

    @extend_schema(
        request=MemberRevealInputSerializer,
        responses=inline_serializer(
            "MemberReveal", {"field": serializers.CharField(), "value": serializers.CharField()}
        ),
    )
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: str | None = None) -> Response:
        """查看完整的公民身份号码或联系电话（书记、组织部门；每次查看记入审计日志）。"""
        member = get_for_user(Member.objects.select_related("organization"), request.user, VIEW, pk=pk)
        serializer = MemberRevealInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        field = serializer.validated_data["field"]
        if not services.member_can_reveal(user=request.user, member=member):
            raise PermissionDenied("您无权查看完整号码")
        _check_rate(request, "reveal")
        value = services.member_reveal(member=member, user=request.user, field=field)
        response = Response({"field": field, "value": value})
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(request=MemberFindInputSerializer, responses={200: MemberOutputSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def find(self, request: Request) -> Response:
        """按完整的公民身份号码或联系电话精确查找（书记、组织部门；号码只在请求体中，限频，记入审计日志）。"""
        if not services.member_can_search_by_number(user=request.user):
            raise PermissionDenied("您无权按完整号码查找")
        serializer = MemberFindInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _check_rate(request, "exact_search")
        found = services.member_find_by_number(user=request.user, number=serializer.validated_data["number"])
        members = member_list(user=request.user).filter(pk__in=[m.pk for m in found])
        response = Response(MemberOutputSerializer(members, many=True).data)
        response["Cache-Control"] = "no-store"
        return response


def _check_rate(request: Request, action_name: str) -> None:
    try:
        check_rate(user=request.user, action=action_name)
    except RateLimited as exc:
        raise Throttled(detail=exc.message) from exc


@extend_schema(
    parameters=[
        OpenApiParameter("status", str, enum=TransferStatus.values),
        OpenApiParameter("kind", str, enum=TransferKind.values),
        OpenApiParameter("direction", str, enum=["in", "out"], description="相对于本人可办理的组织：转入 / 转出"),
        OpenApiParameter("member", int),
    ]
)
class TransferViewSet(
    GatedViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """组织关系转接：转出方开具（系统内 / 转出至系统外），接收方接收或退回（须说明原因），
    转出方可撤销或登记回执；系统外转入由接收方登记。"""

    gated_model = MemberTransfer
    allowed_query_params = frozenset({"status", "kind", "direction", "member"})
    serializer_class = TransferOutputSerializer

    def get_queryset(self) -> Any:
        params = self.request.query_params
        qs = transfer_list(
            user=self.request.user,
            status=_choice_param(params, "status", TransferStatus.values),
            kind=_choice_param(params, "kind", TransferKind.values),
            direction=_choice_param(params, "direction", ("in", "out")),
        )
        if params.get("member"):
            qs = qs.filter(member_id=_positive_int(params["member"], "member"))
        return qs

    def get_object(self) -> MemberTransfer:
        try:
            return transfer_list(user=self.request.user).get(pk=self.kwargs["pk"])
        except (MemberTransfer.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404("对象不存在或无权访问") from exc

    @extend_schema(request=TransferInputSerializer, responses={201: TransferOutputSerializer})
    def create(self, request: Request) -> Response:
        serializer = TransferInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data["kind"] == TransferKind.INCOMING:
            transfer = services.transfer_record_incoming(
                member=data["member"],
                user=request.user,
                external_organization=data["external_organization"],
                letter_number=data["letter_number"],
                issued_on=data["issued_on"],
                received_on=data["received_on"] or today(),
                dues_paid_until=data["dues_paid_until"],
                note=data["note"],
            )
        else:
            data.pop("received_on")
            transfer = services.transfer_issue(user=request.user, **data)
        return Response(TransferOutputSerializer(self._fresh(transfer)).data, status=status.HTTP_201_CREATED)

    def _fresh(self, transfer: MemberTransfer) -> MemberTransfer:
        return MemberTransfer.objects.select_related("member", "from_organization", "to_organization").get(
            pk=transfer.pk
        )

    def _decide(self, request: Request, pk: str | None, decide: Any) -> Response:
        transfer = self.get_object()
        sides = services.transfer_user_sides(user=request.user, transfer=transfer)
        if not (sides["send"] or sides["receive"]):
            raise PermissionDenied("无权办理该转接")
        serializer = TransferDecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decide(transfer, serializer.validated_data)
        return Response(TransferOutputSerializer(self._fresh(transfer)).data)

    @extend_schema(request=TransferDecisionInputSerializer, responses=TransferOutputSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """接收方接收（``on`` 为接收日期，默认今天）：党员自该日起转入接收组织。"""
        return self._decide(
            request,
            pk,
            lambda t, d: services.transfer_accept(transfer=t, user=request.user, on=d["on"] or today()),
        )

    @extend_schema(request=TransferDecisionInputSerializer, responses=TransferOutputSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """接收方退回（``reason`` 必填）。"""
        return self._decide(
            request,
            pk,
            lambda t, d: services.transfer_reject(transfer=t, user=request.user, reason=d["reason"], on=d["on"]),
        )

    @extend_schema(request=TransferDecisionInputSerializer, responses=TransferOutputSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """转出方撤销尚未接收的转接（``reason`` 必填）。"""
        return self._decide(
            request, pk, lambda t, d: services.transfer_cancel(transfer=t, user=request.user, reason=d["reason"])
        )

    @extend_schema(request=TransferDecisionInputSerializer, responses=TransferOutputSerializer)
    @action(detail=True, methods=["post"])
    def receipt(self, request: Request, pk: str | None = None) -> Response:
        """转出至系统外：登记回执（``on`` 为回执日期），党员自该日起转出。"""
        return self._decide(
            request,
            pk,
            lambda t, d: services.transfer_complete_outgoing(
                transfer=t, user=request.user, receipt_on=d["on"] or today()
            ),
        )
