"""Member and transfer API: thin views over selectors and services, all through the access gate."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, Throttled
from rest_framework.request import Request
from rest_framework.response import Response

from audit.throttle import RateLimited, check_rate
from core.access import CHANGE, VIEW, get_for_user
from core.api.filters import validated_filterset
from core.api.mixins import GatedViewMixin
from core.api.pagination import page_window
from core.api.versioning import versioned_edit, with_etag
from core.dates import today
from members import services
from members.api.filters import MemberFilterSet, TransferFilterSet
from members.api.serializers import (
    MemberChangeOutputSerializer,
    MemberFindInputSerializer,
    MemberInputSerializer,
    MemberOutputSerializer,
    MemberRevealInputSerializer,
    TransferDecisionInputSerializer,
    TransferInputSerializer,
    TransferOutputSerializer,
)
from members.choices import TransferKind
from members.models import Member, MemberTransfer
from members.selectors import member_change_history, member_list, member_list_pages, transfer_list


class MemberViewSet(
    GatedViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """党员：列表（按组织子树、人员类别、党籍状态、标记筛选，按姓名搜索）、详情、登记、修改。
    公民身份号码和联系电话一律脱敏；完整号码通过 ``reveal`` 单条查看并记入审计日志。"""

    gated_model = Member
    queryset = Member.objects.none()  # the list's model for the schema; rows come from member_list
    filterset_class = MemberFilterSet
    serializer_class = MemberOutputSerializer

    def get_queryset(self) -> Any:
        return member_list(user=self.request.user, **validated_filterset(self).selector_kwargs())

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filterset = validated_filterset(self)
        selection = filterset.selector_kwargs()
        pages = member_list_pages(
            user=request.user,
            columns=MemberOutputSerializer.own_columns(),
            ordering=filterset.form.cleaned_data.get("ordering") or None,
            **selection,
        )
        if pages is None:  # a search or a flag: through the ORM, only what the rows carry
            pages = self.filter_queryset(
                member_list(user=request.user, **selection).only(*MemberOutputSerializer.columns())
            )
        elif pages.small and (window := page_window(self.paginator, request)) is not None:
            pages.fetch_window(*window)  # the page and its total in one statement
        page = self.paginate_queryset(pages)  # statements compiled once per shape (#20.2)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_object(self) -> Member:
        return get_for_user(member_list(user=self.request.user), self.request.user, VIEW, pk=self.kwargs["pk"])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        member = self.get_object()
        return with_etag(Response(self.get_serializer(member).data), member)

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
        with versioned_edit(request, member):  # If-Match: 428 without, 412 when stale (#17.3)
            serializer = MemberInputSerializer(data=request.data, creating=False, context={"request": request})
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            if not data.get("id_number"):
                data.pop("id_number", None)  # an empty value leaves the stored number as it is
            member = services.member_update(member=member, recorded_by=request.user, **data)
        member = self._annotated(member)
        return with_etag(Response(MemberOutputSerializer(member).data), member)

    @extend_schema(request=MemberInputSerializer, responses={200: MemberOutputSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self.update(request, pk=pk)

    @extend_schema(responses=MemberChangeOutputSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request: Request, pk: str | None = None) -> Response:
        """修改记录：何时、何人、各字段原值 → 新值（证件号码、电话、住址脱敏）；仅限可修改该党员信息的人员。"""
        member = get_for_user(Member, request.user, CHANGE, pk=pk)
        return Response(MemberChangeOutputSerializer(member_change_history(member=member), many=True).data)

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


class TransferViewSet(
    GatedViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """组织关系转接：转出方开具（系统内 / 转出至系统外），接收方接收或退回（须说明原因），
    转出方可撤销或登记回执；系统外转入由接收方登记。"""

    gated_model = MemberTransfer
    queryset = MemberTransfer.objects.none()  # the list's model for the schema; rows come from transfer_list
    filterset_class = TransferFilterSet
    serializer_class = TransferOutputSerializer

    def get_queryset(self) -> Any:
        return transfer_list(user=self.request.user, **validated_filterset(self).selector_kwargs())

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
