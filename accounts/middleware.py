"""Per-request security: absolute session cap, two-factor and forced password change gates,
security headers (CSP, no-store), and audit of authorization failures.

``AccountSecurityMiddleware`` goes right after django_otp's OTPMiddleware;
``SecurityHeadersMiddleware`` goes last (inside WhiteNoise, so static files keep their caching).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode

from accounts import sessions
from audit.services import audit_log

API_PREFIX = "/api/"


def _is_api(request: Any) -> bool:
    return request.path.startswith(API_PREFIX)


def _refuse(request: Any, target: str, message: str, *, next_url: bool = True) -> Any:
    if _is_api(request):
        return JsonResponse({"detail": message}, status=403)
    url = reverse(target)
    if next_url and request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(url)


class AccountSecurityMiddleware:
    """Gates for a logged-in session, in order: absolute cap; second factor; password change; enrolment."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self._open_paths: tuple[str, ...] | None = None

    def open_paths(self) -> tuple[str, ...]:
        if self._open_paths is None:
            self._open_paths = (
                reverse("logout"),
                reverse("accounts:otp_verify"),
                reverse("accounts:otp_setup"),
                reverse("accounts:password_change"),
                settings.STATIC_URL,
            )
        return self._open_paths

    def __call__(self, request: Any) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            refusal = self.check(request, user)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def check(self, request: Any, user: Any) -> Any:
        session = request.session
        now = timezone.now()
        if sessions.EXPIRES_AT not in session:
            sessions.mark_session(request, user)
        if now.timestamp() > session[sessions.EXPIRES_AT]:
            audit_log(
                event="session_expired",
                user=user,
                detail={"login_at": datetime.fromtimestamp(session.get(sessions.AUTH_AT, 0), tz=UTC).isoformat()},
            )
            logout(request)
            if _is_api(request):
                return JsonResponse({"detail": "会话已超过最长时长，请重新登录"}, status=401)
            return HttpResponseRedirect(reverse("login"))
        if request.path.startswith(self.open_paths()):
            return None
        verified = getattr(user, "is_verified", lambda: False)()
        has_device = session.get(sessions.HAS_OTP, False)
        if has_device and not verified:
            return _refuse(request, "accounts:otp_verify", "需要完成两步验证")
        if session.get(sessions.PW_CHANGE):
            return _refuse(request, "accounts:password_change", "请先修改密码")
        if not has_device and not verified and sessions.user_requires_2fa(user):
            return _refuse(request, "accounts:otp_setup", "该角色须先绑定两步验证")
        return None


# Content-Security-Policy (DEP-2). Scripts only from this host (no inline script); styles allow inline
# attributes because templates and htmx swaps use a few; images also as data: URIs (Swagger UI, QR).
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """CSP on every response, ``Cache-Control: no-store`` on every dynamic response (DATA-6),
    and an audit record for each authorization failure (403) of a logged-in user (AUD-1)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CSP)
        if not response.has_header("Cache-Control") or request.path.startswith(API_PREFIX):
            patch_cache_control(response, no_store=True, private=True, max_age=0)
            response.setdefault("Pragma", "no-cache")
        if response.status_code == 403:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                audit_log(
                    event="access_denied",
                    user=user,
                    outcome="failure",
                    detail={"method": request.method, "path": request.path[:200]},
                )
        return response
