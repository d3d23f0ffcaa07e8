"""API login: username + password (+ a TOTP code for roles that need two factors) → a token; and
the token's own end: logout (this token), logout-all, the list of one's tokens, delete one (#21.11).

Tokens are hashed at rest (django-rest-knox), expire after the policy's session cap
(``ExpiringTokenAuthentication``), and end when the user logs out (API or web), changes or resets
the password, or the account is disabled. See ``accounts.services.tokens``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.http import Http404
from django_otp import devices_for_user
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from knox.models import AuthToken
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import sessions
from accounts.services import tokens
from audit.services import audit_log

INVALID_LOGIN = "用户名或密码不正确"


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    otp = serializers.RegexField(r"^\d{6}$", required=False, error_messages={"invalid": "请输入 6 位数字验证码"})

    def to_internal_value(self, data: Any) -> Any:
        if not hasattr(data, "keys"):
            raise serializers.ValidationError({"non_field_errors": ["请求体应为 JSON 对象"]})
        unknown = set(data.keys()) - set(self.fields)
        if unknown:
            raise serializers.ValidationError({name: "不支持的字段" for name in unknown})
        return super().to_internal_value(data)


class TokenObtainView(APIView):
    """登录并获取令牌。管理类角色（组织部门、书记、审计员、系统管理员、安全管理员）须同时提供 `otp`。"""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes: list[Any] = []

    @extend_schema(
        request=TokenInputSerializer,
        responses={
            200: inline_serializer(
                "TokenOutput",
                {
                    "token": serializers.CharField(help_text="只在此处出现一次；服务器只保存其摘要"),
                    "prefix": serializers.CharField(help_text="令牌前缀，用于列表和注销"),
                    "expiry": serializers.DateTimeField(),
                },
            ),
            400: OpenApiResponse(description="用户名或密码不正确，或字段错误"),
            403: OpenApiResponse(description="需要两步验证码，或须先修改密码"),
            429: OpenApiResponse(description="登录失败次数过多，已临时锁定"),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        django_request = request._request
        user = authenticate(django_request, username=data["username"], password=data["password"])
        if getattr(django_request, "axes_locked_out", False):
            from accounts.views import lockout_response

            return lockout_response(django_request)
        if user is None:
            raise exceptions.ValidationError({"non_field_errors": [INVALID_LOGIN]})
        has_device = sessions.user_has_otp_device(user)
        if has_device or sessions.user_requires_2fa(user):
            if not has_device:
                audit_log(event="login_refused", user=user, outcome="failure", detail={"via": "api", "why": "no_2fa"})
                raise exceptions.PermissionDenied("该角色须先在网页上绑定两步验证后才能使用令牌登录")
            token = data.get("otp")
            if not token:
                audit_log(event="otp_failed", user=user, outcome="failure", detail={"via": "api", "why": "missing"})
                raise exceptions.PermissionDenied({"otp": ["需要两步验证码"]})
            if not any(device.verify_token(token) for device in devices_for_user(user, confirmed=True)):
                audit_log(event="otp_failed", user=user, outcome="failure", detail={"via": "api"})
                raise exceptions.PermissionDenied({"otp": ["验证码不正确或尝试过于频繁"]})
        if sessions.password_change_reason(user):
            audit_log(event="login_refused", user=user, outcome="failure", detail={"via": "api", "why": "password"})
            raise exceptions.PermissionDenied("请先登录网页修改密码")
        instance, key = tokens.token_issue(user=user)
        return Response(
            {"token": key, "prefix": instance.token_key, "expiry": tokens.token_expires_at(instance)},
            status=status.HTTP_200_OK,
        )


NOT_A_TOKEN = "该请求未使用令牌登录；网页会话请从页面退出登录"  # noqa: S105  (a message)


class TokenSerializer(serializers.Serializer):
    prefix = serializers.CharField(source="token_key", help_text="令牌的前 15 个字符")
    created = serializers.DateTimeField()
    expiry = serializers.SerializerMethodField()
    current = serializers.SerializerMethodField(help_text="是否为本次请求所用的令牌")

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_expiry(self, obj: AuthToken) -> Any:
        return serializers.DateTimeField().to_representation(tokens.token_expires_at(obj))

    def get_current(self, obj: AuthToken) -> bool:
        auth = self.context.get("auth")
        return isinstance(auth, AuthToken) and auth.token_key == obj.token_key


class LogoutView(APIView):
    """注销本次请求所用的令牌（之后再用它访问返回 401）。"""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None, 400: OpenApiResponse(description=NOT_A_TOKEN)})
    def post(self, request: Request) -> Response:
        if not isinstance(request.auth, AuthToken):
            raise exceptions.ValidationError({"non_field_errors": [NOT_A_TOKEN]})
        tokens.token_end(user=request.user, prefix=request.auth.token_key, why="logout")
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    """注销本人的全部令牌（所有设备和脚本）。"""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None, responses={200: inline_serializer("LogoutAllOutput", {"ended": serializers.IntegerField()})}
    )
    def post(self, request: Request) -> Response:
        ended = tokens.tokens_end_all(user=request.user, reason="logout_all")
        return Response({"ended": ended}, status=status.HTTP_200_OK)


class TokenListView(APIView):
    """本人的令牌列表：前缀、创建时间、到期时间（不含令牌本身，也无法从中恢复令牌）。"""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: TokenSerializer(many=True)})
    def get(self, request: Request) -> Response:
        rows = tokens.tokens_of(user=request.user)
        return Response(TokenSerializer(rows, many=True, context={"auth": request.auth}).data)


class TokenDetailView(APIView):
    """注销本人的一个令牌（按前缀）。他人的令牌或不存在的前缀返回 404。"""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("prefix", str, OpenApiParameter.PATH, description="令牌前缀")],
        request=None,
        responses={204: None, 404: OpenApiResponse(description="未找到")},
    )
    def delete(self, request: Request, prefix: str) -> Response:
        if not tokens.token_end(user=request.user, prefix=prefix):
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)
