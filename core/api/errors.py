"""Error pages that answer JSON under /api/ (unknown paths, uncaught errors) and HTML elsewhere.

An API client never gets the HTML "系统错误" page: an unknown path is a JSON 404, an uncaught error
a JSON 500, a lost database a JSON 503 (``Retry-After``), each naming the request id.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

API_PREFIX = "/api/"


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: an unknown path under /api/ is ``{"detail": …}`` with 404, like the API's own 404s."""
    if is_api_request(request):
        return JsonResponse({"detail": "未找到该接口或对象"}, status=404, json_dumps_params={"ensure_ascii": False})
    return defaults.page_not_found(request, exception)


# Errors that mean the database (or the connection to it) is unavailable, not that the code failed.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: under /api/ a JSON answer, 503 with ``Retry-After`` when the database is
    unavailable (restarting, connection lost), else 500; both carry the request id, which is also
    in the server's log line (``[request_id]``) and in the ``X-Request-ID`` header."""
    exc = sys.exc_info()[1]
    unavailable = isinstance(exc, UNAVAILABLE_ERRORS)
    if not is_api_request(request):
        if unavailable:
            return HttpResponse("系统暂时不可用，请稍后重试。", status=503, content_type="text/plain; charset=utf-8")
        return defaults.server_error(request)
    request_id = getattr(request, "request_id", "") or ""
    if unavailable:
        detail, status = "系统暂时不可用（数据库连接中断），请稍后重试", 503
    else:
        detail, status = "服务器内部错误，已记录，请稍后重试或联系管理员", 500
    response = JsonResponse(
        {"detail": f"{detail}（请求编号 {request_id}）", "request_id": request_id},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )
    if unavailable:
        response["Retry-After"] = "30"
    return response
