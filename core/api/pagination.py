from django.conf import settings
from rest_framework.pagination import PageNumberPagination


class CappedPageNumberPagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` with a hard cap (ASVS V11.1.4)."""

    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE
