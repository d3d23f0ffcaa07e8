from typing import Any

from django.conf import settings
from rest_framework.pagination import PageNumberPagination

from core.numbers import is_number


class CappedPageNumberPagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` with a hard cap (ASVS V11.1.4)."""

    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE


def page_window(paginator: PageNumberPagination, request: Any) -> tuple[int, int] | None:
    """(offset, limit) of the page the request asks ``paginator`` for, or None when the page
    parameter is not a plain page number (the paginator then answers it as usual)."""
    size = paginator.get_page_size(request)
    raw = request.query_params.get(paginator.page_query_param, "1")
    if not size or not is_number(raw) or int(raw) < 1:
        return None
    return (int(raw) - 1) * size, size
