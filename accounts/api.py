"""API login: username + password (+ a TOTP code for roles that need two factors) → a token.

Tokens expire after the policy's session cap (``ExpiringTokenAuthentication``), are replaced at each
login, and are deleted when the password changes or the account is disabled.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils import timezone
from django_otp import devices_for_user
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import sessions
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
            200: inline_serializer("TokenOutput", {"token": serializers.CharField()}),
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
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        user.last_login = timezone.now()
        user.save(update_fields=["last_login"])
        audit_log(event="login", user=user, detail={"via": "api_token"})
        return Response({"token": token.key}, status=status.HTTP_200_OK)
