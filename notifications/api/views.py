"""Notifications API: the user's own inbox, notices with read receipts, reminder settings and
personal preferences. Thin views over selectors and services, all through the gate."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import VIEW, get_for_user
from core.api.mixins import GatedViewMixin, StrictQueryParamsMixin
from core.numbers import as_id, is_number
from core.uploads import read_sheet_upload
from notifications import selectors
from notifications.api.filters import NotificationFilterSet
from notifications.api.serializers import (
    AddressImportInputSerializer,
    AddressImportOutputSerializer,
    NoticeInputSerializer,
    NoticeOutputSerializer,
    NoticeRecipientOutputSerializer,
    NotificationOutputSerializer,
    PreferenceSerializer,
    ReminderSettingInputSerializer,
    ReminderSettingOutputSerializer,
)
from notifications.models import Notice, Notification
from notifications.services.addresses import LIMITS as ADDRESS_LIMITS
from notifications.services.addresses import channel_address_import
from notifications.services.inbox import notification_mark_all_read, notification_mark_read, preference_update
from notifications.services.notices import notice_send
from notifications.services.reminder_settings import reminder_setting_update
from organizations.models import Organization


class NotificationViewSet(
    StrictQueryParamsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """我的消息：只返回当前用户自己的消息（与角色无关）。"""

    permission_classes = [IsAuthenticated]
    serializer_class = NotificationOutputSerializer
    queryset = Notification.objects.none()  # the list's model for the schema; rows come from the selector
    filterset_class = NotificationFilterSet

    def get_queryset(self) -> Any:
        return selectors.notification_list(user=self.request.user)

    @extend_schema(request=None, responses={200: NotificationOutputSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        """标为已读。"""
        notification = self.get_object()
        notification_mark_read(user=request.user, notification_id=notification.pk)
        notification.refresh_from_db()
        return Response(NotificationOutputSerializer(notification).data)

    @extend_schema(request=None, responses={200: {"type": "object", "properties": {"marked": {"type": "integer"}}}})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        """全部标为已读。"""
        return Response({"marked": notification_mark_all_read(user=request.user)})

    @extend_schema(responses={200: {"type": "object", "properties": {"unread": {"type": "integer"}}}})
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request: Request) -> Response:
        """未读条数（页眉角标）。"""
        return Response({"unread": selectors.unread_count(user=request.user)})


class NoticeViewSet(GatedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """通知：列表与详情（本人可管理范围内发出的），发送，阅读情况（只有已读/未读，不排名）。"""

    gated_model = Notice
    serializer_class = NoticeOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.notice_list(user=self.request.user)

    @extend_schema(request=NoticeInputSerializer, responses={201: NoticeOutputSerializer})
    def create(self, request: Request) -> Response:
        serializer = NoticeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        org = get_for_user(Organization, request.user, VIEW, pk=data.pop("organization"))
        notice = notice_send(sender=request.user, organization=org, member_ids=data.pop("members", []), **data)
        notice = selectors.notice_list(user=request.user).get(pk=notice.pk)
        return Response(NoticeOutputSerializer(notice).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=NoticeRecipientOutputSerializer(many=True))
    @action(detail=True, methods=["get"])
    def recipients(self, request: Request, pk: str | None = None) -> Response:
        """接收人及阅读状态（按组织、姓名排列）。"""
        notice = self.get_object()
        page = self.paginate_queryset(selectors.notice_recipients(notice=notice))
        return self.get_paginated_response(NoticeRecipientOutputSerializer(page, many=True).data)


def _setting_rows(org: Organization) -> list[dict[str, Any]]:
    paths = {o.path: o.pk for o in Organization.objects.filter(path__in=selectors.path_prefixes(org.path))}
    rows = []
    for row in selectors.reminder_settings_for(organization=org):
        eff = row.effective
        rows.append(
            {
                "rule": row.rule.code,
                "label": row.rule.label,
                "category": row.rule.category,
                "enabled": eff.enabled,
                "offset": eff.offset,
                "offset_unit": row.rule.offset_unit if row.rule.has_offset else None,
                "grace_days": eff.grace_days,
                "day_of_month": eff.day_of_month,
                "inherited_from": paths.get(eff.source_path or ""),
                "overridden_here": row.own is not None,
                "user_opt_out": row.rule.user_opt_out,
                "channels": list(eff.channels) if eff.channels is not None else None,
            }
        )
    return rows


class ReminderSettingsView(StrictQueryParamsMixin, APIView):
    """提醒设置：GET ?organization=ID 返回该组织各规则的生效设置；POST 由组织部门（org_admin）
    为本组织及下级组织调整或关闭某条规则（字段全部为空即恢复继承）。"""

    allowed_query_params = frozenset({"organization"})

    @extend_schema(
        parameters=[OpenApiParameter("organization", int, required=True)],
        responses=ReminderSettingOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("organization", "")
        if not is_number(raw):
            raise ValidationError({"organization": "请提供组织 ID"})
        org = get_for_user(Organization, request.user, VIEW, pk=as_id(raw))
        return Response(ReminderSettingOutputSerializer(_setting_rows(org), many=True).data)

    @extend_schema(request=ReminderSettingInputSerializer, responses=ReminderSettingOutputSerializer(many=True))
    def post(self, request: Request) -> Response:
        serializer = ReminderSettingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        org = get_for_user(Organization, request.user, VIEW, pk=data.pop("organization"))
        if not selectors.can_manage_reminders(request.user, org):
            raise PermissionDenied("只有组织部门（党委）工作人员可以调整提醒设置")
        reminder_setting_update(user=request.user, organization=org, **data)
        return Response(ReminderSettingOutputSerializer(_setting_rows(org), many=True).data)


class PreferenceView(StrictQueryParamsMixin, APIView):
    """我的提醒设置：邮件开关与可关闭的提醒（政治生日祝福、学时进度提醒）。"""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PreferenceSerializer)
    def get(self, request: Request) -> Response:
        pref = selectors.preference_for(user=request.user)
        return Response({"email_enabled": pref.email_enabled, "muted_rules": pref.muted_rules})

    @extend_schema(request=PreferenceSerializer, responses=PreferenceSerializer)
    def put(self, request: Request) -> Response:
        serializer = PreferenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pref = preference_update(user=request.user, **serializer.validated_data)
        return Response({"email_enabled": pref.email_enabled, "muted_rules": pref.muted_rules})


class ChannelAddressImportView(StrictQueryParamsMixin, APIView):
    """消息渠道账号导入（企业微信/钉钉账号，XLSX 或 CSV，列：登录账号、企业微信账号、钉钉账号）：
    commit=false 预览，列出每一处错误（含行号），不保存；commit=true 重新检查同一文件，全部保存或
    全部不保存（有错误时 400）。仅组织部门（org_admin），仅本组织及下级组织的党员。"""

    # JSON too: a request without a file is then a 400 with field errors, not a 415.
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        request={"multipart/form-data": AddressImportInputSerializer}, responses=AddressImportOutputSerializer
    )
    def post(self, request: Request) -> Response:
        serializer = AddressImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        org = get_for_user(Organization, request.user, VIEW, pk=data["organization"])
        if not selectors.can_manage_reminders(request.user, org):
            raise PermissionDenied("只有组织部门（党委）工作人员可以导入消息渠道账号")
        upload = read_sheet_upload(data["file"], max_bytes=ADDRESS_LIMITS.max_bytes)
        result = channel_address_import(user=request.user, organization=org, data=upload, commit=data["commit"])
        return Response({"rows": len(result.rows), "errors": result.errors, "saved": result.saved})
