"""Error pages that answer JSON under /api/ (unknown paths, uncaught errors) and HTML elsewhere."""

from __future__ import annotations

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
